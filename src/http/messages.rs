//! The messaging API, mounted under `/api/v1/{admin,vendor,shop}/messages`. Handlers are written
//! once, generic over the area's extractor; the services decide what each actor may see and do.

use actix_multipart::Multipart;
use actix_web::Route;
use actix_web::body::SizedStream;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::app::AppState;
use crate::attachments::{self, StoredFile, Upload};
use crate::auth::extract::{AreaUser, Unchecked};
use crate::domain::{self, Actor, ConversationType, Page, ParticipantType};
use crate::email::notify;
use crate::error::AppError;
use crate::messaging::conversations::{self, ListFilter, NewConversation};
use crate::messaging::{self, CONTENT_MAX, ConversationSummary, EventKind, SUBJECT_MAX, messages};
use crate::platform;

/// What a messaging route does; the route table below is the one list of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Create,
    UnreadCount,
    Recipients,
    Detail,
    Send,
    Close,
    Reopen,
    Read,
    Preferences,
    DeleteMessage,
    Attachment,
    Thumbnail,
    Stream,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// Relative to `/api/v1/{area}/messages`.
    pub path: &'static str,
    pub op: Op,
}

/// Every messaging route, in matching order (fixed paths before `{id}`). All three areas mount all
/// of them; what a caller may do is decided per actor (a customer creating or closing gets 403).
pub const MESSAGING_ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "",
        op: Op::List,
    },
    RouteSpec {
        method: "POST",
        path: "",
        op: Op::Create,
    },
    RouteSpec {
        method: "GET",
        path: "/unread-count",
        op: Op::UnreadCount,
    },
    RouteSpec {
        method: "GET",
        path: "/recipients",
        op: Op::Recipients,
    },
    RouteSpec {
        method: "GET",
        path: "/stream",
        op: Op::Stream,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}",
        op: Op::Detail,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/messages",
        op: Op::Send,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/close",
        op: Op::Close,
    },
    RouteSpec {
        method: "POST",
        path: "/{id}/reopen",
        op: Op::Reopen,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/read",
        op: Op::Read,
    },
    RouteSpec {
        method: "PUT",
        path: "/{id}/preferences",
        op: Op::Preferences,
    },
    RouteSpec {
        method: "DELETE",
        path: "/{id}/messages/{message_id}",
        op: Op::DeleteMessage,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}/attachments/{attachment_id}",
        op: Op::Attachment,
    },
    RouteSpec {
        method: "GET",
        path: "/{id}/attachments/{attachment_id}/thumbnail",
        op: Op::Thumbnail,
    },
];

fn handler<U: AreaUser>(op: Op) -> Route {
    match op {
        Op::List => web::get().to(list::<U>),
        Op::Create => web::post().to(create::<U>),
        Op::UnreadCount => web::get().to(unread_count::<U>),
        Op::Recipients => web::get().to(recipients::<U>),
        Op::Detail => web::get().to(detail::<U>),
        Op::Send => web::post().to(send::<U>),
        Op::Close => web::post().to(close::<U>),
        Op::Reopen => web::post().to(reopen::<U>),
        Op::Read => web::put().to(read::<U>),
        Op::Preferences => web::put().to(preferences::<U>),
        Op::DeleteMessage => web::delete().to(delete_message::<U>),
        Op::Attachment => web::get().to(attachment::<U>),
        Op::Thumbnail => web::get().to(thumbnail::<U>),
        Op::Stream => web::get().to(super::stream::stream::<U>),
    }
}

