//! Voice messages: what their metadata must say (`duration_ms` within
//! `voice.max_duration_ms`, an optional `waveform` of at most 100 values
//! 0-255), and telling audio from video among uploads by their tracks
//! (`media::tracks`), so that a voice message's file is audio by its
//! bytes and an audio-only WebM is stored and served as `audio/webm`.
//! Which file a message may carry is `Core::attachable_file`'s to say.

use super::files::internal_blob;
use super::{Core, CoreError, CoreResult};
use crate::blob::{BlobKey, Written};
use crate::media::tracks::{self, Container, Tracks};
use futures_util::TryStreamExt;
use natter_proto::messages::{MessageType, Metadata};
use std::ops::Range;

/// Most values in `metadata.waveform` (clients draw about 50 bars).
pub const MAX_WAVEFORM_VALUES: usize = natter_proto::messages::WAVEFORM_MAX_VALUES;
/// Bytes read after an MP3's ID3 tag: two frame headers fit (the longest
/// frame, MPEG-2.5 layer II at 160 kbit/s and 8 kHz, is 2,881 bytes).
const MP3_PROBE_BYTES: u64 = 4096;
/// Largest waveform value (the loudest bar).
const MAX_WAVEFORM_LEVEL: i64 = 255;

/// Checks the voice fields of a message's metadata: a voice message needs
/// `duration_ms` from 1 to `max_duration_ms` and may carry a waveform;
/// text, image and file messages carry neither.
pub(crate) fn check_metadata(
    message_type: MessageType,
    metadata: &Metadata,
    max_duration_ms: u64,
) -> CoreResult<()> {
    if message_type != MessageType::Voice {
        let voice_fields = metadata.duration_ms.is_some() || metadata.waveform.is_some();
        if voice_fields
            && matches!(
                message_type,
                MessageType::Text | MessageType::Image | MessageType::File
            )
        {
            return Err(CoreError::invalid(
                "metadata.duration_ms and metadata.waveform belong to voice messages",
            ));
        }
        return Ok(());
    }
    let duration = metadata
        .duration_ms
        .ok_or_else(|| CoreError::invalid("metadata.duration_ms is required for voice messages"))?;
    if duration < 1 || duration.unsigned_abs() > max_duration_ms {
        return Err(CoreError::invalid(format!(
            "metadata.duration_ms must be 1 to {max_duration_ms} (milliseconds)"
        )));
    }
    if let Some(waveform) = &metadata.waveform {
        if waveform.len() > MAX_WAVEFORM_VALUES {
            return Err(CoreError::invalid(format!(
                "metadata.waveform holds at most {MAX_WAVEFORM_VALUES} values"
            )));
        }
        if waveform
            .iter()
            .any(|level| !(0..=MAX_WAVEFORM_LEVEL).contains(level))
        {
            return Err(CoreError::invalid(format!(
                "metadata.waveform values are 0 to {MAX_WAVEFORM_LEVEL}"
            )));
        }
    }
    Ok(())
}

