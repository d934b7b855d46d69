//! Attachment files (seed: MessageAttachmentService): the type is decided from the bytes against an
//! allowlist, never from the name or the client's content type; files land under
//! `uploads/messages/YYYY/MM/<conversation_id>/<uuid>.<ext>`; images get their size and a
//! thumbnail, and decompression bombs are refused from the header before decoding.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Utc};
use image::{ImageFormat, ImageReader, Limits};
use tempfile::NamedTempFile;

use crate::error::AppError;

/// Files per message.
pub const MAX_FILES: usize = 10;
/// Bytes kept from the start of a file to sniff its type (Office formats need the ZIP directory
/// entries near the start).
pub const SNIFF_BYTES: usize = 64 * 1024;
/// Largest image we decode for a thumbnail: 40 megapixels (a 16-bit RGBA image of that size
/// needs 320 MB, still bounded by the allocation limit below).
const MAX_PIXELS: u64 = 40_000_000;
const THUMBNAIL_EDGE: u32 = 320;

/// A file received from a client, still in the temporary directory (deleted when dropped).
pub struct Upload {
    pub temp: NamedTempFile,
    pub original_filename: String,
    pub size: u64,
    pub head: Vec<u8>,
}

/// A file moved to its final place, described for its `message_attachments` row. Paths are
/// relative to the data directory.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub filename: String,
    pub original_filename: String,
    pub file_path: String,
    pub file_size: i64,
    pub mime_type: String,
    pub is_image: bool,
    pub image_width: Option<i64>,
    pub image_height: Option<i64>,
    pub thumbnail_path: Option<String>,
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

pub fn temp_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads").join("tmp")
}

/// Decides the type from the content: magic bytes first; text (valid UTF-8 without control
/// characters other than tab and line breaks) when no signature matches. The client's name only
/// chooses between plain text and CSV for text.
pub fn sniff(upload: &Upload) -> Result<(&'static str, &'static str), AppError> {
    let refused = || {
        AppError::UnsupportedMediaType(format!(
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

fn is_plain_text(path: &Path) -> Result<bool, AppError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(AppError::internal)?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(false);
    };
    Ok(!text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
}

/// Cleans a client's file name into display text: no directories, no control, invisible or
/// direction-changing characters, at most 255 characters.
pub fn display_name(raw: &str, ext: &str) -> String {
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
pub fn store(
    data_dir: &Path,
    conversation_id: i64,
    upload: Upload,
) -> Result<StoredFile, AppError> {
    let (mime_type, ext) = sniff(&upload)?;
    let is_image = mime_type.starts_with("image/");
    let now = Utc::now();
    let relative_dir = format!(
        "uploads/messages/{:04}/{:02}/{conversation_id}",
        now.year(),
        now.month()
    );
    let dir = data_dir.join(&relative_dir);
    std::fs::create_dir_all(&dir).map_err(AppError::internal)?;
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
    };
    if is_image {
        let (width, height, thumbnail) = thumbnail(upload.temp.path(), &dir, &stem)?;
        stored.image_width = Some(width.into());
        stored.image_height = Some(height.into());
        stored.thumbnail_path = Some(format!("{relative_dir}/{thumbnail}"));
    }
    upload
        .temp
        .as_file()
        .sync_all()
        .map_err(AppError::internal)?;
    if let Err(e) = upload.temp.persist(data_dir.join(&stored.file_path)) {
        remove(data_dir, std::slice::from_ref(&stored));
        return Err(AppError::internal(e.error));
    }
    Ok(stored)
}

/// Reads the image size from the header (refusing bombs before decoding), then writes a PNG
/// thumbnail next to where the file will go. Returns (width, height, thumbnail file name).
fn thumbnail(source: &Path, dir: &Path, stem: &str) -> Result<(u32, u32, String), AppError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        AppError::UnsupportedMediaType(format!("the image could not be read: {e}"))
    };
    let reader = || -> Result<ImageReader<std::io::BufReader<std::fs::File>>, AppError> {
        let mut reader = ImageReader::open(source)
            .map_err(AppError::internal)?
            .with_guessed_format()
            .map_err(AppError::internal)?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(30_000);
        limits.max_image_height = Some(30_000);
        limits.max_alloc = Some(512 * 1024 * 1024);
        reader.limits(limits);
        Ok(reader)
    };
    let too_big = |width: u32, height: u32| {
        AppError::PayloadTooLarge(format!(
            "the image is {width}×{height} pixels; at most {} megapixels are accepted",
            MAX_PIXELS / 1_000_000
        ))
    };
    // The size comes from the header alone (no pixel buffer is allocated for it, so no
    // allocation limit applies); nothing is decoded before it passes.
    let mut header_reader = ImageReader::open(source)
        .map_err(AppError::internal)?
        .with_guessed_format()
        .map_err(AppError::internal)?;
    header_reader.no_limits();
    let (width, height) = header_reader
        .into_dimensions()
        .map_err(|e| unreadable(&e))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_big(width, height));
    }
    let image = reader()?.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(width, height),
        other => unreadable(&other),
    })?;
    let thumb = image.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE);
    let name = format!("{stem}_thumb.png");
    let mut temp = NamedTempFile::new_in(dir).map_err(AppError::internal)?;
    thumb
        .write_to(
            &mut std::io::BufWriter::new(temp.as_file_mut()),
            ImageFormat::Png,
        )
        .map_err(AppError::internal)?;
    temp.as_file().sync_all().map_err(AppError::internal)?;
    temp.persist(dir.join(&name))
        .map_err(|e| AppError::internal(e.error))?;
    Ok((width, height, name))
}

/// Removes stored files (and thumbnails) whose rows did not commit.
pub fn remove(data_dir: &Path, files: &[StoredFile]) {
    for file in files {
        for path in std::iter::once(&file.file_path).chain(file.thumbnail_path.as_ref()) {
            if let Err(e) = std::fs::remove_file(data_dir.join(path))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, "could not remove an orphaned attachment file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_lose_directories_and_invisible_characters() {
        assert_eq!(display_name("../../etc/passwd", "txt"), "passwd");
        assert_eq!(display_name("C:\\x\\report.pdf", "pdf"), "report.pdf");
        assert_eq!(display_name("in\u{202E}fdp.exe", "pdf"), "infdp.exe");
        assert_eq!(display_name("a\0b", "txt"), "ab");
        assert_eq!(display_name("..", "zip"), "attachment.zip");
        assert_eq!(display_name(&"x".repeat(300), "txt").chars().count(), 255);
    }
}
