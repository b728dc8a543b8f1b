//! Hostile input: clean errors, no panics, no huge allocations.

use image::DynamicImage;
use natter_core::media::{ImageFormat, ImageLimits, MediaError, process_image};
use natter_testkit::images::*;

fn process(bytes: &[u8], format: ImageFormat) -> Result<(), MediaError> {
    process_image(bytes, format, &ImageLimits::default()).map(|_| ())
}

#[test]
fn a_truncated_jpeg_is_corrupt() {
    let whole = jpeg(&photo(64, 48), 90);
    for len in [0, 1, 2, 3, 20, 100, whole.len() / 2, whole.len() - 2] {
        let result = process(&whole[..len], ImageFormat::Jpeg);
        assert!(
            matches!(result, Err(MediaError::Corrupt(_))),
            "{len}: {result:?}"
        );
    }
}

#[test]
fn a_truncated_png_is_corrupt() {
    let whole = png(&DynamicImage::ImageRgb8(photo(64, 48)));
    for len in [0, 8, 20, 40, whole.len() / 2, whole.len() - 13] {
        let result = process(&whole[..len], ImageFormat::Png);
        assert!(
            matches!(result, Err(MediaError::Corrupt(_))),
            "{len}: {result:?}"
        );
    }
}

#[test]
fn a_png_claiming_50000_by_50000_pixels_is_refused_before_decoding() {
    let flood = png_flood(50_000, 50_000);
    assert!(flood.len() < 100);
    let result = process(&flood, ImageFormat::Png);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");

    // Within the side limit, the pixel count still refuses it.
    let limits = ImageLimits {
        max_side: 100_000,
        ..ImageLimits::default()
    };
    let result = process_image(&flood, ImageFormat::Png, &limits);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");
}

#[test]
fn a_jpeg_claiming_65535_by_65535_pixels_is_refused_before_decoding() {
    let mut flood = jpeg(&photo(16, 16), 90);
    let sof = flood.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    // SOF0: length(2) precision(1) height(2) width(2)
    flood[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let result = process(&flood, ImageFormat::Jpeg);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");
}

#[test]
fn a_gif_with_too_many_frames_is_refused_before_decoding() {
    let limits = ImageLimits {
        max_frames: 5,
        ..ImageLimits::default()
    };
    let result = process_image(&animated_gif(6, 40, 30), ImageFormat::Gif, &limits);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");
    let limits = ImageLimits {
        max_animation_pixels: 40 * 30 * 2,
        ..ImageLimits::default()
    };
    let result = process_image(&animated_gif(3, 40, 30), ImageFormat::Gif, &limits);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");
}

#[test]
fn a_gif_with_a_huge_screen_is_refused() {
    let mut gif = animated_gif(1, 40, 30);
    gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let result = process(&gif, ImageFormat::Gif);
    assert!(matches!(result, Err(MediaError::TooLarge(_))), "{result:?}");
}

#[test]
fn a_gif_header_followed_by_html_is_corrupt_not_served() {
    let polyglot = b"GIF89a<html><script>alert(document.cookie)</script></html>";
    assert_eq!(
        natter_core::media::sniff(polyglot).kind,
        natter_core::media::Kind::Image(ImageFormat::Gif),
        "sniffed as a GIF, so it must go through the image path"
    );
    let result = process(polyglot, ImageFormat::Gif);
    assert!(matches!(result, Err(MediaError::Corrupt(_))), "{result:?}");
}

#[test]
fn a_png_followed_by_html_comes_back_as_pixels_only() {
    let mut polyglot = png(&DynamicImage::ImageRgb8(photo(32, 32)));
    polyglot.extend(b"<html><script>alert(1)</script></html>");
    let out = process_image(&polyglot, ImageFormat::Png, &ImageLimits::default()).unwrap();
    assert!(!contains(&out.bytes, b"<script>"));
}

#[test]
fn formats_other_than_the_four_are_unsupported() {
    let result = process(b"BM not really a bitmap", ImageFormat::Bmp);
    assert!(matches!(result, Err(MediaError::Unsupported)), "{result:?}");
}

/// Every prefix and a spread of single-byte corruptions of each valid
/// fixture: any outcome but a panic (or a hang) is fine.
#[test]
fn mangled_images_never_panic() {
    let img = DynamicImage::ImageRgb8(photo(24, 16));
    let corpus = [
        (
            jpeg_with_gps_exif(&jpeg(&photo(24, 16), 80), 3),
            ImageFormat::Jpeg,
        ),
        (png(&img), ImageFormat::Png),
        (webp(&img), ImageFormat::WebP),
        (animated_gif(3, 40, 30), ImageFormat::Gif),
    ];
    let limits = ImageLimits::default();
    for (bytes, format) in &corpus {
        for len in 0..bytes.len() {
            let _ = process_image(&bytes[..len], *format, &limits);
        }
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut mangled = bytes.clone();
                mangled[i] ^= flip;
                let _ = process_image(&mangled, *format, &limits);
            }
        }
    }
}
