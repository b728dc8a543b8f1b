//! Uploads of real files and how they come back: images re-encoded
//! without metadata, with their size recorded and a thumbnail; other
//! files byte for byte; and the headers a browser or a media player
//! relies on (type, disposition, `ETag`/304, ranges, caching).

use crate::fixtures::{
    animated_gif, contains, decode, file_path, get, get_with, gif_frames, header_of, jpeg,
    jpeg_with_gps, ogg, ok, pdf, png, upload, webp,
};
use crate::helpers::TestServer;
use natter_client::header;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_comes_back_without_its_gps_position_and_with_a_320_pixel_thumbnail() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let original = jpeg_with_gps(800, 600);
    assert!(contains(&original, b"Exif\0\0"), "the fixture carries EXIF");

    let info = upload(&alice, "holiday.jpg", &original, "image/jpeg").await;
    assert_eq!(info.mime, "image/jpeg");
    assert_eq!((info.width, info.height), (Some(800), Some(600)));
    assert_eq!(info.name, "holiday.jpg");
    assert_eq!(info.sha256.len(), 64);

    let served = ok(get(&alice.without_token(), &info.url).await, "the photo");
    assert!(!contains(&served.body, b"Exif"), "EXIF must be stripped");
    assert_eq!(served.body.len() as i64, info.size);
    assert_eq!(served.content_type(), Some("image/jpeg"));
    let pixels = decode(&served.body);
    assert_eq!((pixels.width(), pixels.height()), (800, 600));

    let thumb_url = info.thumbnail_url.expect("a photo has a thumbnail");
    let thumb = ok(
        get(&alice.without_token(), &thumb_url).await,
        "the thumbnail",
    );
    assert!(!contains(&thumb.body, b"Exif"));
    let small = decode(&thumb.body);
    assert_eq!(small.width().max(small.height()), 320);
    assert_eq!((small.width(), small.height()), (320, 240));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn png_and_webp_pictures_get_a_thumbnail_and_their_size() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    for (name, bytes, declared) in [
        ("diagram.png", png(640, 400), "image/png"),
        ("sticker.webp", webp(500, 500), "image/webp"),
    ] {
        let info = upload(&alice, name, &bytes, declared).await;
        assert!(info.mime.starts_with("image/"), "{name}: {}", info.mime);
        assert_ne!(info.mime, "image/webp", "WebP is re-encoded to JPEG or PNG");
        assert_eq!(info.width.zip(info.height), {
            let decoded = decode(&bytes);
            Some((decoded.width(), decoded.height()))
        });
        let served = ok(get(&alice, &info.url).await, name);
        assert_eq!(served.content_type(), Some(info.mime.as_str()), "{name}");
        decode(&served.body);
        let thumb_url = info.thumbnail_url.expect("a picture has a thumbnail");
        let thumb = decode(&ok(get(&alice, &thumb_url).await, name).body);
        assert_eq!(thumb.width().max(thumb.height()), 320, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_animated_gif_stays_an_animated_gif() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "dance.gif", &animated_gif(4), "image/gif").await;
    assert_eq!(info.mime, "image/gif");
    assert_eq!((info.width, info.height), (Some(400), Some(300)));

    let served = ok(get(&alice, &info.url).await, "the GIF");
    assert_eq!(served.content_type(), Some("image/gif"));
    assert!(served.body.starts_with(b"GIF8"));
    assert_eq!(gif_frames(&served.body).len(), 4, "every frame is kept");

    let thumb_url = info.thumbnail_url.expect("a GIF has a thumbnail");
    let thumb = decode(&ok(get(&alice, &thumb_url).await, "the GIF thumbnail").body);
    assert_eq!(thumb.width().max(thumb.height()), 320);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_is_stored_byte_for_byte_and_served_as_an_attachment() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let document = pdf(10_000);
    let info = upload(&alice, "report.pdf", &document, "application/pdf").await;
    assert_eq!(info.mime, "application/pdf");
    assert_eq!(info.size, 10_000);
    assert_eq!(
        (info.width, info.height, &info.thumbnail_url),
        (None, None, &None)
    );

    let served = ok(get(&alice.without_token(), &info.url).await, "the PDF");
    assert_eq!(served.body, document);
    assert_eq!(served.content_type(), Some("application/pdf"));
    assert!(
        header_of(&served, "content-disposition").starts_with("attachment"),
        "{:?}",
        served.headers
    );
    assert!(header_of(&served, "content-disposition").contains("report.pdf"));
    assert_eq!(header_of(&served, "x-content-type-options"), "nosniff");
    assert!(header_of(&served, "content-security-policy").contains("sandbox"));
    assert_eq!(header_of(&served, "content-length"), "10000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_shown_inline_with_safe_headers() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "cat.png", &png(64, 48), "image/png").await;
    let served = ok(get(&alice, &file_path(&info.file_id)).await, "by Bearer");
    assert!(header_of(&served, "content-disposition").starts_with("inline"));
    assert_eq!(header_of(&served, "x-content-type-options"), "nosniff");
    assert!(header_of(&served, "content-security-policy").contains("sandbox"));
    assert_eq!(served.content_type(), Some("image/png"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_copy_is_revalidated_with_its_etag() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "photo.jpg", &jpeg(400, 300), "image/jpeg").await;
    for url in [info.url.clone(), info.thumbnail_url.clone().unwrap()] {
        let first = ok(get(&alice, &url).await, "the first read");
        let etag = header_of(&first, "etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() > 2, "ETag {etag:?}");

        let again = get_with(&alice, &url, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(again.status, 304, "If-None-Match with the current ETag");
        assert!(again.body.is_empty());
        assert_eq!(header_of(&again, "etag"), etag);

        let stale = get_with(&alice, &url, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
        assert_eq!(stale.status, 200, "a different ETag gets the bytes");
        assert_eq!(stale.body, first.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_can_seek_with_byte_ranges() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let document = ogg(5_000);
    let info = upload(&alice, "voice note.ogg", &document, "audio/ogg").await;
    assert!(info.mime.starts_with("audio/"), "{}", info.mime);
    let full = ok(get(&alice, &info.url).await, "the whole file");
    assert_eq!(header_of(&full, "accept-ranges"), "bytes");

    let first = get_with(&alice, &info.url, &[(header::RANGE, "bytes=0-99")]).await;
    assert_eq!(first.status, 206);
    assert_eq!(header_of(&first, "content-range"), "bytes 0-99/5000");
    assert_eq!(first.body, document[..100]);

    let middle = get_with(&alice, &info.url, &[(header::RANGE, "bytes=1000-1999")]).await;
    assert_eq!(middle.status, 206);
    assert_eq!(middle.body, document[1000..2000]);

    let tail = get_with(&alice, &info.url, &[(header::RANGE, "bytes=-10")]).await;
    assert_eq!(tail.status, 206);
    assert_eq!(header_of(&tail, "content-range"), "bytes 4990-4999/5000");
    assert_eq!(tail.body, document[4990..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_beyond_the_end_is_not_satisfiable() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "notes.pdf", &pdf(1_000), "application/pdf").await;
    let answer = get_with(&alice, &info.url, &[(header::RANGE, "bytes=5000-6000")]).await;
    assert_eq!(answer.status, 416, "{}", answer.text());
    assert_eq!(header_of(&answer, "content-range"), "bytes */1000");
    assert!(
        answer
            .content_type()
            .unwrap_or_default()
            .starts_with("application/problem+json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_are_cached_for_long_and_originals_privately() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "photo.jpg", &jpeg(640, 480), "image/jpeg").await;
    let thumb = ok(
        get(&alice, &info.thumbnail_url.clone().unwrap()).await,
        "the thumbnail",
    );
    let cache = header_of(&thumb, "cache-control");
    let max_age: u64 = cache
        .split(',')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|age| age.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {cache:?}"));
    assert!(max_age >= 86_400 * 30, "thumbnail cache: {cache:?}");
    assert!(cache.contains("private"), "per-user content: {cache:?}");

    let original = ok(get(&alice, &info.url).await, "the original");
    let cache = header_of(&original, "cache-control");
    assert!(
        cache.contains("private") || cache.contains("no-store"),
        "{cache:?}"
    );
}
