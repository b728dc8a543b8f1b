//! The type of an upload, decided from its first bytes only: never from
//! the client's file name or `Content-Type`.

use image::ImageFormat;

/// What the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A raster image this server decodes: JPEG, PNG, WebP or GIF. Only
    /// these go through `process_image` and may be served inline.
    Image(ImageFormat),
    /// Anything else (PDF, audio, video, archives, SVG, HTML...): stored as
    /// it is and served as an attachment.
    Other,
}

/// The outcome of [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The `Content-Type` to store and serve.
    pub mime: &'static str,
    /// Whether it is an image to process.
    pub kind: Kind,
}

/// Sniffed from bytes but never given to a browser as such: markup that
/// can run script. These are served as `application/octet-stream` (still
/// as attachments) so no setting or header slip can render them.
const ACTIVE: &[&str] = &["text/html", "text/xml", "application/xml", "image/svg+xml"];

const UNKNOWN: &str = "application/octet-stream";

/// Decides the type from `first_bytes` (pass the first 8 KiB or all of a
/// smaller file; some formats need more than a few bytes). Unknown or
/// active types are `application/octet-stream`.
pub fn sniff(first_bytes: &[u8]) -> Sniffed {
    let Some(found) = infer::get(first_bytes) else {
        return Sniffed {
            mime: UNKNOWN,
            kind: Kind::Other,
        };
    };
    let image = match found.mime_type() {
        "image/jpeg" => Some((ImageFormat::Jpeg, "image/jpeg")),
        "image/png" | "image/apng" => Some((ImageFormat::Png, "image/png")),
        "image/webp" => Some((ImageFormat::WebP, "image/webp")),
        "image/gif" => Some((ImageFormat::Gif, "image/gif")),
        _ => None,
    };
    match image {
        Some((format, mime)) => Sniffed {
            mime,
            kind: Kind::Image(format),
        },
        None if ACTIVE.contains(&found.mime_type()) => Sniffed {
            mime: UNKNOWN,
            kind: Kind::Other,
        },
        None => Sniffed {
            mime: found.mime_type(),
            kind: Kind::Other,
        },
    }
}
