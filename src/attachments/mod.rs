//! Attachment files (seed: MessageAttachmentService): the type is decided from the bytes against an
//! allowlist, never from the name or the client's content type; files land under
//! `uploads/messages/YYYY/MM/<conversation_id>/<uuid>.<ext>`; images get their size and a
//! thumbnail, and decompression bombs are refused from the header before decoding.

pub mod migrate;
mod storage;
mod sweep;
mod thumbnail;

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Utc};
use tempfile::NamedTempFile;

pub use storage::Location;
pub use storage::{Credentials, Files, save_credentials};
pub(crate) use storage::{open_files, reseal};
pub(crate) use sweep::sweep_orphans;
use thumbnail::thumbnail;

/// What can go wrong with an attachment, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The type, decided from the bytes, is not on the allowlist (or the image is unreadable).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    TooLarge(String),
    /// The data directory's file system is full: nothing was kept.
    #[error("the server has no space left to store files; try again later")]
    NoSpace,
    /// A stored file is not where its row says.
    #[error("the attachment's file is missing")]
    Missing,
    #[error("attachment storage: {0}")]
    Io(#[source] std::io::Error),
}

impl From<std::io::Error> for AttachmentError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            AttachmentError::NoSpace
        } else {
            AttachmentError::Io(e)
        }
    }
}

impl From<image::ImageError> for AttachmentError {
    fn from(e: image::ImageError) -> Self {
        match e {
            image::ImageError::IoError(io) => io.into(),
            other => AttachmentError::Io(std::io::Error::other(other)),
        }
    }
}

/// Files per message.
pub(crate) const MAX_FILES: usize = 10;
/// Bytes kept from the start of a file to sniff its type (Office formats need the ZIP directory
/// entries near the start).
pub(crate) const SNIFF_BYTES: usize = 64 * 1024;

/// A file received from a client, still in the temporary directory (deleted when dropped).
pub(crate) struct Upload {
    pub temp: NamedTempFile,
    pub original_filename: String,
    pub size: u64,
    pub head: Vec<u8>,
}

/// A file moved to its final place, described for its `message_attachments` row. Paths are
/// relative to the data directory.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub filename: String,
    pub original_filename: String,
    pub file_path: String,
    pub file_size: i64,
    pub mime_type: String,
    pub is_image: bool,
    pub image_width: Option<i64>,
    pub image_height: Option<i64>,
    pub thumbnail_path: Option<String>,
    pub stored_in: Location,
}

/// The allowed types: MIME type → stored extension.
const ALLOWED: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
    ("application/pdf", "pdf"),
    ("application/msword", "doc"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    ("application/vnd.ms-excel", "xls"),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    ("application/vnd.ms-powerpoint", "ppt"),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    ("application/zip", "zip"),
    ("text/plain", "txt"),
    ("text/csv", "csv"),
];

pub(crate) fn temp_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads").join("tmp")
}

/// Decides the type from the content: magic bytes first; text (valid UTF-8 without control
/// characters other than tab and line breaks) when no signature matches. The client's name only
/// chooses between plain text and CSV for text.
pub(crate) fn sniff(upload: &Upload) -> Result<(&'static str, &'static str), AttachmentError> {
    let refused = || {
        AttachmentError::NotAllowed(format!(
            "{}: this file type is not allowed (images, PDF, Office documents, ZIP, plain text and CSV are)",
            upload.original_filename
        ))
    };
    if let Some(kind) = infer::get(&upload.head) {
        return ALLOWED
            .iter()
            .find(|(mime, _)| *mime == kind.mime_type())
            .map(|(mime, ext)| (*mime, *ext))
            .ok_or_else(refused);
    }
    if upload.size == 0 || looks_like_markup(&upload.head) || !is_plain_text(upload.temp.path())? {
        return Err(refused());
    }
    if upload
        .original_filename
        .to_ascii_lowercase()
        .ends_with(".csv")
    {
        Ok(("text/csv", "csv"))
    } else {
        Ok(("text/plain", "txt"))
    }
}

/// HTML, SVG and other XML are text too, but never what "plain text" should carry.
fn looks_like_markup(head: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&head[..head.len().min(1024)]).to_ascii_lowercase();
    start.trim_start().starts_with('<')
        && [
            "<svg",
            "<html",
            "<!doctype",
            "<script",
            "<?xml",
            "<body",
            "<iframe",
        ]
        .iter()
        .any(|tag| start.contains(tag))
}

fn is_plain_text(path: &Path) -> Result<bool, AttachmentError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(false);
    };
    Ok(!text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
}

/// Cleans a client's file name into display text: no directories, no control, invisible or
/// direction-changing characters, at most 255 characters.
pub(crate) fn display_name(raw: &str, ext: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'))
        .take(255)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        format!("attachment.{ext}")
    } else {
        cleaned.to_string()
    }
}

/// Validates `upload` and moves it to its final place (with a thumbnail for images). Blocking:
/// call it on the blocking pool. The file is synced before the caller commits its row.
pub(crate) fn store(
    data_dir: &Path,
    conversation_id: i64,
    upload: Upload,
) -> Result<StoredFile, AttachmentError> {
    let (mime_type, ext) = sniff(&upload)?;
    let is_image = mime_type.starts_with("image/");
    let now = Utc::now();
    let relative_dir = format!(
        "uploads/messages/{:04}/{:02}/{conversation_id}",
        now.year(),
        now.month()
    );
    let dir = data_dir.join(&relative_dir);
    std::fs::create_dir_all(&dir)?;
    let stem = uuid::Uuid::now_v7().simple().to_string();
    let filename = format!("{stem}.{ext}");

    let mut stored = StoredFile {
        original_filename: display_name(&upload.original_filename, ext),
        file_path: format!("{relative_dir}/{filename}"),
        filename,
        file_size: i64::try_from(upload.size).unwrap_or(i64::MAX),
        mime_type: mime_type.to_string(),
        is_image,
        image_width: None,
        image_height: None,
        thumbnail_path: None,
        stored_in: Location::Local,
    };
    if is_image {
        let (width, height, thumbnail) = thumbnail(upload.temp.path(), &dir, &stem)?;
        stored.image_width = Some(width.into());
        stored.image_height = Some(height.into());
        stored.thumbnail_path = Some(format!("{relative_dir}/{thumbnail}"));
    }
    let placed = upload
        .temp
        .as_file()
        .sync_all()
        .map_err(AttachmentError::from)
        .and_then(|()| {
            upload
                .temp
                .persist(data_dir.join(&stored.file_path))
                .map_err(|e| e.error.into())
        });
    if let Err(e) = placed {
        remove(data_dir, std::slice::from_ref(&stored));
        return Err(e);
    }
    Ok(stored)
}

/// Stores every upload, or none: a failure removes the ones already placed. Blocking.
fn store_all(
    data_dir: &Path,
    conversation_id: i64,
    uploads: Vec<Upload>,
) -> Result<Vec<StoredFile>, AttachmentError> {
    let mut stored = Vec::with_capacity(uploads.len());
    for upload in uploads {
        match store(data_dir, conversation_id, upload) {
            Ok(file) => stored.push(file),
            Err(e) => {
                remove(data_dir, &stored);
                return Err(e);
            }
        }
    }
    Ok(stored)
}

/// Removes stored files (and thumbnails) whose rows did not commit.
pub(crate) fn remove(data_dir: &Path, files: &[StoredFile]) {
    for file in files {
        for path in file.paths() {
            if let Err(e) = std::fs::remove_file(data_dir.join(path))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, "could not remove an orphaned attachment file");
            }
        }
    }
}

#[cfg(test)]
mod tests;
