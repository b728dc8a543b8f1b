//! File bytes through `object_store`: a local directory by default, an
//! S3-compatible bucket with `s3://bucket/prefix`. Owns keys (built only
//! from server ids, see [`key`]), streaming writes, ranged reads and the
//! signed links ([`links`]). Knows nothing of HTTP, of who may read what,
//! or of what the bytes are (that is `media`).

mod key;
pub mod links;
mod read;
mod write;

pub use key::{BlobKey, Variant, key, preview_key, upload_key};
pub use read::{Blob, BlobMeta, ByteStream};
pub use write::{SNIFF_LEN, Written};

use anyhow::{Context, bail, ensure};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A boxed error from an upload body (multipart field, test stream...).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong with blob operations. `NotFound` and `TooLarge` are
/// the caller's to map to 404 / 413; the rest are internal (500), except
/// `Body`, which is the client's upload failing midway.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No object under that key.
    #[error("no object at {0}")]
    NotFound(String),
    /// The upload went over the limit given to [`BlobStore::put_stream`];
    /// nothing was stored.
    #[error("upload larger than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// An empty range was asked for (callers validate ranges against the
    /// size they stored before asking).
    #[error("empty byte range")]
    InvalidRange,
    /// The upload body failed (client went away, malformed multipart);
    /// nothing was stored.
    #[error("reading the upload body")]
    Body(#[source] BoxError),
    /// The object store failed.
    #[error("object store")]
    Store(#[source] object_store::Error),
}

impl BlobError {
    /// True if the object store failed for want of space (`ENOSPC`
    /// anywhere in its chain of causes).
    pub fn storage_full(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::StorageFull
            {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
            e => BlobError::Store(e),
        }
    }
}

/// The blob store: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// The root directory when local (readiness checks that it exists).
    local_root: Option<PathBuf>,
    /// For logs: the URL without credentials (which only come from env).
    describe: String,
}

impl fmt::Debug for BlobStore {
    // Hand-written: the S3 client's own Debug may include credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("at", &self.describe)
            .finish()
    }
}

impl BlobStore {
    /// Opens the store named by `blob_url`:
    /// - empty: the directory `<data_dir>/files` (created if missing);
    /// - `file:///abs/path`: that directory (created if missing);
    /// - `s3://bucket/prefix`: the bucket, every key under `prefix/`.
    ///   Region, endpoint and credentials come from the usual `AWS_*`
    ///   variables (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP=true` for a plain
    ///   HTTP test server, `AWS_ACCESS_KEY_ID`, ...).
    ///
    /// Does no network I/O; use [`BlobStore::ping`] to check the bucket.
    pub fn from_url(blob_url: &str, data_dir: &Path) -> anyhow::Result<Self> {
        Self::from_url_with(blob_url, data_dir, &[])
    }

    /// [`BlobStore::from_url`] with extra object_store options for S3
    /// (`aws_endpoint`, `aws_allow_http`, `aws_access_key_id`, ...), which
    /// win over the environment.
    pub fn from_url_with(
        blob_url: &str,
        data_dir: &Path,
        options: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let url = blob_url.trim();
        if url.is_empty() {
            return Self::local(&data_dir.join("files"));
        }
        if let Some(path) = url.strip_prefix("file://") {
            ensure!(
                path.starts_with('/'),
                "blob_url {url:?}: a file URL needs an absolute path (file:///abs/path)"
            );
            return Self::local(Path::new(path));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            ensure!(!bucket.is_empty(), "blob_url {url:?}: no bucket name");
            let mut builder = AmazonS3Builder::from_env().with_url(format!("s3://{bucket}"));
            for (key, value) in options {
                let key = key
                    .parse()
                    .with_context(|| format!("blob option {key:?} is not an S3 setting"))?;
                builder = builder.with_config(key, value);
            }
            let s3 = builder
                .build()
                .with_context(|| format!("configuring S3 for blob_url {url:?}"))?;
            let prefix = prefix.trim_matches('/');
            let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(PrefixStore::new(s3, prefix))
            };
            return Ok(Self {
                inner,
                local_root: None,
                describe: format!("s3://{bucket}/{prefix}"),
            });
        }
        bail!("blob_url {url:?}: expected nothing (local), file:///abs/path or s3://bucket/prefix")
    }

    fn local(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating blob directory {}", root.display()))?;
        let fs = LocalFileSystem::new_with_prefix(root)
            .with_context(|| format!("opening blob directory {}", root.display()))?
            // Acknowledged uploads survive a crash, like they would on S3.
            .with_fsync(true)
            // `files/<id>/` directories go away with their last object.
            .with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(fs),
            local_root: Some(root.to_path_buf()),
            describe: format!("file://{}", root.display()),
        })
    }

    /// Where the bytes live, for logs (never includes credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Deletes an object. Deleting a missing object is not an error, so
    /// cleanup can be retried.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.inner.delete(key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves an object to another key (S3: copy then delete), e.g. an
    /// upload to its final `files/<id>/original` key.
    pub async fn rename(&self, from: &BlobKey, to: &BlobKey) -> Result<(), BlobError> {
        Ok(self.inner.rename(from.path(), to.path()).await?)
    }

    /// Readiness: the store answers and its bucket (or directory) exists.
    /// Lists the top level, which holds only the `files/` and `uploads/`
    /// prefixes, so it stays cheap. (On S3 the credentials need
    /// `s3:ListBucket`.)
    pub async fn ping(&self) -> Result<(), BlobError> {
        if let Some(root) = &self.local_root
            && !tokio::fs::metadata(root).await.is_ok_and(|m| m.is_dir())
        {
            return Err(BlobError::NotFound(root.display().to_string()));
        }
        self.inner.list_with_delimiter(None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
