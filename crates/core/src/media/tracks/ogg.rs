//! Ogg tracks from the file's first pages. Every logical stream of an Ogg
//! file begins with a page flagged "beginning of stream", and all of
//! those come before any other page (RFC 3533, section 4); each one's
//! first packet names its codec.

use super::Tracks;

/// The "beginning of stream" flag of a page's header type.
const BOS: u8 = 0x02;
/// Bytes of a page header before its segment table.
const HEADER: usize = 27;
/// Most streams looked at (a video with a few audio tracks and a
/// skeleton has five).
const MAX_STREAMS: usize = 16;

/// First-packet signatures of audio codecs: Opus, Vorbis, FLAC, Speex.
const AUDIO: [&[u8]; 4] = [b"OpusHead", b"\x01vorbis", b"\x7fFLAC", b"Speex   "];
/// First-packet signatures of video codecs: Theora, VP8, Daala, Dirac.
const VIDEO: [&[u8]; 4] = [b"\x80theora", b"OVP80", b"\x80daala", b"BBCD\0"];
/// Ogg Skeleton: an index of the other streams, neither audio nor video.
const SKELETON: &[u8] = b"fishead\0";

/// The tracks of an Ogg file whose first bytes are `head`. Every
/// beginning-of-stream page must lie wholly within `head`, and the first
/// page after them must start there too (so no stream is left unseen);
/// otherwise, or when anything else is out of place, [`Tracks::Unknown`].
pub fn ogg_tracks(head: &[u8]) -> Tracks {
    let (mut audio, mut video, mut unknown) = (0, 0, 0);
    let mut pos = 0;
    let mut streams = 0;
    loop {
        let Some(page) = head.get(pos..pos + HEADER) else {
            // Cut off (or ended) before a page that is not a stream's
            // first: a stream's first page may be further on.
            return Tracks::Unknown;
        };
        if &page[..4] != b"OggS" || page[4] != 0 {
            return Tracks::Unknown;
        }
        if page[5] & BOS == 0 {
            break;
        }
        streams += 1;
        if streams > MAX_STREAMS {
            return Tracks::Unknown;
        }
        let segments = usize::from(page[26]);
        let Some(table) = head.get(pos + HEADER..pos + HEADER + segments) else {
            return Tracks::Unknown;
        };
        let body_at = pos + HEADER + segments;
        let body_len: usize = table.iter().map(|&len| usize::from(len)).sum();
        let Some(body) = head.get(body_at..body_at + body_len) else {
            return Tracks::Unknown;
        };
        if AUDIO.iter().any(|magic| body.starts_with(magic)) {
            audio += 1;
        } else if VIDEO.iter().any(|magic| body.starts_with(magic)) {
            video += 1;
        } else if !body.starts_with(SKELETON) {
            unknown += 1;
        }
        pos = body_at + body_len;
    }
    match Tracks::counted(audio, video) {
        Tracks::Audio if unknown > 0 => Tracks::Unknown,
        tracks => tracks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with one packet (under 255 bytes) and the given flags.
    fn page(flags: u8, serial: u8, packet: &[u8]) -> Vec<u8> {
        let mut out = b"OggS\0".to_vec();
        out.push(flags);
        out.extend([0; 8]); // granule position
        out.extend([serial, 0, 0, 0]);
        out.extend([0; 4]); // page sequence
        out.extend([0; 4]); // checksum (not checked here)
        out.push(1);
        out.push(u8::try_from(packet.len()).unwrap());
        out.extend_from_slice(packet);
        out
    }

    const OPUS_HEAD: &[u8] = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0";

    #[test]
    fn opus_alone_is_audio_and_theora_beside_it_is_video() {
        let mut opus = page(BOS, 1, OPUS_HEAD);
        opus.extend(page(0, 1, b"OpusTags\0\0\0\0\0\0\0\0"));
        assert_eq!(ogg_tracks(&opus), Tracks::Audio);

        let mut film = page(BOS, 1, b"\x80theora\x03\x02\x01");
        film.extend(page(BOS, 2, b"\x01vorbis\0\0\0\0"));
        film.extend(page(0, 1, b"\x81theora"));
        assert_eq!(ogg_tracks(&film), Tracks::Video);

        let mut indexed = page(BOS, 9, b"fishead\0\x03\0");
        indexed.extend(page(BOS, 1, OPUS_HEAD));
        indexed.extend(page(0, 9, b"fisbone\0"));
        assert_eq!(ogg_tracks(&indexed), Tracks::Audio);
    }

    #[test]
    fn unknown_codecs_and_broken_pages_say_unknown() {
        let mut mixed = page(BOS, 1, OPUS_HEAD);
        mixed.extend(page(BOS, 2, b"mystery codec"));
        assert_eq!(ogg_tracks(&mixed), Tracks::Unknown);
        assert_eq!(ogg_tracks(b"OggS\0\x02\0\0\0"), Tracks::Unknown);
        assert_eq!(ogg_tracks(b""), Tracks::Unknown);
        let mut whole = page(BOS, 1, OPUS_HEAD);
        whole.extend(page(0, 1, b"OpusTags\0\0\0\0\0\0\0\0"));
        assert_eq!(ogg_tracks(&whole), Tracks::Audio);
        // Cut anywhere before the second page's header is whole: a stream
        // whose first page is not all there is not known to be audio.
        for cut in 0..OPUS_HEAD.len() + HEADER + 1 + HEADER {
            assert_eq!(ogg_tracks(&whole[..cut]), Tracks::Unknown, "cut at {cut}");
        }
        // Audio, then a second stream whose first page is cut off.
        let mut cut_second = page(BOS, 1, OPUS_HEAD);
        let theora = page(BOS, 2, b"\x80theora\x03\x02\x01");
        cut_second.extend_from_slice(&theora[..theora.len() - 3]);
        assert_eq!(ogg_tracks(&cut_second), Tracks::Unknown);
        // More streams than are looked at.
        let many: Vec<u8> = (0..=MAX_STREAMS as u8)
            .flat_map(|serial| page(BOS, serial, OPUS_HEAD))
            .chain(page(0, 0, b"OpusTags"))
            .collect();
        assert_eq!(ogg_tracks(&many), Tracks::Unknown);
    }
}
