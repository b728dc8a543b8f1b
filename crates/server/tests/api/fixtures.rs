//! The file corpus of the files tests, generated in memory: real images
//! (JPEG with a GPS EXIF block, PNG, WebP, animated GIF), hostile ones
//! (pixel flood, polyglots, markup posing as images), and helpers to
//! upload them, read signed links and look into answers. Owns no test.

use crate::helpers::assert_problem;
use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, Frame, Rgb, RgbImage, Rgba, RgbaImage};
use natter_client::{Client, Method, MultipartBody, RawResponse, header};
use natter_proto::ErrorCode;
use natter_proto::messages::FileInfo;

/// A photo-like picture: gradients, tiles and mild noise.
pub fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let noise = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 9) as u8;
        let tile = if (x / 97 + y / 61) % 2 == 0 { 60 } else { 0 };
        Rgb([
            ((x * 200 / width) as u8).saturating_add(noise),
            ((y * 200 / height) as u8).saturating_add(noise),
            (120 + tile) as u8 + noise,
        ])
    })
}

/// `photo(width, height)` as a JPEG.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(photo(width, height))
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
        .expect("encoding a JPEG");
    out
}

/// `photo(width, height)` as a PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(photo(width, height))
        .write_with_encoder(PngEncoder::new(&mut out))
        .expect("encoding a PNG");
    out
}

/// `photo(width, height)` as a lossless WebP.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(photo(width, height))
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .expect("encoding a WebP");
    out
}

/// An infinitely looping GIF of `frames` solid-colour 400x300 frames
/// (large enough that its thumbnail is a real reduction).
pub fn animated_gif(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).expect("a looping GIF");
        let colours = [[200, 30, 30, 255], [30, 200, 30, 255], [30, 30, 200, 255]];
        for i in 0..frames {
            let frame = RgbaImage::from_pixel(400, 300, Rgba(colours[i % colours.len()]));
            encoder
                .encode_frame(Frame::new(frame))
                .expect("encoding a GIF frame");
        }
    }
    out
}

/// The frames of a GIF, decoded by the `image` crate's GIF decoder.
pub fn gif_frames(bytes: &[u8]) -> Vec<Frame> {
    use image::AnimationDecoder;
    let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes))
        .expect("a GIF the image crate can open");
    decoder
        .into_frames()
        .collect_frames()
        .expect("every frame decodes")
}

/// A big-endian TIFF block as found after `Exif\0\0`: IFD0 pointing to a
/// GPS IFD holding 52°31'12" N.
fn tiff_with_gps() -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08".to_vec();
    // IFD0 at 8: 1 entry, next-IFD 0 -> ends at 26.
    t.extend(1u16.to_be_bytes());
    t.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1]); // GPSInfo, LONG, 1
    t.extend(26u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    // GPS IFD at 26: 2 entries, next 0 -> data at 56.
    t.extend(2u16.to_be_bytes());
    t.extend([0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    t.extend([0, 2, 0, 5, 0, 0, 0, 3]); // GPSLatitude, RATIONAL, 3
    t.extend(56u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    for (num, den) in [(52u32, 1u32), (31, 1), (12, 1)] {
        t.extend(num.to_be_bytes());
        t.extend(den.to_be_bytes());
    }
    t
}

/// `jpeg(width, height)` with an APP1 `Exif` segment carrying a GPS
/// position spliced in right after SOI, as a phone camera writes it.
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff_with_gps());
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&plain[2..]);
    out
}

/// CRC-32 (IEEE) as PNG chunks use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend(data);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend(&body);
    chunk.extend(crc32(&body).to_be_bytes());
    chunk
}

/// A well-formed PNG (valid CRCs) whose IHDR claims `width` x `height`
/// RGBA pixels, with one tiny IDAT: a decompression bomb's header.
pub fn png_flood(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// The start of a PDF: enough for type sniffing, padded to `size` bytes.
pub fn pdf(size: usize) -> Vec<u8> {
    padded(
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n",
        size,
    )
}

/// The first page header of an Ogg stream (a voice note, as far as type
/// sniffing goes), padded to `size` bytes.
pub fn ogg(size: usize) -> Vec<u8> {
    padded(b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0", size)
}

/// `head` then a position-dependent byte pattern up to `size` bytes, so
/// that any range of the file is recognisable.
fn padded(head: &[u8], size: usize) -> Vec<u8> {
    let mut out = head.to_vec();
    let mut i = 0u32;
    while out.len() < size {
        out.push((i.wrapping_mul(31) % 251) as u8);
        i += 1;
    }
    out.truncate(size);
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
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