/// Mounts the messaging routes for one area.
pub fn scope<U: AreaUser>() -> actix_web::Scope {
    MESSAGING_ROUTES
        .iter()
        .fold(web::scope("/messages"), |scope, spec| {
            scope.route(spec.path, handler::<U>(spec.op))
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    conversation_type: Option<ConversationType>,
    is_closed: Option<bool>,
    search: Option<String>,
    #[serde(default)]
    skip: u32,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    20
}

/// The answers of the busiest routes, typed so they serialize straight to JSON.
#[derive(Serialize)]
struct ListAnswer {
    conversations: Vec<ConversationSummary>,
    total: i64,
    total_unread: i64,
    skip: u32,
    limit: u32,
}

#[derive(Serialize)]
struct UnreadAnswer {
    total_unread: i64,
}

async fn list<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    // Checked inside the read, after the credential: a caller without one hears 401 first.
    let page = Page {
        skip: query.skip,
        limit: query.limit,
    };
    let filter = ListFilter {
        conversation_type: query.conversation_type,
        is_closed: query.is_closed,
        search: query.search.filter(|s| s.len() <= 200),
    };
    let searching = filter.search.is_some();
    let run = move |conn: &rusqlite::Connection| {
        let actor = user.0.check(conn)?.actor;
        conversations::list(conn, &actor, &filter, page.checked()?)
    };
    // A full-text search can take milliseconds: it goes to the pool, off this worker.
    let result = if searching {
        state.db.read_pooled(run).await?
    } else {
        state.db.read(run).await?
    };
    Ok(HttpResponse::Ok().json(ListAnswer {
        conversations: result.conversations,
        total: result.total,
        total_unread: result.total_unread,
        skip: page.skip,
        limit: page.limit,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    conversation_type: ConversationType,
    subject: String,
    recipient_type: ParticipantType,
    recipient_id: i64,
    store_id: Option<i64>,
    initial_message: Option<String>,
}

async fn create<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<CreateRequest>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let body = body.into_inner();
    let new = NewConversation {
        conversation_type: body.conversation_type,
        subject: domain::clean_line("subject", &body.subject, SUBJECT_MAX)?,
        recipient_type: body.recipient_type,
        recipient_id: body.recipient_id,
        store_id: body.store_id,
        initial_message: body
            .initial_message
            .map(|m| domain::clean_text("initial_message", &m, CONTENT_MAX))
            .transpose()?
            .filter(|m| !m.is_empty()),
    };
    let settings = state.settings.clone();
    let (detail, event) = state
        .db
        .write(move |tx| {
            let id = conversations::create(tx, &actor, &new)?;
            if let Some(first) = &new.initial_message {
                let name = messages::actor_name(tx, &actor)?;
                let preview: String = first.chars().take(200).collect();
                notify::new_message(tx, &settings, id, &actor, &name, &preview)?;
            }
            let event = conversations::event(tx, id, EventKind::ConversationCreated, &actor, None)?;
            Ok::<_, AppError>((conversations::detail(tx, &actor, id, 50, None)?, event))
        })
        .await?;
    tracing::info!(conversation_id = detail.summary.id, "conversation created");
    state.events.publish(event);
    Ok(HttpResponse::Created().json(detail))
}

async fn unread_count<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
) -> Result<HttpResponse, AppError> {
    let total = state
        .db
        .read(move |conn| {
            let actor = user.0.check(conn)?.actor;
            conversations::total_unread(conn, &actor)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UnreadAnswer {
        total_unread: total,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientsQuery {
    recipient_type: ParticipantType,
    search: Option<String>,
    #[serde(default)]
    skip: u32,
    #[serde(default = "default_limit")]
    limit: u32,
}

async fn recipients<U: AreaUser>(
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
    let search = query.search.filter(|s| s.len() <= 200);
    // Name search is a LIKE over a store's accounts: the pool, off this worker.
    let (recipients, total) = state
        .db
        .read_pooled(move |conn| {
            conversations::recipients(conn, &actor, query.recipient_type, search.as_deref(), page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "recipients": recipients, "total": total })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    #[serde(default = "default_page")]
    limit: u32,
    before: Option<i64>,
}

fn default_page() -> u32 {
    50
}

async fn detail<U: AreaUser>(
    state: web::Data<AppState>,
    user: Unchecked<U>,
    path: web::Path<i64>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let query = query.into_inner();
    let detail = state
        .db
        .read(move |conn| {
            let actor = user.0.check(conn)?.actor;
            if !(1..=100).contains(&query.limit) {
                return Err(AppError::validation("limit", "must be between 1 and 100"));
            }
            conversations::detail(conn, &actor, id, query.limit, query.before)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendJson {
    content: String,
}

/// JSON bodies of a message: 10,000 characters even fully `\u`-escaped fit in this.
const SEND_JSON_LIMIT: usize = 128 * 1024;

async fn send<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let conversation_id = path.into_inner();
    state.login_limiter.check_sender(&actor)?;
    // Refuse early, before reading any upload, when the answer is already known.
    let max_file = state
        .db
        .read(move |conn| {
            let row = messaging::access::load_visible(conn, &actor, conversation_id)?;
            if row.is_closed {
                return Err(AppError::conflict(
                    "conversation_closed",
                    "the conversation is closed",
                ));
            }
            platform::attachment_max_bytes(conn)
        })
        .await?;

    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (content, uploads) = if content_type.starts_with("application/json") {
        let bytes = payload
            .to_bytes_limited(SEND_JSON_LIMIT)
            .await
            .map_err(|_| AppError::PayloadTooLarge("the message is too large".into()))?
            .map_err(|e| AppError::BadRequest {
                code: "invalid_body",
                message: e.to_string(),
            })?;
        let body: SendJson = serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest {
            code: if e.is_data() {
                "invalid_body"
            } else {
                "malformed_json"
            },
            message: e.to_string(),
        })?;
        (body.content, Vec::new())
    } else if content_type.starts_with("multipart/form-data") {
        let declared: Option<u64> = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if declared.is_some_and(|n| n > max_file * attachments::MAX_FILES as u64 + 1024 * 1024) {
            return Err(too_large(max_file));
        }
        read_multipart(&state, &req, payload, max_file).await?
    } else {
        return Err(AppError::UnsupportedMediaType(
            "send application/json or multipart/form-data".into(),
        ));
    };

    let content = domain::clean_text("content", &content, CONTENT_MAX)?;
    if content.is_empty() && uploads.is_empty() {
        return Err(AppError::validation(
            "content",
            "must not be empty without attachments",
        ));
    }

    let data_dir = state.settings.data_dir().to_path_buf();
    // Files go to disk on a blocking thread; a message without any needs no trip there.
    let stored = if uploads.is_empty() {
        Vec::new()
    } else {
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || store_all(&data_dir, conversation_id, uploads))
            .await
            .map_err(AppError::internal)??
    };
    let files = stored.clone();
    let settings = state.settings.clone();
    let result = state
        .db
        .write(move |tx| {
            let message = messages::send(tx, &actor, conversation_id, &content, &files)?;
            // The notifications commit with the message, or not at all.
            notify::new_message(
                tx,
                &settings,
                conversation_id,
                &actor,
                &message.sender_name,
                &preview(&message),
            )?;
            let event = conversations::event(
                tx,
                conversation_id,
                EventKind::MessageSent,
                &actor,
                Some(message.id),
            )?;
            Ok::<_, AppError>((message, event))
        })
        .await;
    match result {
        Ok((message, event)) => {
            tracing::info!(
                conversation_id,
                message_id = message.id,
                files = stored.len(),
                "message sent"
            );
            state.events.publish(event);
            Ok(HttpResponse::Created().json(message))
        }
        Err(e) => {
            // The rows did not commit: take the files away again.
            if !stored.is_empty() {
                tokio::task::spawn_blocking(move || attachments::remove(&data_dir, &stored))
                    .await
                    .ok();
            }
            Err(e)
        }
    }
}

/// The text a notification quotes: the start of the message, or what it carries.
fn preview(message: &messaging::Message) -> String {
    let text: String = message.content.chars().take(200).collect();
    match (text.is_empty(), message.attachments.len()) {
        (false, _) if message.content.chars().count() > 200 => format!("{text}…"),
        (false, _) => text,
        (true, 1) => "[1 attachment]".to_string(),
        (true, n) => format!("[{n} attachments]"),
    }
}

fn too_large(max_file: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "attachments may be at most {} MB each, {} per message",
        max_file / (1024 * 1024),
        attachments::MAX_FILES
    ))
}

/// Streams a multipart body: the `content` text and up to `MAX_FILES` `files`, each written to a
/// temporary file as it arrives and refused as soon as it passes the size limit.
async fn read_multipart(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    max_file: u64,
) -> Result<(String, Vec<Upload>), AppError> {
    let bad = |e: actix_multipart::MultipartError| AppError::BadRequest {
        code: "invalid_multipart",
        message: e.to_string(),
    };
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut content = String::new();
    let mut uploads = Vec::new();
    let temp_dir = attachments::temp_dir(state.settings.data_dir());
    while let Some(mut field) = multipart.try_next().await.map_err(bad)? {
        match field.name() {
            Some("content") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > SEND_JSON_LIMIT {
                        return Err(AppError::PayloadTooLarge(
                            "the message text is too large".into(),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                content = String::from_utf8(bytes)
                    .map_err(|_| AppError::validation("content", "must be UTF-8 text"))?;
            }
            Some("files") | Some("files[]") => {
                if uploads.len() == attachments::MAX_FILES {
                    return Err(AppError::PayloadTooLarge(format!(
                        "at most {} files per message",
                        attachments::MAX_FILES
                    )));
                }
                let original_filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or_default()
                    .to_string();
                let temp = NamedTempFile::new_in(&temp_dir).map_err(AppError::internal)?;
                let mut file =
                    tokio::fs::File::from_std(temp.reopen().map_err(AppError::internal)?);
                let mut head = Vec::new();
                let mut size = 0u64;
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    size += chunk.len() as u64;
                    if size > max_file {
                        return Err(too_large(max_file));
                    }
                    if head.len() < attachments::SNIFF_BYTES {
                        let take = (attachments::SNIFF_BYTES - head.len()).min(chunk.len());
                        head.extend_from_slice(&chunk[..take]);
                    }
                    file.write_all(&chunk).await.map_err(AppError::internal)?;
                }
                file.flush().await.map_err(AppError::internal)?;
                uploads.push(Upload {
                    temp,
                    original_filename,
                    size,
                    head,
                });
            }
            other => {
                return Err(AppError::validation(
                    other.unwrap_or("(unnamed)"),
                    "unknown field; send \"content\" and \"files\"",
                ));
            }
        }
    }
    Ok((content, uploads))
}

/// Stores every upload, or none: a failure removes the ones already placed.
fn store_all(
    data_dir: &std::path::Path,
    conversation_id: i64,
    uploads: Vec<Upload>,
) -> Result<Vec<StoredFile>, AppError> {
    let mut stored = Vec::with_capacity(uploads.len());
    for upload in uploads {
        match attachments::store(data_dir, conversation_id, upload) {
            Ok(file) => stored.push(file),
            Err(e) => {
                attachments::remove(data_dir, &stored);
                return Err(e);
            }
        }
    }
    Ok(stored)
}

async fn set_closed<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    id: i64,
    close: bool,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let settings = state.settings.clone();
    let (summary, event) = state
        .db
        .write(move |tx| {
            conversations::set_closed(tx, &actor, id, close)?;
            if close {
                let name = messages::actor_name(tx, &actor)?;
                notify::conversation_closed(tx, &settings, id, &actor, &name)?;
            }
            let kind = if close {
                EventKind::ConversationClosed
            } else {
                EventKind::ConversationReopened
            };
            let event = conversations::event(tx, id, kind, &actor, None)?;
            Ok::<_, AppError>((conversations::summary(tx, &actor, id)?, event))
        })
        .await?;
    state.events.publish(event);
    Ok(HttpResponse::Ok().json(summary))
}

async fn close<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_closed(state, user, path.into_inner(), true).await
}

async fn reopen<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_closed(state, user, path.into_inner(), false).await
}

async fn read<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let id = path.into_inner();
    let (total, event) = state
        .db
        .write(move |tx| {
            let total = conversations::mark_read(tx, &actor, id)?;
            Ok::<_, AppError>((
                total,
                conversations::event(tx, id, EventKind::ConversationRead, &actor, None)?,
            ))
        })
        .await?;
    state.events.publish(event);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "unread_count": 0, "total_unread": total })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    email_notifications: Option<bool>,
    muted: Option<bool>,
}

