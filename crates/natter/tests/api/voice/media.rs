//! Small, real voice-note files written in the test (no fixture files,
//! nothing copied from elsewhere): WebM with an Opus track as Chromium's
//! MediaRecorder writes it (a Segment and Clusters of unknown size), the
//! same with a VP8 video track beside it, Ogg Opus with checksummed pages,
//! M4A (`moov` after `mdat`, as ffmpeg writes it without `faststart`), an
//! MP4 with a video track, and MP3 frames of silence after an ID3 tag.
//! The Opus packets are one-byte DTX frames (RFC 6716: a TOC byte alone
//! is a valid 20 ms packet), 50 to the second.

/// Opus packets per second (20 ms frames).
const PACKETS_PER_SECOND: u32 = 50;
/// A TOC byte: CELT fullband, 20 ms, mono, one frame (of zero bytes).
const OPUS_DTX: u8 = 0xF8;

/// `OpusHead` for one channel at 48 kHz (RFC 7845, section 5.1).
fn opus_head() -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(1); // channels
    head.extend(312u16.to_le_bytes()); // pre-skip
    head.extend(48_000u32.to_le_bytes());
    head.extend(0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family
    head
}

/// An EBML element, its size in one byte when it fits (as muxers write
/// the header: type sniffing looks for `42 82 84 "webm"`), else in eight.
fn el(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    match u8::try_from(body.len()) {
        Ok(len) if len < 0x7F => out.push(0x80 | len),
        _ => {
            out.push(0x01);
            out.extend(&(body.len() as u64).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(body);
    out
}

fn unknown_size(id: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    out
}

/// An unsigned integer element in as few bytes as it needs.
fn uint(id: &[u8], value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = (value.leading_zeros() / 8).min(7) as usize;
    el(id, &bytes[skip..])
}

fn webm_with(tracks: &[Vec<u8>], seconds: u32) -> Vec<u8> {
    let header = [
        uint(&[0x42, 0x86], 1), // EBMLVersion
        uint(&[0x42, 0xF7], 1), // EBMLReadVersion
        uint(&[0x42, 0xF2], 4), // EBMLMaxIDLength
        uint(&[0x42, 0xF3], 8), // EBMLMaxSizeLength
        el(&[0x42, 0x82], b"webm"),
        uint(&[0x42, 0x87], 4), // DocTypeVersion
        uint(&[0x42, 0x85], 2), // DocTypeReadVersion
    ]
    .concat();
    let mut out = el(&[0x1A, 0x45, 0xDF, 0xA3], &header);
    out.extend(unknown_size(&[0x18, 0x53, 0x80, 0x67]));
    let info = [
        uint(&[0x2A, 0xD7, 0xB1], 1_000_000), // TimestampScale: ms
        el(&[0x4D, 0x80], b"natter-tests"),   // MuxingApp
        el(&[0x57, 0x41], b"natter-tests"),   // WritingApp
    ]
    .concat();
    out.extend(el(&[0x15, 0x49, 0xA9, 0x66], &info));
    out.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &tracks.concat()));
    out.extend(unknown_size(&[0x1F, 0x43, 0xB6, 0x75]));
    out.extend(uint(&[0xE7], 0)); // Cluster Timestamp
    for packet in 0..seconds * PACKETS_PER_SECOND {
        // SimpleBlock: track 1, timestamp relative to the cluster, keyframe.
        let mut block = vec![0x81];
        block.extend(u16::try_from(packet * 20).unwrap_or(u16::MAX).to_be_bytes());
        block.push(0x80);
        block.push(OPUS_DTX);
        out.extend(el(&[0xA3], &block));
    }
    out
}

fn opus_track() -> Vec<u8> {
    let audio = [
        el(&[0xB5], &48_000f64.to_be_bytes()), // SamplingFrequency
        uint(&[0x9F], 1),                      // Channels
    ]
    .concat();
    let entry = [
        uint(&[0xD7], 1),        // TrackNumber
        uint(&[0x73, 0xC5], 17), // TrackUID
        uint(&[0x83], 2),        // TrackType: audio
        el(&[0x86], b"A_OPUS"),
        el(&[0x63, 0xA2], &opus_head()), // CodecPrivate
        el(&[0xE1], &audio),
    ]
    .concat();
    el(&[0xAE], &entry)
}

fn vp8_track() -> Vec<u8> {
    let video = [uint(&[0xB0], 320), uint(&[0xBA], 240)].concat(); // PixelWidth, PixelHeight
    let entry = [
        uint(&[0xD7], 2),
        uint(&[0x73, 0xC5], 18),
        uint(&[0x83], 1), // TrackType: video
        el(&[0x86], b"V_VP8"),
        el(&[0xE0], &video),
    ]
    .concat();
    el(&[0xAE], &entry)
}

/// `seconds` of Opus in WebM, audio only.
pub fn webm_opus(seconds: u32) -> Vec<u8> {
    webm_with(&[opus_track()], seconds)
}

/// The same, with a VP8 video track as well (a screen recording, say).
pub fn webm_with_video(seconds: u32) -> Vec<u8> {
    webm_with(&[vp8_track(), opus_track()], seconds)
}

/// The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected,
/// zero initial value (RFC 3533, section 6).
fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in bytes {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An Ogg page of `packets` (each under 255 bytes).
fn ogg_page(flags: u8, granule: u64, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut page = b"OggS\0".to_vec();
    page.push(flags);
    page.extend(granule.to_le_bytes());
    page.extend(0x5EED_u32.to_le_bytes()); // stream serial number
    page.extend(sequence.to_le_bytes());
    page.extend([0; 4]);
    page.push(u8::try_from(packets.len()).expect("at most 255 packets"));
    for packet in packets {
        page.push(u8::try_from(packet.len()).expect("short packets"));
    }
    for packet in packets {
        page.extend_from_slice(packet);
    }
    let crc = ogg_crc(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// `seconds` of Opus in Ogg (RFC 7845): OpusHead, OpusTags, then a page
/// per second of packets, the last flagged end of stream.
pub fn ogg_opus(seconds: u32) -> Vec<u8> {
    let mut tags = b"OpusTags".to_vec();
    tags.extend(12u32.to_le_bytes());
    tags.extend(b"natter-tests");
    tags.extend(0u32.to_le_bytes());
    let mut out = ogg_page(0x02, 0, 0, &[&opus_head()]);
    out.extend(ogg_page(0, 0, 1, &[&tags]));
    let packet: &[u8] = &[OPUS_DTX];
    let packets = vec![packet; PACKETS_PER_SECOND as usize];
    for second in 1..=seconds {
        let flags = if second == seconds { 0x04 } else { 0 };
        // Samples decoded so far, pre-skip included (RFC 7845, 4).
        let granule = u64::from(second) * 48_000;
        out.extend(ogg_page(flags, granule, second + 1, &packets));
    }
    out
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box: version 0, no flags.
fn full_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    mp4_box(kind, &[&[0u8; 4][..], body].concat())
}

/// A `trak` of `handler` (`soun` or `vide`) with an empty sample table.
fn trak(id: u32, handler: &[u8; 4], sample_entry: Vec<u8>, seconds: u32) -> Vec<u8> {
    let sound = handler == b"soun";
    let mut tkhd = vec![0; 8]; // creation, modification
    tkhd.extend(id.to_be_bytes());
    tkhd.extend([0; 4]);
    tkhd.extend((seconds * 1000).to_be_bytes());
    tkhd.extend([0; 12]); // reserved, layer, alternate group
    tkhd.extend(if sound { [1, 0, 0, 0] } else { [0; 4] }); // volume
    for cell in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend(cell.to_be_bytes()); // the identity matrix
    }
    let (width, height) = if sound { (0u32, 0u32) } else { (320, 240) };
    tkhd.extend((width << 16).to_be_bytes());
    tkhd.extend((height << 16).to_be_bytes());
    let mut mdhd = vec![0; 8];
    mdhd.extend(48_000u32.to_be_bytes());
    mdhd.extend((seconds * 48_000).to_be_bytes());
    mdhd.extend([0x55, 0xC4, 0, 0]); // language "und"
    let mut hdlr = vec![0; 4]; // pre_defined
    hdlr.extend_from_slice(handler);
    hdlr.extend([0; 12]);
    hdlr.extend(b"natter\0");
    let mut stsd = 1u32.to_be_bytes().to_vec();
    stsd.extend(sample_entry);
    let empty = 0u32.to_be_bytes();
    let stbl = [
        full_box(b"stsd", &stsd),
        full_box(b"stts", &empty),
        full_box(b"stsc", &empty),
        full_box(b"stsz", &[0u8; 8]),
        full_box(b"stco", &empty),
    ]
    .concat();
    let media_header = if sound {
        full_box(b"smhd", &[0; 4])
    } else {
        full_box(b"vmhd", &[0; 8])
    };
    let dref = full_box(
        b"dref",
        &[
            &1u32.to_be_bytes()[..],
            &[0, 0, 0, 12, b'u', b'r', b'l', b' ', 0, 0, 0, 1],
        ]
        .concat(),
    );
    let minf = [
        media_header,
        mp4_box(b"dinf", &dref),
        mp4_box(b"stbl", &stbl),
    ]
    .concat();
    let mdia = [
        full_box(b"mdhd", &mdhd),
        full_box(b"hdlr", &hdlr),
        mp4_box(b"minf", &minf),
    ]
    .concat();
    mp4_box(
        b"trak",
        &[full_box(b"tkhd", &tkhd), mp4_box(b"mdia", &mdia)].concat(),
    )
}

/// An `mp4a` sample entry: one channel, 16-bit, 48 kHz.
fn mp4a() -> Vec<u8> {
    let mut body = vec![0; 6];
    body.extend(1u16.to_be_bytes()); // data reference index
    body.extend([0; 8]);
    body.extend(1u16.to_be_bytes()); // channels
    body.extend(16u16.to_be_bytes());
    body.extend([0; 4]);
    body.extend((48_000u32 << 16).to_be_bytes());
    mp4_box(b"mp4a", &body)
}

/// An `avc1` sample entry of 320x240 (no decoder configuration: the
/// server reads handlers, not codecs).
fn avc1() -> Vec<u8> {
    let mut body = vec![0; 6];
    body.extend(1u16.to_be_bytes());
    body.extend([0; 16]);
    body.extend(320u16.to_be_bytes());
    body.extend(240u16.to_be_bytes());
    body.extend([0, 0x48, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0, 1]);
    body.extend([0; 32]);
    body.extend([0, 0x18, 0xFF, 0xFF]);
    mp4_box(b"avc1", &body)
}

fn movie(brand: &[u8; 4], traks: &[Vec<u8>], seconds: u32) -> Vec<u8> {
    let mut ftyp = brand.to_vec();
    ftyp.extend([0; 4]);
    ftyp.extend_from_slice(brand);
    ftyp.extend(b"isommp42");
    let mut mvhd = vec![0; 8];
    mvhd.extend(1000u32.to_be_bytes());
    mvhd.extend((seconds * 1000).to_be_bytes());
    mvhd.extend([0, 1, 0, 0, 1, 0]); // rate 1.0, volume 1.0
    mvhd.extend([0; 70]);
    mvhd.extend(3u32.to_be_bytes()); // next track id
    let moov = [&[full_box(b"mvhd", &mvhd)][..], traks].concat().concat();
    // The media data first and the index after it, as ffmpeg writes an
    // M4A without `-movflags faststart`: the server must walk past `mdat`.
    [
        mp4_box(b"ftyp", &ftyp),
        mp4_box(b"mdat", &vec![0; 4096]),
        mp4_box(b"moov", &moov),
    ]
    .concat()
}

/// An M4A (AAC in MP4, brand `M4A `) of one sound track.
pub fn m4a(seconds: u32) -> Vec<u8> {
    movie(b"M4A ", &[trak(1, b"soun", mp4a(), seconds)], seconds)
}

/// An MP4 (brand `isom`) with a video and a sound track.
pub fn mp4_with_video(seconds: u32) -> Vec<u8> {
    let traks = [
        trak(1, b"vide", avc1(), seconds),
        trak(2, b"soun", mp4a(), seconds),
    ];
    movie(b"isom", &traks, seconds)
}

/// `seconds` of MPEG-1 Layer III silence (128 kbit/s, 44.1 kHz: frames
/// of 417 bytes whose side information is all zero) after an ID3v2.4 tag.
pub fn mp3(seconds: u32) -> Vec<u8> {
    let mut out = b"ID3\x04\0\0\0\0\0\0".to_vec();
    // 44,100 / 1,152 frames per second, rounded up.
    for _ in 0..(seconds * 39) {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, 0);
        out.extend(frame);
    }
    out
}

/// An M4A (brand `M4A `) whose second track has `handler` (`pict`, say:
/// a cover picture, shown; or `text`: timed text, neither heard nor shown).
pub fn m4a_with_track(handler: &[u8; 4], seconds: u32) -> Vec<u8> {
    let traks = [
        trak(1, b"soun", mp4a(), seconds),
        trak(2, handler, mp4a(), seconds),
    ];
    movie(b"M4A ", &traks, seconds)
}

/// An Ogg whose only stream's first packet names no codec known here.
pub fn ogg_unknown_codec() -> Vec<u8> {
    let mut out = ogg_page(0x02, 0, 0, &[b"mystery codec v1"]);
    out.extend(ogg_page(0, 0, 1, &[b"more of it"]));
    out
}

/// An Ogg Opus stream's first page, then a second stream's first page cut
/// off where the file ends (whatever it was is not known to be audio).
pub fn ogg_cut_second_stream() -> Vec<u8> {
    let mut out = ogg_page(0x02, 0, 0, &[&opus_head()]);
    let theora = ogg_page(0x02, 0, 0, &[b"\x80theora\x03\x02\x01\0\0\0\0\0\0\0\0"]);
    out.extend_from_slice(&theora[..theora.len() - 6]);
    out
}

/// An ID3v2.4 tag (of `padding` zero bytes) in front of `inner`: sniffing
/// calls anything starting `ID3` MP3.
pub fn id3_in_front_of(inner: &[u8], padding: u32) -> Vec<u8> {
    // The size is syncsafe: 7 bits a byte.
    let size = [
        (padding >> 21) as u8 & 0x7F,
        (padding >> 14) as u8 & 0x7F,
        (padding >> 7) as u8 & 0x7F,
        padding as u8 & 0x7F,
    ];
    let mut out = b"ID3\x04\0\0".to_vec();
    out.extend(size);
    out.resize(out.len() + padding as usize, 0);
    out.extend_from_slice(inner);
    out
}

/// [`mp3`] with an ID3 tag of `padding` bytes (over 8 KiB: the frames lie
/// beyond the first bytes sniffed).
pub fn mp3_after_tag(padding: u32, seconds: u32) -> Vec<u8> {
    let frames = &mp3(seconds)[10..];
    id3_in_front_of(frames, padding)
}
