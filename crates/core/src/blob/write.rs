//! Writes: whole objects, and streamed uploads that never hold the whole
//! body in memory.

use super::{BlobError, BlobKey, BlobStore, BoxError};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

/// S3's minimum part size (all parts but the last), and how much we buffer
/// before deciding between one `PUT` and a multipart upload.
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts uploading at once. With one more filling, a streamed upload holds
/// at most `(1 + PARTS_IN_FLIGHT) * PART_SIZE` = 15 MiB (plus one incoming
/// chunk), whatever the upload's size.
const PARTS_IN_FLIGHT: usize = 2;

/// How many leading bytes [`Written::first_bytes`] keeps for type sniffing.
pub const SNIFF_LEN: usize = 8 * 1024;

/// What a streamed upload wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes stored.
    pub size: u64,
    /// SHA-256 of the bytes stored.
    pub sha256: [u8; 32],
    /// The first `min(size, 8 KiB)` bytes, enough for `media::sniff`.
    pub first_bytes: Bytes,
}

impl BlobStore {
    /// Stores `bytes` under `key` in one request (thumbnails, re-encoded
    /// images: already in memory). Replaces any object there.
    pub async fn put(&self, key: &BlobKey, bytes: Bytes) -> Result<(), BlobError> {
        self.inner.put(key.path(), PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Streams `body` into `key`, hashing as it goes. Bodies up to 5 MiB
    /// are one `PUT`; larger ones a multipart upload of 5 MiB parts with at
    /// most two in flight (back-pressure on `body`), so memory stays under
    /// ~15 MiB per upload.
    ///
    /// Past `limit` bytes, or if `body` yields an error, the upload is
    /// aborted and nothing is stored ([`BlobError::TooLarge`],
    /// [`BlobError::Body`]). If the future is dropped midway, the local
    /// store removes its staging file; an S3 bucket keeps the incomplete
    /// multipart upload until its lifecycle rule expires it.
    pub async fn put_stream<S, E>(
        &self,
        key: &BlobKey,
        body: S,
        limit: u64,
    ) -> Result<Written, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        let mut body = std::pin::pin!(body);
        let mut tally = Tally::new(limit);

        // Small uploads (most of them) never start a multipart upload.
        let mut pending = Vec::new();
        let mut buffered = 0;
        while buffered < PART_SIZE {
            let Some(chunk) = body.next().await else {
                let payload = PutPayload::from_iter(pending);
                self.inner.put(key.path(), payload).await?;
                return Ok(tally.finish());
            };
            let chunk = tally.add(chunk)?;
            buffered += chunk.len();
            pending.push(chunk);
        }

        let upload = self.inner.put_multipart(key.path()).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for chunk in pending {
            writer.put(chunk);
        }
        while let Some(chunk) = body.next().await {
            let step = match tally.add(chunk) {
                Ok(chunk) => match writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    Ok(()) => Ok(chunk),
                    Err(e) => Err(BlobError::from(e)),
                },
                Err(e) => Err(e),
            };
            match step {
                Ok(chunk) => writer.put(chunk),
                Err(e) => {
                    // Best effort: the error that matters is the first one.
                    let _ = writer.abort().await;
                    return Err(e);
                }
            }
        }
        // `finish` aborts the upload itself if completing fails.
        writer.finish().await?;
        Ok(tally.finish())
    }
}

/// Size, hash and leading bytes of what went by.
struct Tally {
    limit: u64,
    size: u64,
    hasher: Sha256,
    first: BytesMut,
}

impl Tally {
    fn new(limit: u64) -> Self {
        Self {
            limit,
            size: 0,
            hasher: Sha256::new(),
            first: BytesMut::new(),
        }
    }

    fn add<E: Into<BoxError>>(&mut self, chunk: Result<Bytes, E>) -> Result<Bytes, BlobError> {
        let chunk = chunk.map_err(|e| BlobError::Body(e.into()))?;
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.hasher.update(&chunk);
        let want = SNIFF_LEN.saturating_sub(self.first.len()).min(chunk.len());
        self.first.extend_from_slice(&chunk[..want]);
        Ok(chunk)
    }

    fn finish(self) -> Written {
        Written {
            size: self.size,
            sha256: self.hasher.finalize().into(),
            first_bytes: self.first.freeze(),
        }
    }
}
