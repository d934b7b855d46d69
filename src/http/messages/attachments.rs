//! Attachment downloads: the path comes from the database row (never from the URL), and the
//! headers keep any content from running on our origin.

use actix_web::body::SizedStream;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, web};

use crate::attachments::AttachmentError;
use crate::auth::extract::AreaUser;
use crate::domain::Actor;
use crate::error::AppError;
use crate::messaging::messages;
use crate::state::AppState;

pub(super) async fn attachment<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    serve_attachment(&state, user.auth().actor, path.into_inner(), false).await
}

pub(super) async fn thumbnail<U: AreaUser>(
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
    let stored = state
        .db
        .read(move |conn| messages::attachment_file(conn, &actor, conversation_id, attachment_id))
        .await?;
    let messages::AttachmentFile {
        file_path,
        original_filename,
        mime_type,
        thumbnail_path,
        stored_in,
    } = stored;
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
    let download = match state.files.open(stored_in, &path).await {
        Ok(download) => download,
        Err(AttachmentError::Missing) => {
            tracing::error!(
                attachment_id,
                stored_in = stored_in.as_str(),
                "attachment file is missing from its storage"
            );
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
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
        .body(SizedStream::new(download.size, download.body)))
}
