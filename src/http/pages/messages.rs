//! The messages pages: the inbox with its filters, one thread, the compose dialog.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::extract::AreaUser;
use crate::domain::{Area, Page};
use crate::error::AppError;
use crate::messaging::inbox::{self, ListFilter};
use crate::messaging::{ConversationDetail, ConversationSummary, Message};
use crate::state::AppState;

use super::{Chrome, chrome, messages_url, page_user, render};

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
}

/// The channels an area's inbox can be filtered by.
fn type_options(area: Area) -> Vec<ComposeType> {
    match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "With stores",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "With customers",
            },
        ],
        Area::Vendor => vec![
            ComposeType {
                value: "store_customer",
                recipient: "customer",
                label: "With customers",
            },
            ComposeType {
                value: "admin_store",
                recipient: "admin",
                label: "With the platform",
            },
        ],
        Area::Shop => Vec::new(),
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
    type_options: Vec<ComposeType>,
    can_compose: bool,
    can_close: bool,
    compose_types: Vec<ComposeType>,
}

/// A channel the compose dialog offers, with the recipient kind it needs.
#[derive(Serialize)]
struct ComposeType {
    value: &'static str,
    recipient: &'static str,
    label: &'static str,
}

fn compose_types(area: Area) -> Vec<ComposeType> {
    match area {
        Area::Admin => vec![
            ComposeType {
                value: "admin_store",
                recipient: "store",
                label: "With a store",
            },
            ComposeType {
                value: "admin_customer",
                recipient: "customer",
                label: "With a customer",
            },
        ],
        Area::Vendor => vec![ComposeType {
            value: "store_customer",
            recipient: "customer",
            label: "With a customer",
        }],
        Area::Shop => Vec::new(),
    }
}

#[derive(Deserialize)]
pub(crate) struct InboxQuery {
    search: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    conversation_type: Option<String>,
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
    let actor = auth.actor;
    let status = query.status.unwrap_or_default();
    let conversation_type = query.conversation_type.clone().unwrap_or_default();
    let filter = ListFilter {
        conversation_type: conversation_type.parse().ok(),
        is_closed: match status.as_str() {
            "open" => Some(false),
            "closed" => Some(true),
            _ => None,
        },
        search: query
            .search
            .clone()
            .filter(|s| !s.trim().is_empty() && s.len() <= 200),
    };
    let (list, detail, (muted, email_off)) = state
        .db
        .read(move |conn| {
            let list = inbox::list(conn, &actor, &filter, Page { skip: 0, limit: 50 })?;
            let detail: Option<ConversationDetail> = match selected {
                Some(id) => Some(inbox::detail(conn, &actor, id, 50, None)?),
                None => None,
            };
            let (me_type, me_id) = actor.participant();
            let preferences: Option<(bool, bool)> = match selected {
                Some(id) => rusqlite::OptionalExtension::optional(conn.query_row(
                    "SELECT muted, NOT email_notifications FROM conversation_participants
                     WHERE conversation_id = ?1 AND participant_type = ?2 AND participant_id = ?3",
                    rusqlite::params![id, me_type, me_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ))?,
                None => None,
            };
            Ok::<_, AppError>((list, detail, preferences.unwrap_or_default()))
        })
        .await?;
    let title = detail
        .as_ref()
        .map_or_else(|| "Messages".to_string(), |d| d.summary.subject.clone());
    let chrome = chrome(&state, &auth, area, &title, messages_url(area)).await?;
    let (me_type, me_id) = actor.participant();
    let page = MessagesPage {
        chrome,
        conversations: list.conversations,
        selected: detail.map(|d| SelectedView {
            has_more: d.has_more,
            muted,
            email_off,
            summary: d.summary,
            messages: d
                .messages
                .into_iter()
                .map(|m| MessageView {
                    mine: m.sender_type == me_type && m.sender_id == me_id,
                    message: m,
                })
                .collect(),
        }),
        search: query.search.unwrap_or_default(),
        status,
        conversation_type,
        type_options: type_options(area),
        can_compose: area != Area::Shop,
        can_close: area != Area::Shop,
        compose_types: compose_types(area),
    };
    Ok(render(
        &state,
        "messages.html",
        &page,
        actix_web::http::StatusCode::OK,
    ))
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
