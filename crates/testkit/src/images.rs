//! The image corpus of natter's tests, generated in memory: photo-like
//! pictures in every format the server takes, metadata blocks (EXIF with
//! GPS, PNG text chunks) spliced in by hand, hostile files (pixel floods),
//! other file types for sniffing, and helpers to look into the bytes.

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, Frame, Rgb, RgbImage, Rgba, RgbaImage};

/// A photo-like picture: smooth gradients, a few edges, mild sensor-like
/// noise (a noise-only image would make every encoder look slow).
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

/// `img` as a JPEG of this quality.
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img.clone())
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .unwrap();
    out
}

/// `img` as a PNG.
pub fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_with_encoder(PngEncoder::new(&mut out)).unwrap();
    out
}

/// `img` as a lossless WebP.
pub fn webp(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .unwrap();
    out
}

/// A big-endian TIFF block as found after `Exif\0\0`: IFD0 with an
/// orientation tag and a pointer to a GPS IFD holding 52°31'12" N.
pub fn tiff_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0\x2A\0\0\0\x08".to_vec();
    // IFD0 at 8: 2 entries (12 bytes each), next-IFD 0 -> ends at 38.
    t.extend(2u16.to_be_bytes());
    t.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, 1
    t.extend(orientation.to_be_bytes());
    t.extend([0, 0]);
    t.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1]); // GPSInfo, LONG, 1
    t.extend(38u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    // GPS IFD at 38: 2 entries, next 0 -> data at 68.
    t.extend(2u16.to_be_bytes());
    t.extend([0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    t.extend([0, 2, 0, 5, 0, 0, 0, 3]); // GPSLatitude, RATIONAL, 3
    t.extend(68u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    for (num, den) in [(52u32, 1u32), (31, 1), (12, 1)] {
        t.extend(num.to_be_bytes());
        t.extend(den.to_be_bytes());
    }
    t
}

/// `jpeg` with an APP1 Exif segment (orientation + GPS) right after SOI.
pub fn jpeg_with_gps_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff_with_gps(orientation));
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// Markers of the segments before the first scan (SOS), in order.
pub fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    markers
}

/// CRC-32 (IEEE) as PNG chunks use it, bit by bit: tests only.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
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

/// A PNG chunk: length, type, data and CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend(data);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend(&body);
    chunk.extend(crc32(&body).to_be_bytes());
    chunk
}

/// `png` with `chunk` inserted right after IHDR.
pub fn png_with_chunk(png: &[u8], chunk: &[u8]) -> Vec<u8> {
    let after_ihdr = 8 + 4 + 4 + 13 + 4;
    let mut out = png[..after_ihdr].to_vec();
    out.extend(chunk);
    out.extend(&png[after_ihdr..]);
    out
}

/// The chunk types of a PNG, in order.
pub fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut pos = 8;
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        types.push(String::from_utf8_lossy(&png[pos + 4..pos + 8]).into_owned());
        pos += 12 + len;
    }
    types
}

/// A PNG whose header claims `width` x `height` RGBA pixels, followed by
/// one tiny (valid zlib) IDAT: what a pixel flood looks like.
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

/// A WebP in the extended format with an EXIF chunk next to the pixels.
pub fn webp_with_exif(simple: &[u8], width: u32, height: u32) -> Vec<u8> {
    let image_chunk = &simple[12..]; // after RIFF size WEBP
    let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF present
    vp8x.extend(&(width - 1).to_le_bytes()[..3]);
    vp8x.extend(&(height - 1).to_le_bytes()[..3]);
    let exif = tiff_with_gps(1);
    let mut body = b"WEBP".to_vec();
    body.extend(b"VP8X");
    body.extend(10u32.to_le_bytes());
    body.extend(vp8x);
    body.extend(image_chunk);
    body.extend(b"EXIF");
    body.extend((exif.len() as u32).to_le_bytes());
    body.extend(&exif);
    if exif.len() % 2 == 1 {
        body.push(0);
    }
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An infinitely looping GIF of `frames` solid-colour frames of
/// `width` x `height`.
pub fn animated_gif(frames: usize, width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        let colours = [[200, 30, 30, 255], [30, 200, 30, 255], [30, 30, 200, 255]];
        for i in 0..frames {
            let c = colours[i % colours.len()];
            let frame = RgbaImage::from_pixel(width, height, Rgba(c));
            encoder.encode_frame(Frame::new(frame)).unwrap();
        }
    }
    out
}

/// Where the first block after the header, screen descriptor and global
/// colour table starts.
pub fn gif_first_block(gif: &[u8]) -> usize {
    let packed = gif[10];
    let table = if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    };
    13 + table
}

/// A GIF extension block: introducer, label, data in sub-blocks.
pub fn gif_extension(label: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x21, label];
    for part in data.chunks(255) {
        out.push(part.len() as u8);
        out.extend(part);
    }
    out.push(0);
    out
}

/// A GIF application extension: 11-byte identifier, then `data`.
pub fn gif_application(id: &[u8; 11], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x21, 0xFF, 11];
    out.extend(id);
    for part in data.chunks(255) {
        out.push(part.len() as u8);
        out.extend(part);
    }
    out.push(0);
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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

/// The start of a PDF: enough for type sniffing, padded to `size` bytes.
pub fn pdf(size: usize) -> Vec<u8> {
    padded(
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n",
        size,
    )
}

/// The start of an Ogg Opus stream (a voice note, as far as typing by
/// tracks goes: an `OpusHead` first page, then the header of a page that
/// begins no stream), padded to `size` bytes. Checksums are not filled in.
pub fn ogg(size: usize) -> Vec<u8> {
    let mut head = b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13".to_vec();
    head.extend(b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0");
    head.extend(b"OggS\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x01\0\0\0\0\0\0\0\x01");
    padded(&head, size)
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
