//! What uploaded bytes are and how images are made safe to serve: type
//! sniffing from the bytes ([`sniff`]), the tracks of audio and video
//! containers ([`tracks`]: audio-only WebM, Ogg, MP4), file name
//! sanitising ([`sanitize_file_name`]) and image processing
//! ([`process_image`]): decode under pixel and memory limits, re-encode
//! without metadata (EXIF, GPS, XMP, ICC), thumbnail.
//!
//! Pure CPU work: no I/O, no async. Callers run [`process_image`] in
//! `spawn_blocking`. Hostile input yields errors, never panics; nothing
//! here catches unwinds, the decoders' own checks and the limits carry it.

mod container;
mod encode;
mod gif;
mod names;
mod sniff;
mod still;
pub mod tracks;

pub use image::ImageFormat;
pub use names::sanitize_file_name;
pub use sniff::{Kind, Sniffed, sniff};

use image::{ImageDecoder, ImageError, ImageReader};
use std::io::Cursor;

/// Why an image was refused. Callers map `TooLarge` and `Corrupt` to 400
/// and `Unsupported` to 415 (problem details; the text is safe to show).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Over a pixel, side, frame or memory limit.
    #[error("image too large: {0}")]
    TooLarge(String),
    /// Not a well-formed image of the format it claims to be.
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// A format or feature this server does not process.
    #[error("unsupported image format")]
    Unsupported,
}

impl From<ImageError> for MediaError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Limits(e) => MediaError::TooLarge(e.to_string()),
            ImageError::Unsupported(_) => MediaError::Unsupported,
            e => MediaError::Corrupt(e.to_string()),
        }
    }
}

/// Limits on what [`process_image`] accepts. Checked from the header
/// before any pixel buffer is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Width times height, at most (default 50 megapixels).
    pub max_pixels: u64,
    /// Longest side, at most (default 32,768: room for panoramas).
    pub max_side: u32,
    /// What a decoder may allocate at once (default 512 MiB).
    pub max_alloc: u64,
    /// Frames in an animated GIF, at most (default 2,000).
    pub max_frames: u32,
    /// Pixels summed over all frames of an animated GIF, at most (default
    /// 250 megapixels): bounds the CPU spent validating an animation.
    pub max_animation_pixels: u64,
    /// JPEG quality for re-encoded JPEGs (default 88).
    pub jpeg_quality: u8,
    /// Longest side of thumbnails (default 320; never upscaled).
    pub thumbnail_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            max_side: 32_768,
            max_alloc: 512 * 1024 * 1024,
            max_frames: 2_000,
            max_animation_pixels: 250_000_000,
            jpeg_quality: 88,
            thumbnail_side: 320,
        }
    }
}

/// A processed image, ready to store.
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    /// Width as displayed (after applying the EXIF orientation).
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
    /// The bytes to serve as the file: re-encoded pixels (JPEG or PNG) or,
    /// for GIF, the original blocks minus comments and non-looping
    /// application extensions.
    pub bytes: Vec<u8>,
    /// The type of `bytes`: the input's, except that WebP becomes
    /// `image/jpeg` (lossy, opaque) or `image/png` (lossless or
    /// transparent). Serve this, not the sniffed type.
    pub mime: &'static str,
    /// Whether `bytes` is a GIF with more than one frame.
    pub animated: bool,
    /// The thumbnail: JPEG, or PNG if it has transparent pixels.
    pub thumbnail: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub thumbnail_mime: &'static str,
    /// Thumbnail width.
    pub thumbnail_width: u32,
    /// Thumbnail height.
    pub thumbnail_height: u32,
}

/// Validates and re-encodes an image whose `format` came from [`sniff`]
/// (not from the client), and makes its thumbnail. Only JPEG, PNG, WebP
/// and GIF are processed; other formats are `Unsupported`. Takes tens to
/// hundreds of milliseconds for a photo: call it in `spawn_blocking`.
pub fn process_image(
    bytes: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<ProcessedImage, MediaError> {
    match format {
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP => {
            still::process(bytes, format, limits)
        }
        ImageFormat::Gif => gif::process(bytes, limits),
        _ => Err(MediaError::Unsupported),
    }
}

/// A decoder past the header, with `limits` applied: dimensions are
/// checked here, before anything the size of the image is allocated.
fn open<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<impl ImageDecoder + 'a, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits(limits));
    let decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    Ok(decoder)
}

/// The `image` crate's limits for `limits`: decoders refuse larger
/// headers themselves and cap what they allocate.
fn decode_limits(limits: &ImageLimits) -> image::Limits {
    let mut decode = image::Limits::default();
    decode.max_image_width = Some(limits.max_side);
    decode.max_image_height = Some(limits.max_side);
    decode.max_alloc = Some(limits.max_alloc);
    decode
}

/// Refuses empty images and those over the side or pixel limits.
fn check_size(width: u32, height: u32, limits: &ImageLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt(format!("{width}x{height} image")));
    }
    let pixels = u64::from(width) * u64::from(height);
    if width.max(height) > limits.max_side || pixels > limits.max_pixels {
        return Err(MediaError::TooLarge(format!(
            "{width}x{height} pixels (at most {} pixels, {} per side)",
            limits.max_pixels, limits.max_side
        )));
    }
    Ok(())
}
