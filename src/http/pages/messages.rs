//! The messages pages: the inbox with its filters, one thread, the compose dialog.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AreaUser, authenticate_form};
use crate::db::Timestamp;
use crate::domain::{Actor, Area, ConversationType, ParticipantType};
use crate::error::AppError;
use crate::http::messages::send::read_multipart;
use crate::messaging::inbox::{self, ListFilter};
use crate::messaging::service;
use crate::messaging::topics::Topic;
use crate::messaging::{ConversationDetail, ConversationSummary, Message, Preferences};
use crate::platform;
use crate::state::AppState;

use super::{Chrome, chrome, messages_url, page_user, render_page};

#[derive(Serialize)]
struct MessageView {
    #[serde(flatten)]
    message: Message,
    mine: bool,
}

#[derive(Serialize)]
struct SelectedView {
    #[serde(flatten)]
    summary: ConversationSummary,
    messages: Vec<MessageView>,
    has_more: bool,
    /// The viewer's own preferences for this conversation.
    muted: bool,
    email_off: bool,
    /// The viewer's side ("store", "customer", "admin") and when each participant of another
    /// side last read: the page shows "Seen" under my last message once one of them passes it.
    me_type: ParticipantType,
    others_read_at: Vec<Timestamp>,
    /// The inbox query of every conversation about the same thing, when it is about something.
    context_query: Option<String>,
    /// The name of its topic, in the reader's language.
    topic_name: Option<String>,
    /// Read by an admin through oversight: no composer, no actions.
    read_only: bool,
    /// What the viewer may do about the platform stepping in.
    can_escalate: bool,
    can_resolve: bool,
    can_write_notes: bool,
}

/// The channels an area's inbox can be filtered by.
fn type_options(area: Area) -> Vec<ComposeType> {
    match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "channel-with-stores",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "channel-with-customers",
            },
            // Every store's conversations with its customers (oversight, where allowed), and
            // the ones the team was asked into.
            ComposeType {
                value: "store_customer",
                recipient: "customer",
                label: "channel-stores-customers",
            },
        ],
        Area::Vendor => vec![
            ComposeType {
                value: "store_customer",
                recipient: "customer",
                label: "channel-with-customers",
            },
            ComposeType {
                value: "admin_store",
                recipient: "admin",
                label: "channel-with-platform",
            },
        ],
        Area::Shop => vec![
            ComposeType {
                value: "store_customer",
                recipient: "team",
                label: "channel-with-store",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "admin",
                label: "channel-with-platform",
            },
        ],
    }
}

/// What the inbox offers for working it: topics, the store's staff, saved replies.
struct Workbench {
    topics: Vec<Topic>,
    staff: Vec<(i64, String)>,
    saved_replies: Vec<crate::messaging::saved_replies::SavedReply>,
}

impl Workbench {
    fn read(conn: &rusqlite::Connection, actor: &Actor) -> Result<Workbench, AppError> {
        Ok(Workbench {
            topics: crate::messaging::topics::list(conn, actor)?,
            staff: match *actor {
                Actor::Staff { store_id, .. } => {
                    crate::messaging::participants::store_staff(conn, store_id)?
                }
                _ => Vec::new(),
            },
            saved_replies: match actor {
                Actor::Customer { .. } => Vec::new(),
                _ => crate::messaging::saved_replies::list(conn, actor)?,
            },
        })
    }
}

/// The conversations the platform lets customers and stores start (platform settings; the seed
/// let neither).
#[derive(Debug, Clone, Copy)]
struct MayStart {
    customers: bool,
    stores_to_platform: bool,
}

impl MayStart {
    fn read(conn: &rusqlite::Connection) -> rusqlite::Result<MayStart> {
        Ok(MayStart {
            customers: platform::flag(conn, platform::CUSTOMERS_MAY_START)?,
            stores_to_platform: platform::flag(conn, platform::STORES_MAY_CONTACT_OPERATOR)?,
        })
    }
}

