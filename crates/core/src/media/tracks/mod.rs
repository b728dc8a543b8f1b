//! Which tracks an audio/video container holds, read from its headers
//! alone (nothing is decoded): enough to tell an audio-only WebM, Ogg or
//! MP4 (a voice note) from one that carries video, and so to store and
//! serve it under the right type (`audio/webm`, not `video/webm`).
//!
//! Bounded and allocation-free: each parser looks only at the bytes it is
//! given, never allocates by what the file claims, and calls anything it
//! cannot follow [`Tracks::Unknown`]. Fetching those bytes (a head of the
//! file, or MP4's top-level boxes by ranged reads) is the caller's job.
//!
//! The Matroska walk is our own ([`ebml`]) rather than a crate's:
//! `matroska-demuxer` wants `Read + Seek` over the whole file and parses
//! every header it meets, and `webm-iterable` streams tags with
//! allocations sized by the file; here three element ids (Segment, Tracks,
//! TrackEntry/TrackType) over the first few hundred KiB are all it takes.

mod ebml;
mod mp3;
mod mp4;
mod ogg;

pub use ebml::webm_tracks;
pub use mp3::{id3_len, is_mp3};
pub use mp4::{BoxHeader, box_header, moov_tracks};
pub use ogg::ogg_tracks;

/// How much of a WebM's start [`webm_tracks`] is given: its Tracks element
/// comes before the first Cluster, within a few hundred bytes when
/// Chromium's MediaRecorder or ffmpeg wrote it.
pub const WEBM_HEAD_BYTES: u64 = 256 * 1024;

/// Largest MP4 `moov` box read (the sample tables of a 15-minute AAC
/// recording take about 200 KiB); a larger one is [`Tracks::Unknown`].
pub const MAX_MOOV_BYTES: u64 = 4 * 1024 * 1024;

/// Most top-level MP4 boxes looked at before `moov` (`ftyp`, `free`,
/// `mdat`, `wide`, ... come first in practice).
pub const MAX_TOP_BOXES: usize = 32;

/// The types a voice message may carry: audio only, in the containers
/// browsers play (WebM and Ogg with Opus, MP4/AAC, MP3).
pub const VOICE_TYPES: [&str; 4] = ["audio/webm", "audio/ogg", "audio/mp4", "audio/mpeg"];

/// Whether a stored file's type makes it a voice note's audio.
pub fn is_voice_type(mime: &str) -> bool {
    VOICE_TYPES.contains(&mime)
}

/// What a container's headers say it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracks {
    /// One or more audio tracks and no video.
    Audio,
    /// At least one video track (with or without audio).
    Video,
    /// The headers could not be read, or name neither.
    Unknown,
}

impl Tracks {
    /// From counts of the tracks found (others, such as subtitles or
    /// metadata tracks, are not counted).
    fn counted(audio: usize, video: usize) -> Tracks {
        match (audio, video) {
            (_, 1..) => Tracks::Video,
            (1.., 0) => Tracks::Audio,
            _ => Tracks::Unknown,
        }
    }
}

/// The containers whose tracks decide the type a file is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Matroska's WebM profile (`infer` says `video/webm` for all of it).
    WebM,
    /// Ogg (`audio/ogg`, or `audio/opus` when it starts with Opus).
    Ogg,
    /// ISO base media: MP4 and M4A (`video/mp4`, `audio/m4a`).
    Mp4,
}

impl Container {
    /// The container of a type `sniff` gave, if its tracks matter.
    pub fn of(sniffed: &str) -> Option<Container> {
        match sniffed {
            "video/webm" => Some(Container::WebM),
            "audio/ogg" | "audio/opus" => Some(Container::Ogg),
            "video/mp4" | "audio/m4a" => Some(Container::Mp4),
            _ => None,
        }
    }
}

/// The type to store and serve for a `container` holding `tracks`: an
/// audio type only when the tracks were read and are all audio (neither a
/// file name, nor an MP4's `M4A ` brand, nor an Ogg's first bytes alone
/// make a file audio). WebM and MP4 are otherwise video; an Ogg that is
/// not positively audio or video is `application/ogg` (served as an
/// attachment, never a voice note). Types browsers know are used
/// (`audio/mp4`, not `audio/m4a`; `audio/ogg`, not `audio/opus`).
pub fn media_type(container: Container, tracks: Tracks) -> &'static str {
    match (container, tracks) {
        (Container::WebM, Tracks::Audio) => "audio/webm",
        (Container::WebM, _) => "video/webm",
        (Container::Ogg, Tracks::Audio) => "audio/ogg",
        (Container::Ogg, Tracks::Video) => "video/ogg",
        (Container::Ogg, Tracks::Unknown) => "application/ogg",
        (Container::Mp4, Tracks::Audio) => "audio/mp4",
        (Container::Mp4, _) => "video/mp4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_typed_by_their_tracks() {
        use Container::*;
        assert_eq!(media_type(WebM, Tracks::Audio), "audio/webm");
        assert_eq!(media_type(WebM, Tracks::Unknown), "video/webm");
        assert_eq!(media_type(Ogg, Tracks::Audio), "audio/ogg");
        assert_eq!(media_type(Ogg, Tracks::Unknown), "application/ogg");
        assert_eq!(media_type(Ogg, Tracks::Video), "video/ogg");
        assert_eq!(media_type(Mp4, Tracks::Audio), "audio/mp4");
        assert_eq!(media_type(Mp4, Tracks::Unknown), "video/mp4");
        assert_eq!(media_type(Mp4, Tracks::Video), "video/mp4");
        for unread in [Tracks::Unknown, Tracks::Video] {
            assert!(!is_voice_type(media_type(Ogg, unread)));
            assert!(!is_voice_type(media_type(Mp4, unread)));
            assert!(!is_voice_type(media_type(WebM, unread)));
        }
        assert_eq!(Container::of("audio/mpeg"), None);
        assert!(is_voice_type("audio/webm") && !is_voice_type("video/webm"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // xorshift: the same sequence every run, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..2_000 {
            let len = (next() % 512) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Real magic in front now and then, so the walks go deeper.
            let magic: &[u8] = match round % 4 {
                0 => &[0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67],
                1 => b"OggS\0\x02",
                _ => b"",
            };
            bytes.splice(0..0, magic.iter().copied());
            let _ = webm_tracks(&bytes);
            let _ = ogg_tracks(&bytes);
            let _ = moov_tracks(&bytes);
            let _ = box_header(&bytes);
            let _ = is_mp3(&bytes);
            let _ = id3_len(&bytes);
        }
    }
}
