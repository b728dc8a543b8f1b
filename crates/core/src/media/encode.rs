//! Encoding decoded pixels: full-size re-encodes and thumbnails. Encoders
//! here are given pixels only, so no metadata from the upload survives.

use super::MediaError;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView};

/// Thumbnails are small and viewed small: a lower quality than the
/// full-size re-encode costs nothing visible.
const THUMBNAIL_JPEG_QUALITY: u8 = 80;

/// A thumbnail, encoded.
pub(super) struct Thumbnail {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// JPEG at `quality`, through `jpeg-encoder` (about four times faster than
/// the `image` crate's own encoder on a 12-megapixel photo). JPEG has no
/// alpha or 16-bit samples: those are flattened to 8-bit RGB (grey stays
/// grey). Below quality 90 chroma is subsampled 4:2:0, as cameras do.
pub(super) fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let (Ok(width), Ok(height)) = (u16::try_from(img.width()), u16::try_from(img.height())) else {
        return Err(MediaError::TooLarge("JPEG sides are at most 65,535".into()));
    };
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    let encoded = match img {
        DynamicImage::ImageLuma8(grey) => {
            encoder.encode(grey.as_raw(), width, height, jpeg_encoder::ColorType::Luma)
        }
        DynamicImage::ImageRgb8(rgb) => {
            encoder.encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        }
        img if !img.color().has_color() => {
            let grey = img.to_luma8();
            encoder.encode(grey.as_raw(), width, height, jpeg_encoder::ColorType::Luma)
        }
        img => {
            let rgb = img.to_rgb8();
            encoder.encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        }
    };
    encoded.map_err(|e| MediaError::Corrupt(format!("re-encoding failed: {e}")))?;
    Ok(out)
}

/// PNG, keeping the color type (alpha, 16-bit).
pub(super) fn png(img: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    img.write_with_encoder(PngEncoder::new(&mut out))
        .map_err(encoding)?;
    Ok(out)
}

/// A thumbnail whose longest side is at most `side` (never upscaled):
/// JPEG, or PNG when some pixel is not fully opaque.
pub(super) fn thumbnail(img: &DynamicImage, side: u32) -> Result<Thumbnail, MediaError> {
    let small = if img.width() <= side && img.height() <= side {
        img.clone()
    } else if img.width().max(img.height()) / 2 > side {
        // Area-average down to twice the size first (each source pixel
        // counted once: cheap, no aliasing at large ratios), then Triangle
        // for the last step: half a full-size Triangle's time on 12 MP.
        let twice = side.saturating_mul(2);
        img.thumbnail(twice, twice)
            .resize(side, side, FilterType::Triangle)
    } else {
        img.resize(side, side, FilterType::Triangle)
    };
    let (width, height) = small.dimensions();
    let (bytes, mime) = if is_opaque(&small) {
        (jpeg(&small, THUMBNAIL_JPEG_QUALITY)?, "image/jpeg")
    } else {
        let rgba = DynamicImage::ImageRgba8(small.to_rgba8());
        (png(&rgba)?, "image/png")
    };
    Ok(Thumbnail {
        bytes,
        mime,
        width,
        height,
    })
}

fn is_opaque(img: &DynamicImage) -> bool {
    if !img.color().has_alpha() {
        return true;
    }
    img.to_rgba8().pixels().all(|p| p.0[3] == u8::MAX)
}

fn encoding(e: image::ImageError) -> MediaError {
    MediaError::Corrupt(format!("re-encoding failed: {e}"))
}
