//! Conversation handlers: the inbox, the badge, recipients, one thread, and the commands on a
//! conversation (create, close, reopen, read, preferences, delete a message).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::extract::{AreaUser, Unchecked};
use crate::domain::{ContextType, ConversationType, Page, ParticipantType};
use crate::error::AppError;
use crate::messaging::inbox::{self, ListFilter};
use crate::messaging::service::{self, StartConversation};
use crate::messaging::{ConversationContext, ConversationSummary, participants};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    conversation_type: Option<ConversationType>,
    is_closed: Option<bool>,
    search: Option<String>,
    /// RFC 3339: only conversations changed since then (incremental sync).
    updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only conversations about this kind of thing (and this one, with `context_id`).
    context_type: Option<ContextType>,
    context_id: Option<String>,
    /// Only open conversations waiting for this side's reply (`store`, `customer`).
    waiting: Option<ParticipantType>,
    /// Only conversations waiting for the store longer than the platform's target.
    #[serde(default)]
    overdue: bool,
    /// Only conversations under this topic.
    topic_id: Option<i64>,
    /// `me`, `none`, or a staff member's id: only conversations assigned so.
    assignee: Option<String>,
    #[serde(default)]
    skip: u32,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    20
}

/// The answers of the busiest routes, typed so they serialize straight to JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ListAnswer {
    conversations: Vec<ConversationSummary>,
    total: i64,
    total_unread: i64,
    skip: u32,
    limit: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct UnreadAnswer {
    total_unread: i64,
}

/// People a conversation can be started with.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RecipientList {
    recipients: Vec<crate::messaging::Recipient>,
    total: i64,
}

/// A conversation marked read: its count (0) and the caller's total.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReadAnswer {
    unread_count: i64,
    total_unread: i64,
}

/// Search terms longer than this are not a search anyone typed.
const SEARCH_MAX_BYTES: usize = 200;

pub(super) async fn list<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let ListQuery {
        conversation_type,
        is_closed,
        search,
        updated_since,
        context_type,
        context_id,
        waiting,
        overdue,
        topic_id,
        assignee,
        skip,
        limit,
    } = query.into_inner();
    let page = Page { skip, limit };
    let assignee = match assignee.as_deref() {
        None => None,
        Some("none") => Some(Assignee::Nobody),
        Some("me") => Some(Assignee::Me),
        Some(id) => Some(Assignee::User(id.parse().map_err(|_| {
            AppError::validation("assignee", "must be me, none or a staff member's id")
        })?)),
    };
    let filter = ListFilter {
        waiting,
        overdue,
        topic_id,
        conversation_type,
        is_closed,
        search: search.filter(|s| s.len() <= SEARCH_MAX_BYTES),
        updated_since,
        context_type,
        context_id,
        assignee: None,
    };
    let searching = filter.search.is_some();
    // The session is checked inside the read, before the limit: no credential hears 401 first.
    let run = move |conn: &rusqlite::Connection| {
        let actor = user.0.check(conn)?.actor;
        let filter = ListFilter {
            assignee: assignee.map(|a| a.of(&actor)),
            ..filter
        };
        Ok::<_, AppError>(inbox::list(conn, &actor, &filter, page.checked()?)?)
    };
    // A full-text search can take milliseconds: it goes to the pool, off this worker.
    let list = if searching {
        state.db.read_pooled(run).await?
    } else {
        state.db.read(run).await?
    };
    Ok(HttpResponse::Ok().json(ListAnswer {
        conversations: list.conversations,
        total: list.total,
        total_unread: list.total_unread,
        skip: page.skip,
        limit: page.limit,
    }))
}

/// The `assignee` filter as asked for.
enum Assignee {
    Me,
    Nobody,
    User(i64),
}