#[derive(Serialize)]
struct MessagesPage {
    #[serde(flatten)]
    chrome: Chrome,
    conversations: Vec<ConversationSummary>,
    selected: Option<SelectedView>,
    search: String,
    status: String,
    conversation_type: String,
    context_type: String,
    context_id: String,
    type_options: Vec<ComposeType>,
    can_compose: bool,
    can_close: bool,
    compose_types: Vec<ComposeType>,
    /// What a new conversation may be about (the compose dialog's choice).
    context_types: Vec<&'static str>,
    /// What went wrong with the last form post, in words.
    problem: Option<String>,
    /// The topics the reader sees (to filter by, and to file under), and those they may start
    /// a conversation with.
    topics: Vec<Choice>,
    choosable_topics: Vec<Choice>,
    topic: String,
    /// Staff: the assignee filter (`me`, `none`) and whom a conversation can be assigned to.
    assignee: String,
    staff: Vec<Choice>,
    /// Staff and admins: the saved replies the composer offers.
    saved_replies: Vec<Choice>,
}

/// One option of a select: an id and what it shows.
#[derive(Serialize)]
struct Choice {
    id: i64,
    label: String,
}

/// A channel the compose dialog offers, with the recipient kind it needs ("team" where the
/// other side is a whole team and nobody is chosen).
#[derive(Serialize)]
struct ComposeType {
    value: &'static str,
    recipient: &'static str,
    label: &'static str,
}

fn compose_types(area: Area, may: MayStart) -> Vec<ComposeType> {
    let mut types = match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "compose-with-store",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "compose-with-customer",
            },
        ],
        Area::Vendor => vec![ComposeType {
            value: "store_customer",
            recipient: "customer",
            label: "compose-with-customer",
        }],
        Area::Shop => Vec::new(),
    };
    match area {
        Area::Vendor if may.stores_to_platform => types.push(ComposeType {
            value: "admin_store",
            recipient: "team",
            label: "compose-with-platform",
        }),
        Area::Shop if may.customers => types.push(ComposeType {
            value: "store_customer",
            recipient: "team",
            label: "compose-with-your-store",
        }),
        _ => {}
    }
    types
}

#[derive(Deserialize)]
pub(crate) struct InboxQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    status: String,
    #[serde(rename = "type", default)]
    conversation_type: String,
    /// What went wrong with the page's own reply or close form (an error code).
    #[serde(default)]
    problem: String,
    /// Only the conversations about one thing (the thread's "all conversations about this").
    #[serde(default)]
    context_type: String,
    #[serde(default)]
    context_id: String,
    /// A topic's id; `assignee`: `me` or `none`.
    #[serde(default)]
    topic: String,
    #[serde(default)]
    assignee: String,
}

impl InboxQuery {
    /// The list filter the form asks for; what it does not understand filters nothing.
    fn filter(&self, actor: &Actor) -> ListFilter {
        let search = self.search.trim();
        ListFilter {
            conversation_type: self.conversation_type.parse().ok(),
            is_closed: match self.status.as_str() {
                "open" => Some(false),
                "closed" => Some(true),
                _ => None,
            },
            waiting: (self.status == "waiting").then_some(ParticipantType::Store),
            overdue: self.status == "overdue",
            topic_id: self.topic.parse().ok(),
            assignee: match self.assignee.as_str() {
                "me" => Some(Some(actor.participant().1)),
                "none" => Some(None),
                _ => None,
            },
            search: (!search.is_empty() && search.len() <= 200).then(|| search.to_string()),
            context_type: self.context_type.parse().ok(),
            context_id: (!self.context_id.is_empty()).then(|| self.context_id.clone()),
            ..ListFilter::default()
        }
    }
}