async fn preferences<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    body: web::Json<PreferencesRequest>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let id = path.into_inner();
    let body = body.into_inner();
    let preferences = state
        .db
        .write(move |tx| {
            conversations::set_preferences(tx, &actor, id, body.email_notifications, body.muted)
        })
        .await?;
    Ok(HttpResponse::Ok().json(preferences))
}

async fn delete_message<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let (id, message_id) = path.into_inner();
    let event = state
        .db
        .write(move |tx| {
            messages::delete(tx, &actor, id, message_id)?;
            conversations::event(tx, id, EventKind::MessageDeleted, &actor, Some(message_id))
        })
        .await?;
    state.events.publish(event);
    Ok(HttpResponse::NoContent().finish())
}

async fn attachment<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    serve_attachment(&state, user.auth().actor, path.into_inner(), false).await
}

async fn thumbnail<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    serve_attachment(&state, user.auth().actor, path.into_inner(), true).await
}

/// Sends a stored file, always as a download: the path comes from the database row (never from
/// the URL), and the headers keep any content from running on our origin.
async fn serve_attachment(
    state: &AppState,
    actor: Actor,
    (conversation_id, attachment_id): (i64, i64),
    thumbnail: bool,
) -> Result<HttpResponse, AppError> {
    let (file_path, original_filename, mime_type, thumbnail_path) = state
        .db
        .read(move |conn| messages::attachment_file(conn, &actor, conversation_id, attachment_id))
        .await?;
    let (path, mime_type, filename) = if thumbnail {
        let stem = original_filename
            .rsplit_once('.')
            .map_or(original_filename.as_str(), |(s, _)| s);
        (
            thumbnail_path.ok_or(AppError::NotFound)?,
            "image/png".to_string(),
            format!("{stem}_thumbnail.png"),
        )
    } else {
        (file_path, mime_type, original_filename)
    };
    let file = match tokio::fs::File::open(state.settings.data_dir().join(&path)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::error!(
                attachment_id,
                "attachment file is missing from the data directory"
            );
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(AppError::internal(e)),
    };
    let size = file.metadata().await.map_err(AppError::internal)?.len();
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: filename.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(mime_type)
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(SizedStream::new(
            size,
            tokio_util::io::ReaderStream::new(file),
        )))
}