impl Assignee {
    fn of(self, actor: &crate::domain::Actor) -> Option<i64> {
        match self {
            Assignee::Me => Some(actor.participant().1),
            Assignee::Nobody => None,
            Assignee::User(id) => Some(id),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateRequest {
    /// Required, except for customers (who start `store_customer` conversations only).
    conversation_type: Option<ConversationType>,
    subject: String,
    /// Left out where the other side is a team: a customer writing to their store, staff writing
    /// to the platform.
    recipient_type: Option<ParticipantType>,
    recipient_id: Option<i64>,
    store_id: Option<i64>,
    initial_message: Option<String>,
    context: Option<ConversationContext>,
    /// One of the operator's topics the caller may choose.
    topic_id: Option<i64>,
}

pub(super) async fn create<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let actor = user.auth().actor;
    let recipient = match (body.recipient_type, body.recipient_id) {
        (Some(kind), Some(id)) => Some((kind, id)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(AppError::validation(
                "recipient_id",
                "is required with recipient_type",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::validation(
                "recipient_type",
                "is required with recipient_id",
            ));
        }
    };
    if let crate::domain::Actor::Customer { .. } = actor {
        // Starting a conversation reaches every staff member of the store: cheap to abuse.
        state.login_limiter.check_new_conversation(&actor)?;
    }
    let conversation_type = match (body.conversation_type, actor) {
        (Some(t), _) => t,
        (None, crate::domain::Actor::Customer { .. }) => ConversationType::StoreCustomer,
        (None, _) => return Err(AppError::validation("conversation_type", "is required")),
    };
    let start = StartConversation {
        conversation_type,
        subject: body.subject,
        recipient,
        store_id: body.store_id,
        initial_message: body.initial_message,
        context: body.context,
        topic_id: body.topic_id,
    };
    let detail = service::start_conversation(&state.messaging(), actor, start)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Created().json(detail))
}

pub(super) async fn unread_count<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
) -> Result<HttpResponse, AppError> {
    let total_unread = state
        .db
        .read(move |conn| {
            let actor = user.0.check(conn)?.actor;
            Ok::<_, AppError>(inbox::total_unread(conn, &actor)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UnreadAnswer { total_unread }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct RecipientsQuery {
    recipient_type: ParticipantType,
    search: Option<String>,
    #[serde(default)]
    skip: u32,
    #[serde(default = "default_limit")]
    limit: u32,
}

pub(super) async fn recipients<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    query: web::Query<RecipientsQuery>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let query = query.into_inner();
    let page = Page {
        skip: query.skip,
        limit: query.limit,
    }
    .checked()?;
    let search = query.search.filter(|s| s.len() <= SEARCH_MAX_BYTES);
    // Name search is a LIKE over a store's accounts: the pool, off this worker.
    let (recipients, total) = state
        .db
        .read_pooled(move |conn| {
            participants::recipients(conn, &actor, query.recipient_type, search.as_deref(), page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RecipientList { recipients, total }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DetailQuery {
    #[serde(default = "default_thread_page")]
    limit: u32,
    before: Option<i64>,
}

fn default_thread_page() -> u32 {
    50
}

pub(super) async fn detail<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
    path: web::Path<i64>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let DetailQuery { limit, before } = query.into_inner();
    let (actor, detail) = state
        .db
        .read(move |conn| {
            let actor = user.0.check(conn)?.actor;
            let page = Page { skip: 0, limit }.checked()?;
            let detail = inbox::detail(conn, &actor, id, page.limit, before)?;
            Ok::<_, AppError>((actor, detail))
        })
        .await?;
    if detail.read_only {
        service::audit_oversight(&state.messaging(), actor, &detail.summary).await?;
    }
    Ok(HttpResponse::Ok().json(detail))
}

pub(super) async fn close<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let summary = service::close_conversation(&state.messaging(), user.auth().actor, *path)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

pub(super) async fn reopen<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let summary = service::reopen_conversation(&state.messaging(), user.auth().actor, *path)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

pub(super) async fn read<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let total_unread = service::mark_read(&state.messaging(), user.auth().actor, *path)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(ReadAnswer {
        unread_count: 0,
        total_unread,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PreferencesRequest {
    email_notifications: Option<bool>,
    muted: Option<bool>,
}

pub(super) async fn preferences<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<PreferencesRequest>,
) -> Result<HttpResponse, AppError> {
    let PreferencesRequest {
        email_notifications,
        muted,
    } = body.into_inner();
    let actor = user.auth().actor;
    let preferences =
        service::set_preferences(&state.messaging(), actor, *path, email_notifications, muted)
            .await?
            .publish(&state.events);
    Ok(HttpResponse::Ok().json(preferences))
}

pub(super) async fn delete_message<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, message_id) = path.into_inner();
    service::delete_message(&state.messaging(), user.auth().actor, id, message_id)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EscalateRequest {
    /// Why the platform should step in; everyone in the conversation reads it.
    reason: String,
}

pub(super) async fn escalate<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<EscalateRequest>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let summary = service::escalate(&state.messaging(), actor, *path, &body.reason)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

pub(super) async fn resolve<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let summary = service::resolve(&state.messaging(), user.auth().actor, *path)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

pub(super) async fn no_reply_needed<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let summary = service::no_reply_needed(&state.messaging(), user.auth().actor, *path)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignRequest {
    /// A staff member of the store, or null for nobody.
    user_id: Option<i64>,
}

pub(super) async fn assign<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<AssignRequest>,
) -> Result<HttpResponse, AppError> {
    let summary = service::assign(&state.messaging(), user.auth().actor, *path, body.user_id)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TopicRequest {
    /// An active topic, or null for none.
    topic_id: Option<i64>,
}

pub(super) async fn set_topic<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<TopicRequest>,
) -> Result<HttpResponse, AppError> {
    let summary =
        service::set_topic(&state.messaging(), user.auth().actor, *path, body.topic_id).await?;
    Ok(HttpResponse::Ok().json(summary))
}