/// The open thread as the page shows it: which messages are the viewer's own, and the viewer's
/// preferences for it.
fn selected_view(
    actor: &Actor,
    detail: ConversationDetail,
    preferences: Option<Preferences>,
) -> SelectedView {
    let (me_type, me_id) = actor.participant();
    let others_read_at = detail
        .participants
        .iter()
        .filter(|p| p.participant_type != me_type)
        .filter_map(|p| p.last_read_at.clone())
        .collect();
    let context_query = detail.summary.context.as_ref().map(|c| {
        serde_urlencoded::to_string([
            ("context_type", c.context_type.as_str()),
            ("context_id", &c.id),
        ])
        .unwrap_or_default()
    });
    let store_customer = detail.summary.conversation_type == ConversationType::StoreCustomer;
    let escalated = detail.summary.escalated;
    let admin = matches!(actor, Actor::Admin { .. });
    SelectedView {
        topic_name: None,
        read_only: detail.read_only,
        can_escalate: store_customer && !escalated && !admin,
        can_resolve: escalated && admin && !detail.read_only,
        can_write_notes: escalated && !matches!(actor, Actor::Customer { .. }),
        me_type,
        others_read_at,
        context_query,
        has_more: detail.has_more,
        muted: preferences.as_ref().is_some_and(|p| p.muted),
        email_off: preferences.is_some_and(|p| !p.email_notifications),
        summary: detail.summary,
        messages: detail
            .messages
            .into_iter()
            .map(|m| MessageView {
                mine: m.sender_type == me_type && m.sender_id == me_id,
                message: m,
            })
            .collect(),
    }
}

async fn messages_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    area: Area,
    selected: Option<i64>,
    query: InboxQuery,
) -> Result<HttpResponse, AppError> {
    let auth = match page_user(&req, area).await {
        Ok(auth) => auth,
        Err(redirect) => return Ok(redirect),
    };
    let (actor, filter) = (auth.actor, query.filter(&auth.actor));
    let (list, thread, may, workbench) = state
        .db
        .read(move |conn| {
            let (list, thread) = inbox::inbox_page(conn, &actor, &filter, selected)?;
            let workbench = Workbench::read(conn, &actor)?;
            Ok::<_, AppError>((list, thread, MayStart::read(conn)?, workbench))
        })
        .await?;
    let mut chrome = chrome(
        &state,
        &req,
        &auth,
        area,
        "nav-messages",
        messages_url(area),
    )
    .await?;
    if let Some((detail, _)) = &thread {
        chrome = chrome.titled(&detail.summary.subject);
        if detail.read_only {
            service::audit_oversight(&state.messaging(), actor, &detail.summary).await?;
        }
    }
    let problem = (!query.problem.is_empty()).then(|| {
        let words = super::catalogue_for(&state, Some(&chrome.lang), &req);
        let key = format!("js-error-{}", query.problem);
        if words.has(&key) {
            words.text(&key, &[])
        } else {
            words.text("error-bad-request-message", &[])
        }
    });
    let lang = chrome.lang.clone();
    let topic_choice = |t: &Topic| Choice {
        id: t.id,
        label: t.name(&lang).to_string(),
    };
    let role = actor.participant().0;
    let mut selected_view =
        thread.map(|(detail, preferences)| selected_view(&actor, detail, preferences));
    if let Some(view) = &mut selected_view {
        view.topic_name = view
            .summary
            .topic_id
            .and_then(|id| workbench.topics.iter().find(|t| t.id == id))
            .map(|t| t.name(&lang).to_string());
    }
    let page = MessagesPage {
        topics: workbench.topics.iter().map(topic_choice).collect(),
        choosable_topics: workbench
            .topics
            .iter()
            .filter(|t| t.roles.contains(&role))
            .map(topic_choice)
            .collect(),
        topic: query.topic.clone(),
        assignee: query.assignee.clone(),
        staff: workbench
            .staff
            .into_iter()
            .map(|(id, label)| Choice { id, label })
            .collect(),
        saved_replies: workbench
            .saved_replies
            .into_iter()
            .map(|r| Choice {
                id: r.id,
                label: r.title,
            })
            .collect(),
        chrome,
        conversations: list.conversations,
        selected: selected_view,
        search: query.search,
        status: query.status,
        conversation_type: query.conversation_type,
        // Only a type the filter understood is named on the page.
        context_type: query
            .context_type
            .parse::<crate::domain::ContextType>()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        context_id: query.context_id,
        type_options: type_options(area),
        can_compose: !compose_types(area, may).is_empty(),
        can_close: area != Area::Shop,
        compose_types: compose_types(area, may),
        context_types: crate::domain::ContextType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect(),
        problem,
    };
    Ok(render_page(&state, "messages.html", &page))
}

