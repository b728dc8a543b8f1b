//! The file corpus of the files tests, generated in memory: real images
//! (JPEG with a GPS EXIF block, PNG, WebP, animated GIF), hostile ones
//! (pixel flood, polyglots, markup posing as images), and helpers to
//! upload them, read signed links and look into answers. Owns no test.

use crate::helpers::assert_problem;
use image::DynamicImage;
use natter_client::{Client, Method, MultipartBody, RawResponse, header};
use natter_proto::ErrorCode;
use natter_proto::messages::FileInfo;
use natter_testkit::images;

pub use natter_testkit::images::{contains, gif_frames, ogg, pdf, photo, png_flood};

/// `photo(width, height)` as a JPEG.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    images::jpeg(&photo(width, height), 90)
}

/// `photo(width, height)` as a PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    images::png(&DynamicImage::ImageRgb8(photo(width, height)))
}

/// `photo(width, height)` as a lossless WebP.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    images::webp(&DynamicImage::ImageRgb8(photo(width, height)))
}

/// An infinitely looping GIF of `frames` solid-colour 400x300 frames
/// (large enough that its thumbnail is a real reduction).
pub fn animated_gif(frames: usize) -> Vec<u8> {
    images::animated_gif(frames, 400, 300)
}

/// `jpeg(width, height)` with an APP1 `Exif` segment carrying a GPS
/// position spliced in right after SOI, as a phone camera writes it.
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    images::jpeg_with_gps_exif(&jpeg(width, height), 1)
}

/// Uploads and expects 201, naming the file in the failure message.
pub async fn upload(client: &Client, name: &str, bytes: &[u8], content_type: &str) -> FileInfo {
    client
        .upload_file(name, bytes, content_type)
        .await
        .unwrap_or_else(|error| panic!("uploading {name:?}: {error}"))
}

/// Posts a hand-made body to `/api/v1/files` and returns the answer as
/// it comes.
pub async fn post_files(client: &Client, body: Vec<u8>, content_type: &str) -> RawResponse {
    client
        .raw(
            Method::POST,
            "/api/v1/files",
            Some(body),
            Some(content_type),
        )
        .await
        .expect("an HTTP answer")
}

/// Uploads like [`Client::upload_file`] but returns the raw answer.
pub async fn upload_raw(client: &Client, name: &str, bytes: &[u8], declared: &str) -> RawResponse {
    let form = MultipartBody::file("file", name, bytes, declared);
    post_files(client, form.body, &form.content_type).await
}

/// The stored file of a 201 answer.
#[track_caller]
pub fn stored(response: &RawResponse, what: &str) -> FileInfo {
    assert_eq!(response.status, 201, "{what}: {}", response.text());
    serde_json::from_slice(&response.body).expect("a FileInfo")
}

/// `/api/v1/files/{file_id}`: the path to read with a Bearer token.
pub fn file_path(file_id: &str) -> String {
    format!("/api/v1/files/{file_id}")
}

/// GET of a link or path; transport errors fail the test.
pub async fn get(client: &Client, url: &str) -> RawResponse {
    client
        .download(url)
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
}

/// GET with extra request headers.
pub async fn get_with(
    client: &Client,
    url: &str,
    headers: &[(header::HeaderName, &str)],
) -> RawResponse {
    client
        .download_with(url, headers)
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
}

/// GET that must answer 200; returns the answer.
#[track_caller]
pub fn ok(response: RawResponse, what: &str) -> RawResponse {
    assert_eq!(
        response.status,
        200,
        "{what}: {}",
        String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
    );
    response
}

/// A response header as text ("" if absent).
pub fn header_of<'a>(response: &'a RawResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// One query parameter of a signed link.
pub fn query_param<'a>(link: &'a str, name: &str) -> Option<&'a str> {
    let query = link.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `link` with the query parameter `name` set to `value`.
pub fn with_param(link: &str, name: &str, value: &str) -> String {
    let (path, query) = link.split_once('?').expect("a link with a query");
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key == name => format!("{key}={value}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Decodes an image answer, whatever its format.
#[track_caller]
pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("a decodable image")
}

/// A message of `message_type` carrying `file_id`.
pub fn file_message(
    chat_id: &str,
    message_type: natter_proto::messages::MessageType,
    file_id: &str,
    content: &str,
) -> natter_proto::messages::SendMessage {
    natter_proto::messages::SendMessage {
        file_id: Some(file_id.to_owned()),
        message_type,
        ..natter_client::text_message(chat_id, content)
    }
}

/// The upload was refused cleanly: 400 or 415 with matching problem
/// details (never a 500, never accepted).
#[track_caller]
pub fn assert_refused(response: &RawResponse, what: &str) {
    assert!(
        matches!(response.status, 400 | 415),
        "{what}: {} {}",
        response.status,
        response.text()
    );
    let code = if response.status == 400 {
        ErrorCode::InvalidRequest
    } else {
        ErrorCode::UnsupportedMediaType
    };
    assert_problem(response, code);
}