impl Core {
    /// The type an upload that `sniff` called `sniffed` is stored and
    /// served under: WebM, Ogg and MP4 by their tracks (an audio-only
    /// WebM is `audio/webm`; an audio type only when the tracks were read
    /// and are audio), MP3 by its frames, anything else as sniffed. Reads
    /// at most a WebM's first 256 KiB, an MP4's top-level box headers and
    /// its `moov`, or 4 KiB after an MP3's ID3 tag, from the upload at
    /// `key`.
    pub(crate) async fn media_type(
        &self,
        key: &BlobKey,
        written: &Written,
        sniffed: &'static str,
    ) -> CoreResult<&'static str> {
        if sniffed == "audio/mpeg" {
            return self.mp3_type(key, written).await;
        }
        let Some(container) = Container::of(sniffed) else {
            return Ok(sniffed);
        };
        let found = match container {
            // Every stream's first page comes before any other page.
            Container::Ogg => tracks::ogg_tracks(&written.first_bytes),
            Container::WebM => {
                let end = written.size.min(tracks::WEBM_HEAD_BYTES);
                if written.first_bytes.len() as u64 >= end {
                    tracks::webm_tracks(&written.first_bytes)
                } else {
                    tracks::webm_tracks(&self.read_range(key, 0..end).await?)
                }
            }
            Container::Mp4 => self.mp4_tracks(key, written.size).await?,
        };
        Ok(tracks::media_type(container, found))
    }

    /// `audio/mpeg` if MPEG audio frames follow the ID3 tag (if any), else
    /// `application/octet-stream`: sniffing calls anything that starts
    /// `ID3` MP3. Reads at most [`MP3_PROBE_BYTES`] after the tag.
    async fn mp3_type(&self, key: &BlobKey, written: &Written) -> CoreResult<&'static str> {
        const NOT_MP3: &str = "application/octet-stream";
        let Some(tag) = tracks::id3_len(&written.first_bytes) else {
            return Ok(NOT_MP3);
        };
        if tag >= written.size {
            return Ok(NOT_MP3);
        }
        let end = written.size.min(tag + MP3_PROBE_BYTES);
        let frames = if written.first_bytes.len() as u64 >= end {
            tracks::is_mp3(&written.first_bytes[tag as usize..end as usize])
        } else {
            tracks::is_mp3(&self.read_range(key, tag..end).await?)
        };
        Ok(if frames { "audio/mpeg" } else { NOT_MP3 })
    }

    /// Walks an MP4's top-level boxes by their headers to `moov` (which
    /// may follow the media data) and reads the tracks it describes.
    async fn mp4_tracks(&self, key: &BlobKey, size: u64) -> CoreResult<Tracks> {
        let mut pos = 0u64;
        for _ in 0..tracks::MAX_TOP_BOXES {
            if pos >= size {
                break;
            }
            let bytes = self.read_range(key, pos..size.min(pos + 16)).await?;
            let Some(header) = tracks::box_header(&bytes) else {
                break;
            };
            let end = header
                .size
                .map_or(size, |box_size| pos.saturating_add(box_size));
            if &header.kind == b"moov" {
                let body = pos + header.header_len;
                if end > size || end <= body || end - body > tracks::MAX_MOOV_BYTES {
                    break;
                }
                return Ok(tracks::moov_tracks(&self.read_range(key, body..end).await?));
            }
            pos = end;
        }
        Ok(Tracks::Unknown)
    }

    /// `range` of the blob at `key`, in memory (callers bound its length).
    async fn read_range(&self, key: &BlobKey, range: Range<u64>) -> CoreResult<Vec<u8>> {
        let blob = self
            .files
            .blob
            .get_range(key, range)
            .await
            .map_err(internal_blob)?;
        let mut bytes = Vec::with_capacity((blob.range.end - blob.range.start) as usize);
        let mut stream = blob.stream;
        while let Some(chunk) = stream.try_next().await.map_err(internal_blob)? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(duration_ms: Option<i64>, waveform: Option<Vec<i64>>) -> Metadata {
        Metadata {
            duration_ms,
            waveform,
            ..Metadata::default()
        }
    }

    #[test]
    fn a_voice_message_needs_a_duration_within_the_cap() {
        let check = |metadata: &Metadata| check_metadata(MessageType::Voice, metadata, 60_000);
        assert!(check(&voice(Some(1), None)).is_ok());
        assert!(check(&voice(Some(60_000), None)).is_ok());
        for duration in [None, Some(0), Some(-1), Some(i64::MIN), Some(60_001)] {
            assert!(check(&voice(duration, None)).is_err(), "{duration:?}");
        }
    }

    #[test]
    fn a_waveform_is_short_and_in_range() {
        let check = |waveform: Vec<i64>| {
            check_metadata(
                MessageType::Voice,
                &voice(Some(1_000), Some(waveform)),
                60_000,
            )
        };
        assert!(check(vec![]).is_ok());
        assert!(check(vec![0, 128, 255]).is_ok());
        assert!(check(vec![255; MAX_WAVEFORM_VALUES]).is_ok());
        assert!(check(vec![1; MAX_WAVEFORM_VALUES + 1]).is_err());
        assert!(check(vec![256]).is_err());
        assert!(check(vec![-1]).is_err());
    }

    #[test]
    fn other_messages_carry_no_voice_fields() {
        for message_type in [MessageType::Text, MessageType::Image, MessageType::File] {
            assert!(check_metadata(message_type, &voice(Some(5), None), 60_000).is_err());
            assert!(check_metadata(message_type, &voice(None, Some(vec![1])), 60_000).is_err());
            assert!(check_metadata(message_type, &Metadata::default(), 60_000).is_ok());
        }
    }
}
