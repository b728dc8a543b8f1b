//! Valid images come back upright, re-encoded, without metadata, with a
//! thumbnail.

use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, DynamicImage, GenericImageView, Rgba, RgbaImage};
use natter_core::media::{ImageFormat, ImageLimits, process_image};
use natter_testkit::images::*;
use std::io::Cursor;

fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

#[test]
fn a_jpeg_with_gps_exif_comes_back_without_it_and_upright() {
    let original = jpeg_with_gps_exif(&jpeg(&photo(640, 480), 92), 6);
    assert!(contains(&original, b"Exif\0\0"));
    let out = process_image(&original, ImageFormat::Jpeg, &ImageLimits::default()).unwrap();

    assert_eq!(out.mime, "image/jpeg");
    assert!(!contains(&out.bytes, b"Exif"));
    let app_segments = jpeg_markers(&out.bytes)
        .into_iter()
        .filter(|m| (0xE1..=0xEF).contains(m))
        .count();
    assert_eq!(app_segments, 0, "no APP1..APP15 (EXIF, XMP, ICC) segments");
    // Orientation 6 means "rotate 90° clockwise to display".
    assert_eq!((out.width, out.height), (480, 640));
    assert_eq!(decode(&out.bytes).dimensions(), (480, 640));

    assert_eq!(out.thumbnail_mime, "image/jpeg");
    assert_eq!((out.thumbnail_width, out.thumbnail_height), (240, 320));
    assert_eq!(decode(&out.thumbnail).dimensions(), (240, 320));
    assert!(!contains(&out.thumbnail, b"Exif"));
}

#[test]
fn a_png_with_a_text_chunk_comes_back_without_it() {
    let img = DynamicImage::ImageRgb8(photo(100, 50));
    let chunk = png_chunk(b"tEXt", b"Comment\0taken at 52.52N 13.40E");
    let original = png_with_chunk(&png(&img), &chunk);
    let out = process_image(&original, ImageFormat::Png, &ImageLimits::default()).unwrap();

    assert_eq!(out.mime, "image/png");
    assert!(!contains(&out.bytes, b"52.52N"));
    let types = png_chunk_types(&out.bytes);
    assert!(
        types
            .iter()
            .all(|t| ["IHDR", "IDAT", "IEND"].contains(&t.as_str())),
        "{types:?}"
    );
    assert_eq!(
        decode(&out.bytes).to_rgb8(),
        img.to_rgb8(),
        "PNG stays lossless"
    );
    assert_eq!((out.width, out.height), (100, 50));
    assert_eq!(
        (out.thumbnail_width, out.thumbnail_height),
        (100, 50),
        "never upscaled"
    );
}

#[test]
fn a_png_with_transparency_keeps_it_and_gets_a_png_thumbnail() {
    let img = RgbaImage::from_fn(800, 400, |x, _| Rgba([0, 0, 255, (x % 256) as u8]));
    let original = png(&DynamicImage::ImageRgba8(img.clone()));
    let out = process_image(&original, ImageFormat::Png, &ImageLimits::default()).unwrap();
    assert_eq!(decode(&out.bytes).to_rgba8(), img);
    assert_eq!(out.thumbnail_mime, "image/png");
    assert_eq!((out.thumbnail_width, out.thumbnail_height), (320, 160));
}

#[test]
fn a_lossless_webp_with_exif_comes_back_as_png_without_it() {
    let img = DynamicImage::ImageRgb8(photo(120, 90));
    let original = webp_with_exif(&webp(&img), 120, 90);
    assert!(contains(&original, b"EXIF"));
    let out = process_image(&original, ImageFormat::WebP, &ImageLimits::default()).unwrap();
    assert_eq!(out.mime, "image/png");
    assert!(!contains(&out.bytes, b"EXIF") && !contains(&out.bytes, b"eXIf"));
    assert_eq!(decode(&out.bytes).to_rgb8(), img.to_rgb8(), "no loss");
    assert_eq!(out.thumbnail_mime, "image/jpeg");
}

