//! Reads: whole objects and byte ranges as streams, and metadata.

use super::{BlobError, BlobKey, BlobStore};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::{GetOptions, GetResult, GetResultPayload, ObjectStoreExt};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

/// Object bytes as they arrive, never collected whole.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// Chunk size for streaming local files: each chunk is one blocking read
/// on tokio's blocking pool, so bigger than object_store's 8 KiB keeps a
/// 25 MiB download to a few hundred hops while bounding memory per reader.
const LOCAL_CHUNK: u64 = 64 * 1024;

/// An object (or part of one) being read.
pub struct Blob {
    /// The whole object's size in bytes (for `Content-Range`).
    pub size: u64,
    /// The bytes this stream yields (`0..size` for a whole object).
    pub range: Range<u64>,
    /// The bytes.
    pub stream: ByteStream,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// What [`BlobStore::head`] tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// Size in bytes.
    pub size: u64,
    /// The store's entity tag, if it has one.
    pub e_tag: Option<String>,
}

impl BlobStore {
    /// Streams a whole object.
    pub async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let result = self.inner.get_opts(key.path(), GetOptions::new()).await?;
        Ok(into_blob(result))
    }

    /// Streams `range` of an object. The caller validates the range against
    /// the object's size (it stored the size; a range past the end is a
    /// store error, not a clean 416). An empty range is `InvalidRange`.
    pub async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<Blob, BlobError> {
        if range.start >= range.end {
            return Err(BlobError::InvalidRange);
        }
        let options = GetOptions::new().with_range(Some(range));
        let result = self.inner.get_opts(key.path(), options).await?;
        Ok(into_blob(result))
    }

    /// Size and entity tag of an object, without reading it.
    pub async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError> {
        let meta = self.inner.head(key.path()).await?;
        Ok(BlobMeta {
            size: meta.size,
            e_tag: meta.e_tag,
        })
    }
}

fn into_blob(result: GetResult) -> Blob {
    let size = result.meta.size;
    let range = result.range.clone();
    let stream = match result.payload {
        GetResultPayload::File(file, _) => local_stream(file, range.clone()),
        GetResultPayload::Stream(s) => s.map_err(BlobError::from).boxed(),
    };
    Blob {
        size,
        range,
        stream,
    }
}

/// Reads `range` of a local file in [`LOCAL_CHUNK`] pieces on the blocking
/// pool (there is no async file I/O on Linux worth the name).
fn local_stream(file: std::fs::File, range: Range<u64>) -> ByteStream {
    let start = (file, range.start, range.end - range.start, true);
    stream::try_unfold(start, |(mut file, offset, remaining, first)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let read = tokio::task::spawn_blocking(move || {
            if first {
                file.seek(SeekFrom::Start(offset))?;
            }
            let want = remaining.min(LOCAL_CHUNK);
            let mut buf = Vec::with_capacity(want as usize);
            (&mut file).take(want).read_to_end(&mut buf)?;
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        let (file, buf) = match read {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(local_error(e)),
            Err(e) => return Err(local_error(std::io::Error::other(e))),
        };
        if buf.is_empty() {
            // The file shrank under us: end with an error, not silently short.
            let eof = std::io::ErrorKind::UnexpectedEof;
            return Err(local_error(eof.into()));
        }
        let len = buf.len() as u64;
        let rest = remaining.saturating_sub(len);
        Ok(Some((Bytes::from(buf), (file, offset + len, rest, false))))
    })
    .boxed()
}

fn local_error(e: std::io::Error) -> BlobError {
    BlobError::Store(object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(e),
    })
}
