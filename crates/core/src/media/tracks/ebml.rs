//! WebM (Matroska) tracks from the file's start: a bounded EBML walk over
//! the EBML header, into the Segment and across its top-level elements to
//! Tracks, whose TrackEntry elements each carry a TrackType (1 video,
//! 2 audio, 3 complex; see the Matroska specification, RFC 9559). The walk
//! stops at the first Cluster (media data: Tracks come before it in WebM)
//! and at anything it cannot step over.

use super::Tracks;

const EBML_HEADER: u64 = 0x1A45_DFA3;
const SEGMENT: u64 = 0x1853_8067;
const CLUSTER: u64 = 0x1F43_B675;
const TRACKS: u64 = 0x1654_AE6B;
const TRACK_ENTRY: u64 = 0xAE;
const TRACK_TYPE: u64 = 0x83;

const VIDEO: u64 = 1;
const AUDIO: u64 = 2;
const COMPLEX: u64 = 3;

/// Most top-level elements of the Segment stepped over before Tracks.
const MAX_TOP_ELEMENTS: usize = 64;

/// The tracks of a WebM whose first bytes are `head`.
pub fn webm_tracks(head: &[u8]) -> Tracks {
    find_tracks(head).unwrap_or(Tracks::Unknown)
}

fn find_tracks(head: &[u8]) -> Option<Tracks> {
    let header = Element::read(head)?;
    if header.id != EBML_HEADER {
        return None;
    }
    let segment_at = header
        .header_len
        .checked_add(usize::try_from(header.size?).ok()?)?;
    let segment = Element::read(head.get(segment_at..)?)?;
    if segment.id != SEGMENT {
        return None;
    }
    let mut pos = segment_at + segment.header_len;
    // An unknown size (live recordings) runs to the end of what we have.
    let end = match segment.size {
        Some(size) => pos.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)),
        None => head.len(),
    }
    .min(head.len());
    for _ in 0..MAX_TOP_ELEMENTS {
        let element = Element::read(head.get(pos..end)?)?;
        let body_at = pos + element.header_len;
        match element.id {
            CLUSTER => return None,
            TRACKS => {
                let body = head.get(body_at..body_at.checked_add(element.len()?)?)?;
                return tracks_in(body);
            }
            _ => pos = body_at.checked_add(element.len()?)?,
        }
    }
    None
}

/// The TrackEntry elements of a Tracks body, counted by TrackType.
fn tracks_in(body: &[u8]) -> Option<Tracks> {
    let (mut audio, mut video) = (0, 0);
    for entry in children(body) {
        let (id, entry) = entry?;
        if id != TRACK_ENTRY {
            continue;
        }
        // TrackType is mandatory: an entry without one is not understood.
        let mut kind = None;
        for field in children(entry) {
            let (id, value) = field?;
            if id == TRACK_TYPE {
                kind = Some(unsigned(value)?);
            }
        }
        match kind? {
            AUDIO => audio += 1,
            VIDEO | COMPLEX => video += 1,
            _ => {}
        }
    }
    Some(Tracks::counted(audio, video))
}

/// The child elements of a master element's `body`, as (id, body); an
/// item is `None` where a child does not fit (and iteration ends there).
fn children(body: &[u8]) -> impl Iterator<Item = Option<(u64, &[u8])>> {
    let mut pos = 0;
    let mut broken = false;
    std::iter::from_fn(move || {
        if broken || pos >= body.len() {
            return None;
        }
        let child = Element::read(&body[pos..]).and_then(|element| {
            let start = pos + element.header_len;
            let child = body.get(start..start.checked_add(element.len()?)?)?;
            pos = start + child.len();
            Some((element.id, child))
        });
        broken = child.is_none();
        Some(child)
    })
}

/// An unsigned integer element's value (0 to 8 bytes, big-endian).
fn unsigned(value: &[u8]) -> Option<u64> {
    if value.len() > 8 {
        return None;
    }
    Some(value.iter().fold(0, |n, &byte| n << 8 | u64::from(byte)))
}

/// An element's header: its id (with the length marker, as the
/// specification writes ids), its body size (`None`: unknown, as live
/// recordings write the Segment and Clusters) and the header's length.
struct Element {
    id: u64,
    size: Option<u64>,
    header_len: usize,
}