/// The inbox of the area of `U` (admin, vendor or shop).
pub(crate) async fn inbox<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    messages_page(state, req, U::AREA, None, q.into_inner()).await
}

/// The inbox with one thread open.
pub(crate) async fn thread<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    q: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    messages_page(state, req, U::AREA, Some(path.into_inner()), q.into_inner()).await
}

/// Where a page's form goes back to: the thread, with the problem's code when there was one
/// (the page says it in the reader's language).
fn back_to_thread(area: Area, id: i64, outcome: Result<(), AppError>) -> HttpResponse {
    let mut url = format!("{}/{id}", messages_url(area));
    if let Err(e) = outcome {
        if matches!(e, AppError::Internal(_)) {
            tracing::error!(error = %e, "a page's form failed");
        }
        url = format!("{url}?problem={}", e.code());
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .finish()
}

fn to_login(area: Area) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/{}/login", area.as_str())))
        .finish()
}

/// A reply from the thread page's own form (multipart, with its CSRF token), for browsers
/// without scripts; with scripts the page sends through the API instead.
pub(crate) async fn reply<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (area, id) = (U::AREA, path.into_inner());
    let Ok(session) = authenticate_form(&req, area).await else {
        return Ok(to_login(area));
    };
    let outcome = async {
        let (ctx, actor) = (state.messaging(), session.actor_for_checks());
        state.login_limiter.check_sender(&actor)?;
        let max_file = service::check_send(&ctx, actor, id).await?;
        let form = read_multipart(&state, &req, payload, max_file, true).await?;
        let auth = session.confirm(&form.csrf_token)?;
        let new = service::NewMessage {
            content: form.content,
            uploads: form.uploads,
            internal: form.internal,
        };
        service::send_message(&ctx, auth.actor, id, new)
            .await?
            .publish(&state.events);
        Ok(())
    }
    .await;
    Ok(back_to_thread(area, id, outcome))
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    csrf_token: String,
    /// Why the platform should step in (escalating only).
    #[serde(default)]
    reason: String,
}

/// Closing, reopening, escalating or resolving from the thread page's own forms (for browsers
/// without scripts; escalating always goes this way).
pub(crate) async fn thread_action<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (area, (id, action)) = (U::AREA, path.into_inner());
    let Ok(session) = authenticate_form(&req, area).await else {
        return Ok(to_login(area));
    };
    let outcome = async {
        let auth = session.confirm(&form.csrf_token)?;
        let ctx = state.messaging();
        let done = match action.as_str() {
            "close" => service::close_conversation(&ctx, auth.actor, id).await?,
            "reopen" => service::reopen_conversation(&ctx, auth.actor, id).await?,
            "escalate" => service::escalate(&ctx, auth.actor, id, &form.reason).await?,
            "resolve" => service::resolve(&ctx, auth.actor, id).await?,
            "no-reply-needed" => service::no_reply_needed(&ctx, auth.actor, id).await?,
            _ => return Err(AppError::NotFound),
        };
        done.publish(&state.events);
        Ok(())
    }
    .await;
    Ok(back_to_thread(area, id, outcome))
}
