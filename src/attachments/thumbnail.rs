//! Thumbnails: the image's size is read from its header (a decompression bomb is refused before
//! any pixel is decoded), then a PNG of at most 320 px a side is written beside the file. Decoding
//! holds the whole image in memory, so only a few run at once.

use std::io::Write;
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};
use tempfile::NamedTempFile;

use super::AttachmentError;

/// Largest image we decode for a thumbnail: 40 megapixels (a 16-bit RGBA image of that size
/// needs 320 MB, still bounded by the allocation limit below).
const MAX_PIXELS: u64 = 40_000_000;
const THUMBNAIL_EDGE: u32 = 320;

/// Reads the image size from the header (refusing bombs before decoding), then writes a PNG
/// thumbnail next to where the file will go. Returns (width, height, thumbnail file name).
pub(super) fn thumbnail(
    source: &Path,
    dir: &Path,
    stem: &str,
) -> Result<(u32, u32, String), AttachmentError> {
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
        let _decoding = DecodeInFlight::start();
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

/// Counts an image decode for the metrics while it lasts.
struct DecodeInFlight;

impl DecodeInFlight {
    fn start() -> DecodeInFlight {
        crate::metrics::image_decodes(1.0);
        DecodeInFlight
    }
}

impl Drop for DecodeInFlight {
    fn drop(&mut self) {
        crate::metrics::image_decodes(-1.0);
    }
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
    pub(super) fn inside(&self) -> usize {
        self.take.capacity().unwrap_or_default() - self.take.len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let _ = self.0.give.send(());
    }
}
