//! GIF: kept as uploaded, so animations keep working (re-encoding frames
//! would be slow and, through re-quantising, lossy), minus what is not
//! picture: comment extensions, application extensions other than the
//! looping ones (`NETSCAPE2.0`, `ANIMEXTS1.0`; XMP and ICC travel in
//! application extensions) and any bytes after the trailer (polyglot
//! payloads). GIF has no EXIF. The stripped file is then fully decoded
//! under limits, so what is served is exactly what was validated; the
//! first frame becomes the thumbnail.

use super::{ImageLimits, MediaError, ProcessedImage, check_size, decode_limits, encode};
use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder};
use std::io::Cursor;

const TRAILER: u8 = 0x3B;
const EXTENSION: u8 = 0x21;
const IMAGE: u8 = 0x2C;
const COMMENT: u8 = 0xFE;
const APPLICATION: u8 = 0xFF;

pub(super) fn process(bytes: &[u8], limits: &ImageLimits) -> Result<ProcessedImage, MediaError> {
    let clean = strip(bytes, limits)?;
    let mut decoder = GifDecoder::new(Cursor::new(&clean[..]))?;
    decoder.set_limits(decode_limits(limits))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    // Each decoded frame is composited onto a full canvas.
    let canvas = u64::from(width) * u64::from(height);
    let mut frames = 0u64;
    let mut first = None;
    for frame in decoder.into_frames() {
        let frame = frame?;
        frames += 1;
        if frames * canvas > limits.max_animation_pixels {
            return Err(MediaError::TooLarge(format!(
                "animation over {} pixels in all",
                limits.max_animation_pixels
            )));
        }
        if first.is_none() {
            first = Some(frame.into_buffer());
        }
    }
    let first = first.ok_or_else(|| MediaError::Corrupt("GIF without frames".into()))?;
    let thumb = encode::thumbnail(&DynamicImage::ImageRgba8(first), limits.thumbnail_side)?;
    Ok(ProcessedImage {
        width,
        height,
        bytes: clean,
        mime: "image/gif",
        animated: frames > 1,
        thumbnail: thumb.bytes,
        thumbnail_mime: thumb.mime,
        thumbnail_width: thumb.width,
        thumbnail_height: thumb.height,
    })
}

/// Copies the GIF block by block, leaving out comments, non-looping
/// application extensions and whatever follows the trailer. Refuses more
/// frames, or larger ones, than `limits` allow before anything is decoded.
fn strip(bytes: &[u8], limits: &ImageLimits) -> Result<Vec<u8>, MediaError> {
    let mut r = Blocks { bytes, pos: 0 };
    let header = r.take(6)?;
    if header != b"GIF87a" && header != b"GIF89a" {
        return Err(MediaError::Corrupt("not a GIF header".into()));
    }
    let screen = r.take(7)?;
    if screen[4] & 0x80 != 0 {
        r.take(color_table_len(screen[4]))?;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..r.pos]);
    let (mut frames, mut frame_pixels) = (0u32, 0u64);
    // A missing trailer is common in the wild and harmless: one is added.
    while let Some(introducer) = r.next_byte() {
        let start = r.pos - 1;
        let keep = match introducer {
            TRAILER => break,
            EXTENSION => {
                let label = r.byte()?;
                let keep = match label {
                    COMMENT => false,
                    APPLICATION => is_looping(r.rest()),
                    _ => true,
                };
                r.skip_sub_blocks()?;
                keep
            }
            IMAGE => {
                let descriptor = r.take(9)?;
                let width = u32::from(u16::from_le_bytes([descriptor[4], descriptor[5]]));
                let height = u32::from(u16::from_le_bytes([descriptor[6], descriptor[7]]));
                check_size(width, height, limits)?;
                frames += 1;
                frame_pixels += u64::from(width) * u64::from(height);
                if frames > limits.max_frames || frame_pixels > limits.max_animation_pixels {
                    return Err(MediaError::TooLarge(format!(
                        "animation over {} frames or {} pixels in all",
                        limits.max_frames, limits.max_animation_pixels
                    )));
                }
                if descriptor[8] & 0x80 != 0 {
                    r.take(color_table_len(descriptor[8]))?;
                }
                r.byte()?; // LZW minimum code size
                r.skip_sub_blocks()?;
                true
            }
            other => {
                return Err(MediaError::Corrupt(format!(
                    "unexpected GIF block 0x{other:02x} at byte {start}"
                )));
            }
        };
        if keep {
            out.extend_from_slice(&bytes[start..r.pos]);
        }
    }
    if frames == 0 {
        return Err(MediaError::Corrupt("GIF without frames".into()));
    }
    out.push(TRAILER);
    Ok(out)
}

/// Bytes of a color table, from the packed field that announces it.
fn color_table_len(packed: u8) -> usize {
    3 << ((packed & 0x07) + 1)
}

/// Whether an application extension's data (from its first sub-block on)
/// is the looping control browsers honour.
fn is_looping(data: &[u8]) -> bool {
    data.len() >= 12 && data[0] == 11 && matches!(&data[1..12], b"NETSCAPE2.0" | b"ANIMEXTS1.0")
}

/// A bounds-checked cursor over GIF blocks.
struct Blocks<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Blocks<'a> {
    fn next_byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn byte(&mut self) -> Result<u8, MediaError> {
        self.next_byte().ok_or_else(truncated)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let taken = self.bytes.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(taken)
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    fn skip_sub_blocks(&mut self) -> Result<(), MediaError> {
        loop {
            match self.byte()? {
                0 => return Ok(()),
                len => {
                    self.take(usize::from(len))?;
                }
            }
        }
    }
}

fn truncated() -> MediaError {
    MediaError::Corrupt("truncated GIF".into())
}