#[test]
fn a_lossy_webp_becomes_jpeg_unless_it_is_transparent() {
    use base64::Engine;
    // The 1x1 probes from Google's WebP feature-detection snippet.
    let lossy = "UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA";
    let alpha = "UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABW\
                 UDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA==";
    for (b64, mime) in [(lossy, "image/jpeg"), (alpha, "image/png")] {
        let b64: String = b64.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let out = process_image(&bytes, ImageFormat::WebP, &ImageLimits::default()).unwrap();
        assert_eq!((out.mime, out.width, out.height), (mime, 1, 1));
        assert_eq!(decode(&out.bytes).dimensions(), (1, 1));
    }
}

#[test]
fn an_animated_gif_stays_animated_without_comments_or_trailing_bytes() {
    let gif = animated_gif(3, 40, 30);
    let at = gif_first_block(&gif);
    let mut original = gif[..at].to_vec();
    original.extend(gif_extension(0xFE, b"<script>alert(1)</script>"));
    original.extend(gif_application(
        b"XMP DataXMP",
        b"<x:xmpmeta>GPS</x:xmpmeta>",
    ));
    original.extend(&gif[at..]);
    original.extend(b"<html><script>alert(2)</script></html>");

    let out = process_image(&original, ImageFormat::Gif, &ImageLimits::default()).unwrap();
    assert_eq!(out.mime, "image/gif");
    assert!(out.animated);
    assert!(!contains(&out.bytes, b"<script>"));
    assert!(!contains(&out.bytes, b"XMP DataXMP"));
    assert!(contains(&out.bytes, b"NETSCAPE2.0"), "looping is kept");
    assert_eq!(out.bytes, gif, "nothing but the added blocks changed");
    let frames = GifDecoder::new(Cursor::new(&out.bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 3);
    assert_eq!((out.width, out.height), (40, 30));
    assert_eq!(out.thumbnail_mime, "image/jpeg");
    let thumb = decode(&out.thumbnail).to_rgb8();
    assert_eq!(thumb.dimensions(), (40, 30));
    let first = thumb.get_pixel(20, 15).0;
    assert!(
        first[0] > 150 && first[1] < 80,
        "the first (red) frame: {first:?}"
    );
}

#[test]
fn a_single_frame_gif_is_not_animated() {
    let out = process_image(
        &animated_gif(1, 40, 30),
        ImageFormat::Gif,
        &ImageLimits::default(),
    )
    .unwrap();
    assert!(!out.animated);
}

#[test]
fn a_large_photo_gets_a_320_pixel_thumbnail() {
    let original = jpeg(&photo(2000, 1000), 85);
    let out = process_image(&original, ImageFormat::Jpeg, &ImageLimits::default()).unwrap();
    assert_eq!((out.width, out.height), (2000, 1000));
    assert_eq!((out.thumbnail_width, out.thumbnail_height), (320, 160));
    assert!(
        out.thumbnail.len() < 40_000,
        "{} bytes",
        out.thumbnail.len()
    );
}

/// Timing for the closing note:
/// `cargo test -p natter --lib media::tests::images::timing -- --ignored --nocapture`
#[test]
#[ignore = "prints timings, asserts nothing about them"]
fn timing_of_a_12_megapixel_jpeg() {
    let original = jpeg(&photo(4000, 3000), 90);
    let started = std::time::Instant::now();
    let out = process_image(&original, ImageFormat::Jpeg, &ImageLimits::default()).unwrap();
    let elapsed = started.elapsed();
    println!(
        "12 MP JPEG ({} KiB in, {} KiB out, {} KiB thumbnail): {elapsed:?}",
        original.len() / 1024,
        out.bytes.len() / 1024,
        out.thumbnail.len() / 1024
    );
}
