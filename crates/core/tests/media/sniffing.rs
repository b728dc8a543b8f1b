//! The type comes from the bytes; markup is never an image.

use image::DynamicImage;
use natter_core::media::{ImageFormat, Kind, sniff};
use natter_testkit::images::*;

#[test]
fn the_four_image_formats_are_recognised_by_their_bytes() {
    let img = DynamicImage::ImageRgb8(photo(8, 8));
    let cases = [
        (jpeg(&photo(8, 8), 80), ImageFormat::Jpeg, "image/jpeg"),
        (png(&img), ImageFormat::Png, "image/png"),
        (webp(&img), ImageFormat::WebP, "image/webp"),
        (animated_gif(2, 40, 30), ImageFormat::Gif, "image/gif"),
    ];
    for (bytes, format, mime) in cases {
        let sniffed = sniff(&bytes);
        assert_eq!(sniffed.kind, Kind::Image(format));
        assert_eq!(sniffed.mime, mime);
    }
}

#[test]
fn html_is_not_an_image_and_is_never_typed_as_html() {
    for html in [
        &b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"[..],
        b"  <html><script>alert(1)</script>",
        b"<script>alert(1)</script>",
    ] {
        let sniffed = sniff(html);
        assert_eq!(sniffed.kind, Kind::Other);
        assert_eq!(sniffed.mime, "application/octet-stream");
    }
}

#[test]
fn an_svg_with_script_is_not_an_image() {
    for svg in [
        &br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#[..],
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#,
    ] {
        let sniffed = sniff(svg);
        assert_eq!(sniffed.kind, Kind::Other);
        assert_eq!(sniffed.mime, "application/octet-stream");
    }
}

#[test]
fn other_known_types_keep_their_type_and_unknown_bytes_are_octet_streams() {
    let pdf = sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj");
    assert_eq!((pdf.mime, pdf.kind), ("application/pdf", Kind::Other));
    let text = sniff(b"just some notes");
    assert_eq!(
        (text.mime, text.kind),
        ("application/octet-stream", Kind::Other)
    );
    assert_eq!(sniff(b"").mime, "application/octet-stream");
}
