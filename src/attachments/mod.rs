//! Attachment files (seed: MessageAttachmentService): the type is decided from the bytes against an
//! allowlist, never from the name or the client's content type; files land under
//! `uploads/messages/YYYY/MM/<conversation_id>/<uuid>.<ext>`; images get their size and a
//! thumbnail, and decompression bombs are refused from the header before decoding.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Utc};
use image::{ImageFormat, ImageReader, Limits};
use tempfile::NamedTempFile;

/// What can go wrong with an attachment, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttachmentError {
    /// The type, decided from the bytes, is not on the allowlist (or the image is unreadable).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    TooLarge(String),
    /// The data directory's file system is full: nothing was kept.
    #[error("the server has no space left to store files; try again later")]
    NoSpace,
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
/// Largest image we decode for a thumbnail: 40 megapixels (a 16-bit RGBA image of that size
/// needs 320 MB, still bounded by the allocation limit below).
const MAX_PIXELS: u64 = 40_000_000;
const THUMBNAIL_EDGE: u32 = 320;

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

/// Reads the image size from the header (refusing bombs before decoding), then writes a PNG
/// thumbnail next to where the file will go. Returns (width, height, thumbnail file name).
fn thumbnail(source: &Path, dir: &Path, stem: &str) -> Result<(u32, u32, String), AttachmentError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        AttachmentError::NotAllowed(format!("the image could not be read: {e}"))
    };
    let too_big = |width: u32, height: u32| {
        AttachmentError::TooLarge(format!(
            "the image is {width}×{height} pixels; at most {} megapixels are accepted",
            MAX_PIXELS / 1_000_000
        ))
    };
    // The size comes from the header alone (no pixel buffer is allocated for it, so no
    // allocation limit applies); nothing is decoded before it passes.
    let mut header_reader = ImageReader::open(source)?.with_guessed_format()?;
    header_reader.no_limits();
    let (width, height) = header_reader
        .into_dimensions()
        .map_err(|e| unreadable(&e))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_big(width, height));
    }
    let mut reader = ImageReader::open(source)?.with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(30_000);
    limits.max_image_height = Some(30_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let thumb = {
        // A decoded image holds up to 4 bytes a pixel (160 MB at the limit): few at a time, each
        // turn lasting until the full-size pixels are gone.
        let _turn = decode_gate().enter();
        let image = reader.decode().map_err(|e| match e {
            image::ImageError::Limits(_) => too_big(width, height),
            other => unreadable(&other),
        })?;
        image.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE)
    };
    // Encoded in memory (a few hundred KB at most), so every write error surfaces below.
    let mut png = std::io::Cursor::new(Vec::new());
    thumb.write_to(&mut png, ImageFormat::Png)?;
    let name = format!("{stem}_thumb.png");
    let mut temp = NamedTempFile::new_in(dir)?;
    temp.write_all(png.get_ref())?;
    temp.as_file().sync_all()?;
    temp.persist(dir.join(&name)).map_err(|e| e.error)?;
    Ok((width, height, name))
}

/// How many images may be decoded at once: half the CPUs, at least one. Each decode holds the
/// whole pixel buffer, so this bounds what a burst of large uploads adds to the server's memory.
pub(crate) fn decode_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}

fn decode_gate() -> &'static Gate {
    static GATE: std::sync::OnceLock<Gate> = std::sync::OnceLock::new();
    GATE.get_or_init(|| Gate::new(decode_slots()))
}

/// A counting gate for blocking threads: a channel holding one token per slot. [`Gate::enter`]
/// takes a token (waiting for one if none is left); dropping the [`Turn`] gives it back.
pub(crate) struct Gate {
    give: crossbeam_channel::Sender<()>,
    take: crossbeam_channel::Receiver<()>,
}

/// A thread's turn inside a [`Gate`]; leaving is dropping it.
pub(crate) struct Turn<'g>(&'g Gate);

impl Gate {
    pub(crate) fn new(slots: usize) -> Gate {
        let slots = slots.max(1);
        let (give, take) = crossbeam_channel::bounded(slots);
        for _ in 0..slots {
            let _ = give.send(());
        }
        Gate { give, take }
    }

    pub(crate) fn enter(&self) -> Turn<'_> {
        // The gate owns both ends, so the channel never disconnects.
        let _ = self.take.recv();
        Turn(self)
    }

    /// How many threads are inside now.
    #[cfg(test)]
    fn inside(&self) -> usize {
        self.take.capacity().unwrap_or_default() - self.take.len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let _ = self.0.give.send(());
    }
}

/// Removes files under `uploads/messages` that no row names and that were last written more than
/// `age` ago: left by a crash between a file's rename and its row's commit. Only this month's and
/// last month's folders are walked (the hourly sweep finds a crash's files long before they are
/// older), and `named(conversation_id)` is asked once per conversation folder with candidates,
/// for the paths (relative to the data directory) its rows name. Returns how many were removed.
pub(crate) fn sweep_orphans<E>(
    data_dir: &Path,
    age: std::time::Duration,
    mut named: impl FnMut(i64) -> Result<std::collections::HashSet<String>, E>,
) -> Result<usize, E> {
    let now = Utc::now();
    let last_month = now - chrono::Duration::days(i64::from(now.day()));
    let mut removed = 0;
    for month in [now, last_month] {
        let relative = format!("uploads/messages/{:04}/{:02}", month.year(), month.month());
        let Ok(conversations) = std::fs::read_dir(data_dir.join(&relative)) else {
            continue;
        };
        for folder in conversations.flatten() {
            let Some(conversation_id) = folder.file_name().to_str().and_then(|n| n.parse().ok())
            else {
                continue;
            };
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            let old: Vec<String> = files
                .flatten()
                .filter(|f| older_than(f, age))
                .filter_map(|f| {
                    f.file_name()
                        .to_str()
                        .map(|n| format!("{relative}/{conversation_id}/{n}"))
                })
                .collect();
            if old.is_empty() {
                continue;
            }
            let kept = named(conversation_id)?;
            for path in old.iter().filter(|p| !kept.contains(*p)) {
                match std::fs::remove_file(data_dir.join(path)) {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(error = %e, "could not remove an orphaned attachment"),
                }
            }
        }
    }
    Ok(removed)
}

/// Is this a file last written more than `age` ago?
fn older_than(entry: &std::fs::DirEntry, age: std::time::Duration) -> bool {
    entry
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Removes stored files (and thumbnails) whose rows did not commit.
pub(crate) fn remove(data_dir: &Path, files: &[StoredFile]) {
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

    #[test]
    fn the_gate_lets_in_at_most_its_slots() {
        let gate = std::sync::Arc::new(Gate::new(2));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, most) = (gate.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _turn = gate.enter();
                        most.fetch_max(gate.inside(), std::sync::atomic::Ordering::SeqCst);
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!((1..=2).contains(&most.load(std::sync::atomic::Ordering::SeqCst)));
        assert_eq!(gate.inside(), 0);
        let (_a, _b) = (gate.enter(), gate.enter());
        assert_eq!(gate.inside(), 2);
    }

    #[test]
    fn a_full_disk_is_its_own_error() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(matches!(
            AttachmentError::from(full),
            AttachmentError::NoSpace
        ));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(
            AttachmentError::from(other),
            AttachmentError::Io(_)
        ));
    }
}
