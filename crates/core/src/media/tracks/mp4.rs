//! MP4 (ISO base media, ISO/IEC 14496-12) tracks: the `moov` box holds a
//! `trak` per track, whose `mdia/hdlr` names its handler (`soun` audio,
//! `vide` video). `moov` may sit before or after the media data (`mdat`),
//! so the caller walks the top-level boxes with [`box_header`] (ranged
//! reads: nothing but headers until `moov`) and hands `moov`'s body to
//! [`moov_tracks`].

use super::Tracks;

/// A box header: its type, the header's length and the whole box's size
/// (`None`: the box runs to the end of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: [u8; 4],
    pub header_len: u64,
    pub size: Option<u64>,
}

/// Reads a box header from `bytes` (give 16 bytes where there are: a
/// 64-bit size follows the type). `None` if it is malformed or cut off.
pub fn box_header(bytes: &[u8]) -> Option<BoxHeader> {
    let size = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let (header_len, size) = match size {
        0 => (8, None),
        1 => {
            let large = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
            (16, Some(large))
        }
        size => (8, Some(u64::from(size))),
    };
    if size.is_some_and(|size| size < header_len) {
        return None;
    }
    Some(BoxHeader {
        kind,
        header_len,
        size,
    })
}

/// The tracks a `moov` box's body describes.
pub fn moov_tracks(moov: &[u8]) -> Tracks {
    let (mut audio, mut video) = (0, 0);
    for trak in boxes(moov) {
        let Some((kind, trak)) = trak else {
            return Tracks::Unknown;
        };
        if &kind != b"trak" {
            continue;
        }
        match handler(trak) {
            Some(b"soun") => audio += 1,
            Some(b"vide") => video += 1,
            Some(kind) if NEITHER.contains(&kind) => {}
            // Any other handler (`pict`, `auxv`, one not yet defined...)
            // might be shown: not known to be audio.
            Some(_) | None => return Tracks::Unknown,
        }
    }
    Tracks::counted(audio, video)
}

/// Handlers of tracks that are neither heard nor shown as a picture:
/// timed metadata, hint tracks, timecodes and timed text.
const NEITHER: [&[u8]; 6] = [b"meta", b"hint", b"tmcd", b"sbtl", b"subt", b"text"];

/// A `trak`'s handler type, from `mdia/hdlr` (a full box: version and
/// flags, `pre_defined`, then the handler type). `None` when the `mdia`
/// has no `hdlr`, or more than one (which one a player follows is not
/// ours to guess).
fn handler(trak: &[u8]) -> Option<&[u8]> {
    let mdia = child(trak, b"mdia")?;
    let mut hdlrs = boxes(mdia)
        .map_while(|found| found)
        .filter(|(kind, _)| kind == b"hdlr");
    let (_, hdlr) = hdlrs.next()?;
    if hdlrs.next().is_some() {
        return None;
    }
    hdlr.get(8..12)
}

/// The body of the first child box of `kind` in `body`.
fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(body)
        .map_while(|found| found)
        .find(|(found, _)| found == kind)
        .map(|(_, body)| body)
}

/// The boxes of `body` as (type, body); an item is `None` where a box
/// does not fit (and iteration ends there).
fn boxes(body: &[u8]) -> impl Iterator<Item = Option<([u8; 4], &[u8])>> {
    let mut pos = 0usize;
    let mut broken = false;
    std::iter::from_fn(move || {
        if broken || pos >= body.len() {
            return None;
        }
        let found = box_header(&body[pos..]).and_then(|header| {
            let size = match header.size {
                Some(size) => usize::try_from(size).ok()?,
                None => body.len() - pos,
            };
            let inner =
                body.get(pos + usize::try_from(header.header_len).ok()?..pos.checked_add(size)?)?;
            pos += size;
            Some((header.kind, inner))
        });
        broken = found.is_none();
        Some(found)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn hdlr(handler: &[u8; 4]) -> Vec<u8> {
        let mut hdlr = vec![0; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend([0; 12]);
        hdlr.push(0);
        mp4_box(b"hdlr", &hdlr)
    }

    /// A `trak` whose `mdia` holds an `mdhd` and these handlers.
    fn trak_of(handlers: &[&[u8; 4]]) -> Vec<u8> {
        let mut mdia = mp4_box(b"mdhd", &[0; 24]);
        for handler in handlers {
            mdia.extend(hdlr(handler));
        }
        let body = [mp4_box(b"tkhd", &[0; 84]), mp4_box(b"mdia", &mdia)].concat();
        mp4_box(b"trak", &body)
    }

    fn trak(handler: &[u8; 4]) -> Vec<u8> {
        trak_of(&[handler])
    }

    #[test]
    fn handlers_decide_audio_or_video() {
        let mvhd = mp4_box(b"mvhd", &[0; 100]);
        let audio = [mvhd.clone(), trak(b"soun")].concat();
        assert_eq!(moov_tracks(&audio), Tracks::Audio);
        let with_meta = [mvhd.clone(), trak(b"soun"), trak(b"meta")].concat();
        assert_eq!(moov_tracks(&with_meta), Tracks::Audio);
        let film = [mvhd.clone(), trak(b"vide"), trak(b"soun")].concat();
        assert_eq!(moov_tracks(&film), Tracks::Video);
        assert_eq!(moov_tracks(&mvhd), Tracks::Unknown);
        let cut = &audio[..audio.len() - 3];
        assert_eq!(moov_tracks(cut), Tracks::Unknown);
    }

    #[test]
    fn other_handlers_and_doubtful_tracks_are_unknown() {
        let mvhd = mp4_box(b"mvhd", &[0; 100]);
        for quiet in [b"meta", b"hint", b"tmcd", b"sbtl", b"subt", b"text"] {
            let moov = [mvhd.clone(), trak(b"soun"), trak(quiet)].concat();
            assert_eq!(moov_tracks(&moov), Tracks::Audio, "{quiet:?}");
        }
        for shown in [b"pict", b"auxv", b"zzzz"] {
            let moov = [mvhd.clone(), trak(b"soun"), trak(shown)].concat();
            assert_eq!(moov_tracks(&moov), Tracks::Unknown, "{shown:?}");
        }
        let two = [mvhd.clone(), trak_of(&[b"soun", b"vide"])].concat();
        assert_eq!(moov_tracks(&two), Tracks::Unknown, "two hdlr in one mdia");
        let twice = [mvhd.clone(), trak_of(&[b"soun", b"soun"])].concat();
        assert_eq!(moov_tracks(&twice), Tracks::Unknown);
        let none = [mvhd.clone(), trak_of(&[])].concat();
        assert_eq!(moov_tracks(&none), Tracks::Unknown, "no hdlr");
    }

    #[test]
    fn box_headers_take_the_three_size_forms() {
        let small = box_header(b"\0\0\0\x10ftypM4A ").unwrap();
        assert_eq!(
            (small.kind, small.header_len, small.size),
            (*b"ftyp", 8, Some(16))
        );
        let large = box_header(b"\0\0\0\x01mdat\0\0\0\x01\0\0\0\0").unwrap();
        assert_eq!((large.header_len, large.size), (16, Some(1 << 32)));
        assert_eq!(box_header(b"\0\0\0\0mdat").unwrap().size, None);
        assert_eq!(box_header(b"\0\0\0\x04free"), None);
        assert_eq!(box_header(b"\0\0\0\x01mdat\0\0"), None);
        assert_eq!(box_header(b"\0\0"), None);
    }
}
