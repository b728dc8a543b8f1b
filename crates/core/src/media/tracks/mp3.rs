//! MP3: an optional ID3v2 tag, then MPEG audio frames. Type sniffing
//! calls anything starting `ID3` or with a sync byte MP3, so an ID3 tag in
//! front of a video (or of anything) would pass as audio; here the bytes
//! after the tag must be an MPEG audio frame header (ISO/IEC 11172-3,
//! 13818-3) and, where the bytes reach it, the next frame's header must
//! follow where the first one's length says.

/// Bytes of an ID3v2 header (and of its footer, when flagged).
const ID3_HEADER: u64 = 10;
/// The "footer present" flag of an ID3v2.4 header.
const ID3_FOOTER: u8 = 0x10;

/// Bit rates in kbit/s by bit-rate index 1 to 14: MPEG-1 layers I, II,
/// III, then MPEG-2/2.5 layer I, layers II and III.
const BITRATES: [[u16; 14]; 5] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// Sample rates in Hz by index 0 to 2: MPEG-1, MPEG-2, MPEG-2.5.
const SAMPLE_RATES: [[u32; 3]; 3] = [
    [44_100, 48_000, 32_000],
    [22_050, 24_000, 16_000],
    [11_025, 12_000, 8_000],
];

/// How many bytes an ID3v2 tag at the start of `head` takes (header,
/// body and footer; 0 if `head` does not start with `ID3`). `None` if the
/// tag's header is cut off or malformed (a size byte over 0x7F).
pub fn id3_len(head: &[u8]) -> Option<u64> {
    if !head.starts_with(b"ID3") {
        return Some(0);
    }
    let header = head.get(..10)?;
    let size = header[6..10].iter().try_fold(0u64, |size, &byte| {
        (byte < 0x80).then_some(size << 7 | u64::from(byte))
    })?;
    let footer = if header[5] & ID3_FOOTER != 0 {
        ID3_HEADER
    } else {
        0
    };
    Some(ID3_HEADER + size + footer)
}

/// A frame header's fields that must not change from frame to frame, and
/// the frame's length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    version: u8,
    layer: u8,
    sample_rate: u8,
    len: usize,
}

/// The MPEG audio frame header at the start of `bytes`, if it is one:
/// the 11-bit sync, a version, a layer, a bit rate (not "free") and a
/// sample rate that exist.
fn frame(bytes: &[u8]) -> Option<Frame> {
    let header: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    if header[0] != 0xFF || header[1] & 0xE0 != 0xE0 {
        return None;
    }
    // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1.
    let version = (header[1] >> 3) & 0b11;
    // 0: reserved, 1: layer III, 2: layer II, 3: layer I.
    let layer = (header[1] >> 1) & 0b11;
    let bitrate_index = usize::from(header[2] >> 4);
    let sample_rate = (header[2] >> 2) & 0b11;
    let padding = usize::from((header[2] >> 1) & 1);
    if version == 1 || layer == 0 || !(1..=14).contains(&bitrate_index) || sample_rate == 3 {
        return None;
    }
    let mpeg1 = version == 3;
    let table = match (mpeg1, layer) {
        (true, 3) => 0,
        (true, 2) => 1,
        (true, _) => 2,
        (false, 3) => 3,
        (false, _) => 4,
    };
    let bitrate = u32::from(BITRATES[table][bitrate_index - 1]) * 1000;
    let row = match version {
        3 => 0,
        2 => 1,
        _ => 2,
    };
    let rate = SAMPLE_RATES[row][usize::from(sample_rate)];
    let len = match layer {
        3 => (12 * bitrate / rate) as usize * 4 + padding * 4,
        1 if !mpeg1 => (72 * bitrate / rate) as usize + padding,
        _ => (144 * bitrate / rate) as usize + padding,
    };
    Some(Frame {
        version,
        layer,
        sample_rate,
        len,
    })
}

/// Whether `bytes` (what follows the ID3 tag, if any) starts with an MPEG
/// audio frame, followed by a second one of the same version, layer and
/// sample rate where the first one's length puts it (when `bytes` reach
/// that far).
pub fn is_mp3(bytes: &[u8]) -> bool {
    let Some(first) = frame(bytes) else {
        return false;
    };
    match bytes.get(first.len..) {
        Some(rest) if rest.len() >= 4 => frame(rest).is_some_and(|next| {
            (next.version, next.layer, next.sample_rate)
                == (first.version, first.layer, first.sample_rate)
        }),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
    fn frames(count: usize) -> Vec<u8> {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, 0);
        frame.repeat(count)
    }

    #[test]
    fn frames_follow_one_another() {
        assert!(is_mp3(&frames(3)));
        assert!(is_mp3(&frames(1)), "one frame, nothing after it read");
        let mut broken = frames(2);
        broken[417] = 0;
        assert!(!is_mp3(&broken), "no second header where the first ends");
        let mut shifted = frames(2);
        shifted.insert(0, 0);
        assert!(!is_mp3(&shifted));
        // Layer II at 48 kHz, 384 kbit/s: 1,152 bytes.
        let mut layer2 = vec![0xFF, 0xFD, 0xE4, 0x00];
        layer2.resize(1152, 0);
        assert!(is_mp3(&layer2.repeat(2)));
        // MPEG-2 layer III, 64 kbit/s at 22.05 kHz: 208 bytes.
        let mut mpeg2 = vec![0xFF, 0xF3, 0x80, 0x00];
        mpeg2.resize(208, 0);
        assert!(is_mp3(&mpeg2.repeat(2)));
    }

    #[test]
    fn reserved_fields_and_other_bytes_are_not_frames() {
        for header in [
            [0xFF, 0xEB, 0x90, 0x64], // reserved version
            [0xFF, 0xF9, 0x90, 0x64], // reserved layer
            [0xFF, 0xFB, 0x00, 0x64], // free bit rate
            [0xFF, 0xFB, 0xF0, 0x64], // bad bit rate
            [0xFF, 0xFB, 0x9C, 0x64], // reserved sample rate
            [0xFF, 0x1B, 0x90, 0x64], // no sync
        ] {
            assert!(!is_mp3(&header), "{header:02x?}");
        }
        assert!(!is_mp3(b"\x1A\x45\xDF\xA3webm"));
        assert!(!is_mp3(b"\0\0\0\x18ftypisom"));
        assert!(!is_mp3(b""));
    }

    #[test]
    fn id3_tags_are_skipped_by_their_syncsafe_size() {
        assert_eq!(id3_len(b"\xFF\xFB\x90\x64"), Some(0));
        assert_eq!(id3_len(b"ID3\x04\0\0\0\0\0\0"), Some(10));
        assert_eq!(id3_len(b"ID3\x04\0\0\0\0\x01\x7F"), Some(10 + 255));
        assert_eq!(id3_len(b"ID3\x04\0\x10\0\0\0\x05"), Some(25), "footer");
        assert_eq!(id3_len(b"ID3\x04\0\0\0\0\x80\0"), None);
        assert_eq!(id3_len(b"ID3\x04\0"), None);
    }
}