impl Element {
    fn read(bytes: &[u8]) -> Option<Element> {
        let (id, id_len) = vint(bytes, 4)?;
        let (size, size_len) = vint(bytes.get(id_len..)?, 8)?;
        let marker = 1u64 << (7 * size_len);
        let value = size ^ marker;
        Some(Element {
            id,
            size: (value != marker - 1).then_some(value),
            header_len: id_len + size_len,
        })
    }

    /// The body's length, if it is known and addressable.
    fn len(&self) -> Option<usize> {
        usize::try_from(self.size?).ok()
    }
}

/// A variable-length integer of at most `max` bytes, marker bit kept:
/// (raw value, length in bytes).
fn vint(bytes: &[u8], max: usize) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > max {
        return None;
    }
    let raw = bytes.get(..len)?;
    Some((unsigned(raw)?, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An element with a one-byte size (bodies under 127 bytes here).
    fn el(id: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.push(0x80 | u8::try_from(body.len()).unwrap());
        out.extend_from_slice(body);
        out
    }

    fn entry(kind: u8) -> Vec<u8> {
        let mut body = el(&[0xD7], &[1]); // TrackNumber
        body.extend(el(&[0x83], &[kind]));
        body.extend(el(&[0x86], b"A_OPUS")); // CodecID
        el(&[0xAE], &body)
    }

    /// An EBML header, then a Segment of unknown size holding Info,
    /// Tracks with `kinds`, and a Cluster.
    fn webm(kinds: &[u8]) -> Vec<u8> {
        let mut out = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"webm"));
        out.extend([
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        out.extend(el(
            &[0x15, 0x49, 0xA9, 0x66],
            &el(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]),
        ));
        let tracks: Vec<u8> = kinds.iter().flat_map(|&kind| entry(kind)).collect();
        out.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &tracks));
        out.extend([
            0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        out
    }

    #[test]
    fn audio_only_and_video_webm_are_told_apart() {
        assert_eq!(webm_tracks(&webm(&[2])), Tracks::Audio);
        assert_eq!(webm_tracks(&webm(&[2, 2])), Tracks::Audio);
        assert_eq!(webm_tracks(&webm(&[1, 2])), Tracks::Video);
        assert_eq!(webm_tracks(&webm(&[1])), Tracks::Video);
        assert_eq!(webm_tracks(&webm(&[0x11])), Tracks::Unknown);
        assert_eq!(webm_tracks(&webm(&[])), Tracks::Unknown);
    }

    #[test]
    fn anything_cut_short_or_malformed_is_unknown() {
        let whole = webm(&[2]);
        for cut in 0..whole.len() - 12 {
            // Cut before the end of Tracks: never a wrong answer, never a panic.
            let found = webm_tracks(&whole[..cut]);
            assert_eq!(found, Tracks::Unknown, "cut at {cut}");
        }
        assert_eq!(webm_tracks(&[0u8; 64]), Tracks::Unknown);
        assert_eq!(webm_tracks(&[0xFF; 64]), Tracks::Unknown);
        // A Cluster before Tracks: not looked past.
        let mut late = el(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        late.extend([0x18, 0x53, 0x80, 0x67, 0xFF]);
        late.extend(el(&[0x1F, 0x43, 0xB6, 0x75], &[0xA3, 0x80]));
        late.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &entry(2)));
        assert_eq!(webm_tracks(&late), Tracks::Unknown);
        // A TrackEntry without TrackType.
        let mut odd = el(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        odd.extend([0x18, 0x53, 0x80, 0x67, 0xFF]);
        odd.extend(el(
            &[0x16, 0x54, 0xAE, 0x6B],
            &el(&[0xAE], &el(&[0xD7], &[1])),
        ));
        assert_eq!(webm_tracks(&odd), Tracks::Unknown);
    }

    #[test]
    fn sizes_that_claim_more_than_there_is_do_not_overflow() {
        let mut huge = el(&[0x1A, 0x45, 0xDF, 0xA3], &[]);
        huge.extend([
            0x18, 0x53, 0x80, 0x67, 0x01, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ]);
        huge.extend([
            0x16, 0x54, 0xAE, 0x6B, 0x01, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ]);
        assert_eq!(webm_tracks(&huge), Tracks::Unknown);
    }
}
