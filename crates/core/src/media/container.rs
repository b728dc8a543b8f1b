//! Byte-level facts about containers that decoders do not report.

/// Whether an end-of-image marker follows the first scan. Walks the marker
/// segments to the first SOS (so a thumbnail inside EXIF, with its own
/// markers, is skipped), then looks for `FF D9`: inside entropy-coded data
/// `FF` is only ever followed by `00` or a restart marker, so the first
/// `FF D9` there is the real end (or a later scan's data is missing).
pub(super) fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut pos = 2;
    loop {
        let Some(&[0xFF, marker]) = bytes.get(pos..pos + 2) else {
            return false;
        };
        pos += 2;
        match marker {
            0xFF => pos -= 1, // fill byte
            0x01 | 0xD0..=0xD7 => {}
            0xD9 => return false,
            _ => {
                let Some(len) = bytes.get(pos..pos + 2) else {
                    return false;
                };
                pos += usize::from(u16::from_be_bytes([len[0], len[1]]));
                if marker == 0xDA {
                    break;
                }
            }
        }
    }
    bytes
        .get(pos..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Whether a WebP's pixels are lossy (`VP8 `) rather than lossless
/// (`VP8L`), from its top-level RIFF chunks. Animations and anything
/// unrecognised count as lossless.
pub(super) fn webp_is_lossy(bytes: &[u8]) -> bool {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WEBP") {
        return false;
    }
    let mut pos = 12;
    while let Some(header) = bytes.get(pos..pos + 8) {
        match &header[..4] {
            b"VP8 " => return true,
            b"VP8L" | b"ANIM" => return false,
            _ => {}
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let Some(next) = usize::try_from(size)
            .ok()
            .and_then(|size| pos.checked_add(8 + size + size % 2))
        else {
            return false;
        };
        pos = next;
    }
    false
}
