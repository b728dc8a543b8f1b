//! Hostile images and markup: broken and oversized images, HTML and SVG
//! posing as pictures, polyglots. What a user relies on: nothing uploaded
//! can crash the server or run script in a browser that opens it.

use crate::fixtures::{
    assert_refused, contains, decode, file_path, get, header_of, jpeg, ok, png, png_flood, upload,
    upload_raw,
};
use crate::helpers::{TestServer, assert_problem};
use natter_proto::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_corrupt_images_are_refused_cleanly() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let photo = jpeg(300, 200);
    let picture = png(300, 200);
    let mut flipped = picture.clone();
    // Damage the pixel data (and so the IDAT CRC) past the header.
    for byte in flipped.iter_mut().skip(60).step_by(7) {
        *byte ^= 0x5A;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.jpg", photo[..photo.len() / 3].to_vec()),
        ("truncated.png", picture[..picture.len() / 2].to_vec()),
        ("header-only.png", picture[..40].to_vec()),
        ("corrupt.png", flipped),
        ("garbage.jpg", {
            let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
            bytes.extend((0..4000u32).map(|i| (i * 7919 % 256) as u8));
            bytes
        }),
        ("garbage.gif", {
            let mut bytes = b"GIF89a".to_vec();
            bytes.extend([0xFF; 64]);
            bytes
        }),
        (
            "riff.webp",
            b"RIFF\x20\0\0\0WEBPVP8 \x14\0\0\0garbage garbage!".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        let response = upload_raw(&alice, name, &bytes, "image/png").await;
        assert_refused(&response, name);
    }
    // And the server is still fine afterwards.
    upload(&alice, "fine.png", &png(20, 20), "image/png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pixel_flood_png_is_refused_without_decoding_it() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let bomb = png_flood(50_000, 50_000);
    assert!(bomb.len() < 100, "the bomb is tiny on the wire");
    let response = upload_raw(&alice, "flood.png", &bomb, "image/png").await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("large"),
        "{problem}"
    );
    upload(&alice, "fine.png", &png(20, 20), "image/png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_declared_as_a_png_is_served_as_an_inert_attachment() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let html = b"<html><body><script>fetch('/api/v1/users/me')</script></body></html>";
    let info = upload(&alice, "cute-cat.png", html, "image/png").await;
    assert!(!info.mime.starts_with("image/"), "typed {}", info.mime);
    assert!(!info.mime.contains("html"), "typed {}", info.mime);
    assert_eq!((info.width, &info.thumbnail_url), (None, &None));

    let served = ok(get(&alice.without_token(), &info.url).await, "the page");
    assert_eq!(served.body, html);
    let content_type = served.content_type().unwrap_or_default();
    assert!(
        !content_type.contains("html") && !content_type.starts_with("image/"),
        "{content_type}"
    );
    assert!(header_of(&served, "content-disposition").starts_with("attachment"));
    assert_eq!(header_of(&served, "x-content-type-options"), "nosniff");
    assert!(header_of(&served, "content-security-policy").contains("sandbox"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_svg_with_script_is_never_served_inline() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.domain)</script><rect width="10" height="10"/></svg>"#;
    let info = upload(&alice, "logo.svg", svg, "image/svg+xml").await;
    assert!(!info.mime.contains("svg"), "typed {}", info.mime);
    assert_eq!(info.thumbnail_url, None);

    for client in [alice.clone(), alice.without_token()] {
        let url = if client.token().is_some() {
            file_path(&info.file_id)
        } else {
            info.url.clone()
        };
        let served = ok(get(&client, &url).await, "the SVG");
        let content_type = served.content_type().unwrap_or_default();
        assert!(!content_type.contains("svg") && !content_type.contains("xml"));
        assert!(header_of(&served, "content-disposition").starts_with("attachment"));
        assert_eq!(header_of(&served, "x-content-type-options"), "nosniff");
        assert!(header_of(&served, "content-security-policy").contains("sandbox"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gif_html_polyglot_is_refused() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let polyglot = b"GIF89a/*<html><script>alert(document.cookie)</script></html>*/";
    let response = upload_raw(&alice, "funny.gif", polyglot, "image/gif").await;
    assert_problem(&response, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_appended_to_a_real_png_does_not_survive_reencoding() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let mut polyglot = png(32, 32);
    polyglot.extend(b"<html><script>alert(1)</script></html>");
    let info = upload(&alice, "polyglot.png", &polyglot, "image/png").await;
    assert_eq!(info.mime, "image/png");
    let served = ok(get(&alice, &info.url).await, "the PNG");
    assert!(!contains(&served.body, b"<script>"));
    decode(&served.body);
}
