//! Sending a message: a JSON body, or a multipart body whose files stream to temporary files as
//! they arrive (each refused as soon as it passes the size limit). The use case does the rest.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::attachments::{self, AttachmentError, Upload};
use crate::auth::extract::AreaUser;
use crate::error::AppError;
use crate::messaging::service::{self, NewMessage};
use crate::state::AppState;

/// A message as JSON (files go as `multipart/form-data`: `content` and up to ten `files`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendJson {
    content: String,
    /// An internal note between the store and the platform, in an escalated conversation: the
    /// customer never sees it (staff and admins only).
    #[serde(default)]
    internal: bool,
}

/// JSON bodies of a message: 10,000 characters even fully `\u`-escaped fit in this.
const SEND_JSON_LIMIT: usize = 128 * 1024;
/// Room for the multipart framing and the text beside the files.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;

pub(super) async fn send<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let actor = user.auth().actor;
    let id = path.into_inner();
    state.login_limiter.check_sender(&actor)?;
    let ctx = state.messaging();
    // Refused early, before any upload is read, when the answer is already known.
    let max_file = service::check_send(&ctx, actor, id).await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let new = if content_type.starts_with("application/json") {
        let body = read_json(payload).await?;
        NewMessage {
            content: body.content,
            uploads: Vec::new(),
            internal: body.internal,
        }
    } else if content_type.starts_with("multipart/form-data") {
        let declared: Option<u64> = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if declared
            .is_some_and(|n| n > max_file * attachments::MAX_FILES as u64 + MULTIPART_OVERHEAD)
        {
            return Err(too_large(max_file));
        }
        let body = read_multipart(&state, &req, payload, max_file, false).await?;
        NewMessage {
            content: body.content,
            uploads: body.uploads,
            internal: body.internal,
        }
    } else {
        return Err(AppError::UnsupportedMediaType(
            "send application/json or multipart/form-data".into(),
        ));
    };
    let message = service::send_message(&ctx, actor, id, new)
        .await?
        .publish(&state.events);
    Ok(HttpResponse::Created().json(message))
}

async fn read_json(payload: web::Payload) -> Result<SendJson, AppError> {
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
    Ok(body)
}

pub(crate) fn too_large(max_file: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "attachments may be at most {} MB each, {} per message",
        max_file / (1024 * 1024),
        attachments::MAX_FILES
    ))
}

/// A message's multipart body, read.
pub(crate) struct MessageForm {
    pub content: String,
    pub uploads: Vec<Upload>,
    /// The `internal` field: an internal note ("true", or "on" from a page's checkbox).
    pub internal: bool,
    /// The page form's CSRF token (only where `from_page` allowed the field).
    pub csrf_token: String,
}

/// Streams a multipart body: the `content` text and up to `MAX_FILES` `files`, each written to a
/// temporary file as it arrives and refused as soon as it passes the size limit; a page's form
/// (`from_page`) also carries its `csrf_token`.
pub(crate) async fn read_multipart(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    max_file: u64,
    from_page: bool,
) -> Result<MessageForm, AppError> {
    let bad = |e: actix_multipart::MultipartError| AppError::BadRequest {
        code: "invalid_multipart",
        message: e.to_string(),
    };
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut content = String::new();
    let mut csrf_token = String::new();
    let mut internal = false;
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
            Some("internal") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > 16 {
                        return Err(AppError::validation("internal", "must be true or false"));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                internal = match bytes.as_slice() {
                    b"true" | b"on" | b"1" => true,
                    b"false" | b"0" | b"" => false,
                    _ => return Err(AppError::validation("internal", "must be true or false")),
                };
            }
            Some("csrf_token") if from_page => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > 256 {
                        return Err(AppError::CsrfFailed);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                csrf_token = String::from_utf8_lossy(&bytes).into_owned();
            }
            // A page's form sends its file input even when no file was chosen: an empty part.
            Some("files")
                if from_page
                    && field.content_disposition().and_then(|cd| cd.get_filename()) == Some("") =>
            {
                while field.try_next().await.map_err(bad)?.is_some() {}
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
                let temp = NamedTempFile::new_in(&temp_dir).map_err(AttachmentError::from)?;
                let mut file =
                    tokio::fs::File::from_std(temp.reopen().map_err(AttachmentError::from)?);
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
                    file.write_all(&chunk)
                        .await
                        .map_err(AttachmentError::from)?;
                }
                file.flush().await.map_err(AttachmentError::from)?;
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
                    "unknown field; send \"content\", \"files\" and \"internal\"",
                ));
            }
        }
    }
    Ok(MessageForm {
        content,
        uploads,
        internal,
        csrf_token,
    })
}
