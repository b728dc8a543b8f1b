//! JPEG, PNG and WebP: decode under limits, turn upright, re-encode the
//! pixels alone. EXIF (GPS included), XMP, ICC profiles, text chunks and
//! anything appended after the image are gone because nothing but pixels
//! is written back.
//!
//! Output formats: JPEG stays JPEG (quality from the limits), PNG stays PNG
//! (alpha and 16-bit kept). WebP is re-encoded too (crafted WebP bitstreams
//! have attacked recipients' decoders, CVE-2023-4863), but the `image`
//! crate writes lossless WebP only, which took ~5 s and 9 MB for a
//! 12-megapixel photo. So a lossy, opaque WebP (a photo) becomes JPEG, and
//! a lossless or transparent one (graphics, stickers) becomes PNG; `mime`
//! says which. An animated WebP or PNG keeps its first (default) image only.
//!
//! The JPEG decoder fills in missing data rather than fail, so a JPEG is
//! checked for its end marker first: a truncated upload is `Corrupt`, not a
//! half-grey photo.

use super::container::{jpeg_is_complete, webp_is_lossy};
use super::{ImageLimits, MediaError, ProcessedImage, encode, open};
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat};

pub(super) fn process(
    bytes: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<ProcessedImage, MediaError> {
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(MediaError::Corrupt(
            "truncated JPEG (no end of image)".into(),
        ));
    }
    let mut decoder = open(bytes, format, limits)?;
    // A broken EXIF block only costs the rotation, not the image.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);

    // The re-encode and the thumbnail only read `img`: on a second core the
    // thumbnail costs no extra latency.
    let (full, thumb) = std::thread::scope(|scope| {
        let thumb = scope.spawn(|| encode::thumbnail(&img, limits.thumbnail_side));
        let photo = match format {
            ImageFormat::Jpeg => true,
            ImageFormat::WebP => webp_is_lossy(bytes) && !img.color().has_alpha(),
            _ => false,
        };
        let full = if photo {
            encode::jpeg(&img, limits.jpeg_quality).map(|b| (b, "image/jpeg"))
        } else {
            encode::png(&img).map(|b| (b, "image/png"))
        };
        let thumb = thumb
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (full, thumb)
    });
    let ((bytes, mime), thumb) = (full?, thumb?);
    let (width, height) = img.dimensions();
    Ok(ProcessedImage {
        width,
        height,
        bytes,
        mime,
        animated: false,
        thumbnail: thumb.bytes,
        thumbnail_mime: thumb.mime,
        thumbnail_width: thumb.width,
        thumbnail_height: thumb.height,
    })
}
