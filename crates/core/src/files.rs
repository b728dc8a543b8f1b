//! Files: uploads (streamed to the blob store, typed from their bytes,
//! images re-encoded without metadata and thumbnailed off the async
//! runtime), who may read a file, signed links, and the sweep of uploads
//! nobody posted.

use super::{Caller, Core, CoreError, CoreResult, now_ms};
use crate::blob::{self, BlobError, BlobKey, Variant, links};
use crate::media::{self, ImageLimits, Kind, MediaError};
use bytes::Bytes;
use futures_util::Stream;
use natter_config::FileSettings;
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
use natter_proto::messages::{FileInfo, FileRef, MessageType};
use natter_store::FileRow;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Most orphaned files removed per sweep (the next sweep takes the rest).
const SWEEP_BATCH: u32 = 500;

/// Everything the file use cases need besides the store.
pub struct Files {
    pub(crate) blob: blob::BlobStore,
    pub(crate) settings: FileSettings,
    pub(crate) limits: ImageLimits,
    /// Key of the HMAC that signs links.
    pub(crate) secret: Vec<u8>,
}

impl Files {
    pub fn new(blob: blob::BlobStore, settings: FileSettings, secret: &[u8]) -> Self {
        let limits = ImageLimits {
            max_pixels: settings.max_image_pixels,
            ..ImageLimits::default()
        };
        Files {
            blob,
            settings,
            limits,
            secret: secret.to_vec(),
        }
    }

    /// A signed, expiring link to a variant of a file, issued to `user_id`.
    pub(crate) fn link(&self, file_id: &str, variant: Variant, user_id: &str) -> String {
        let expires_at = (now_ms() / 1000) as u64 + self.settings.link_ttl_secs;
        links::sign(
            &self.secret,
            &links::LinkTo {
                file_id,
                variant,
                expires_at,
                user_id,
            },
        )
    }

    /// The `file` object of a message, its links signed now for `user_id`.
    pub fn file_ref(&self, row: &FileRow, user_id: &str) -> FileRef {
        FileRef {
            file_id: row.id.clone(),
            name: row.name.clone(),
            mime: row.mime.clone(),
            size: row.size,
            width: row.width,
            height: row.height,
            url: self.link(&row.id, Variant::Original, user_id),
            thumbnail_url: row
                .thumbnail_mime
                .as_ref()
                .map(|_| self.link(&row.id, Variant::Thumb, user_id)),
        }
    }

    /// A file object's links, issued again to `user_id` (a message
    /// rendered once for a whole chat carries its sender's).
    fn relink(&self, file: &mut FileRef, user_id: &str) {
        file.url = self.link(&file.file_id, Variant::Original, user_id);
        if file.thumbnail_url.is_some() {
            file.thumbnail_url = Some(self.link(&file.file_id, Variant::Thumb, user_id));
        }
    }

    /// Issues the file links of `event` (the message of `message.new` or
    /// `message.updated`; a chat's avatar and last message) to `user_id`.
    pub fn relink_event(&self, event: &mut ServerEvent, user_id: &str) {
        let message = match event {
            ServerEvent::MessageNew { message } | ServerEvent::MessageUpdated { message } => {
                Some(message)
            }
            ServerEvent::ChatCreated { chat } | ServerEvent::ChatUpdated { chat } => {
                if let Some(avatar) = chat.avatar_url.as_mut()
                    && let Some(file_id) = linked_file_id(avatar)
                {
                    *avatar = self.link(file_id, Variant::Thumb, user_id);
                }
                chat.last_message.as_mut()
            }
            _ => None,
        };
        if let Some(file) = message.and_then(|message| message.file.as_mut()) {
            self.relink(file, user_id);
        }
    }

    /// The upload's description for its owner.
    fn info(&self, row: &FileRow) -> FileInfo {
        let reference = self.file_ref(row, &row.owner_id);
        FileInfo {
            file_id: reference.file_id,
            name: reference.name,
            mime: reference.mime,
            size: reference.size,
            sha256: row.sha256.clone(),
            width: reference.width,
            height: reference.height,
            url: reference.url,
            thumbnail_url: reference.thumbnail_url,
        }
    }

    /// True if `sig` signs this link and it has not expired (whether its
    /// user may still read the file is [`Core::readable_file`]'s to say).
    pub fn link_valid(&self, link: &links::LinkTo<'_>, sig: &str) -> bool {
        links::verify(&self.secret, link, sig, (now_ms() / 1000) as u64)
    }
}

/// A stored file a caller may read, as a download needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadableFile {
    pub file_id: String,
    /// Sanitised client file name.
    pub name: String,
    /// Type of the original (from its bytes; for images the re-encoded one).
    pub mime: String,
    /// Bytes of the original.
    pub size: i64,
    /// Hex SHA-256 of the original's bytes.
    pub sha256: String,
    /// Type of the thumbnail, if there is one (images).
    pub thumbnail_mime: Option<String>,
}

impl From<FileRow> for ReadableFile {
    fn from(row: FileRow) -> Self {
        ReadableFile {
            file_id: row.id,
            name: row.name,
            mime: row.mime,
            size: row.size,
            sha256: row.sha256,
            thumbnail_mime: row.thumbnail_mime,
        }
    }
}

/// How a download proved it may read the file.
pub enum FileAccess<'a> {
    /// A valid signed link issued to this user.
    Link { user_id: &'a str },
    /// A Bearer token of this caller.
    Caller(&'a Caller),
}

impl Core {
    /// Stores an upload: streams it to the blob store (size limit and
    /// quota enforced), decides its type from the bytes, and for images
    /// keeps only re-encoded pixels plus a thumbnail.
    pub async fn upload<S, E>(
        &self,
        caller: &Caller,
        name: Option<&str>,
        body: S,
    ) -> CoreResult<FileInfo>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let files = &self.files;
        let id = Uuid::now_v7();
        let upload_key = blob::upload_key(id);
        let written = files
            .blob
            .put_stream(&upload_key, body, files.settings.max_upload_bytes)
            .await
            .map_err(|error| blob_error(error, files.settings.max_upload_bytes))?;
        let stored = self
            .store_upload(caller, id, &upload_key, written, name)
            .await;
        if stored.is_err() {
            let _ = files.blob.delete(&upload_key).await;
        }
        stored
    }

    async fn store_upload(
        &self,
        caller: &Caller,
        id: Uuid,
        upload_key: &BlobKey,
        written: blob::Written,
        name: Option<&str>,
    ) -> CoreResult<FileInfo> {
        let files = &self.files;
        let quota = files.settings.quota_bytes_per_user;
        if quota > 0 {
            let used = self.store.storage_used(&caller.user_id).await?;
            if used.max(0) as u64 + written.size > quota {
                return Err(CoreError::rejected(
                    ErrorCode::PayloadTooLarge,
                    "your storage quota is used up",
                ));
            }
        }
        if written.size == 0 {
            return Err(CoreError::invalid("file: the file is empty"));
        }
        let sniffed = media::sniff(&written.first_bytes);
        let mut row = FileRow {
            id: id.to_string(),
            owner_id: caller.user_id.clone(),
            name: media::sanitize_file_name(name.unwrap_or("file")),
            mime: sniffed.mime.to_owned(),
            size: written.size as i64,
            sha256: hex(&written.sha256),
            width: None,
            height: None,
            thumbnail_mime: None,
            created_at: now_ms(),
        };
        let original = blob::key(id, Variant::Original);
        match sniffed.kind {
            Kind::Image(format) => {
                let bytes = self.read_all(upload_key).await?;
                let limits = files.limits.clone();
                let image = tokio::task::spawn_blocking(move || {
                    media::process_image(&bytes, format, &limits)
                })
                .await
                .map_err(anyhow::Error::from)?
                .map_err(media_error)?;
                row.mime = image.mime.to_owned();
                row.size = image.bytes.len() as i64;
                row.sha256 = hex(&Sha256::digest(&image.bytes));
                row.width = Some(image.width);
                row.height = Some(image.height);
                row.thumbnail_mime = Some(image.thumbnail_mime.to_owned());
                files
                    .blob
                    .put(&original, Bytes::from(image.bytes))
                    .await
                    .map_err(internal_blob)?;
                files
                    .blob
                    .put(&blob::key(id, Variant::Thumb), Bytes::from(image.thumbnail))
                    .await
                    .map_err(internal_blob)?;
                files.blob.delete(upload_key).await.map_err(internal_blob)?;
            }
            Kind::Other => {
                // Audio or video by the container's tracks (voice notes).
                row.mime = self
                    .media_type(upload_key, &written, sniffed.mime)
                    .await?
                    .to_owned();
                files
                    .blob
                    .rename(upload_key, &original)
                    .await
                    .map_err(internal_blob)?
            }
        }
        self.store.create_file(row.clone()).await?;
        metrics::counter!("natter_files_stored_total").increment(1);
        Ok(files.info(&row))
    }

    /// The whole upload in memory, once (images only: the decoder needs
    /// the bytes; the size limit bounds it).
    async fn read_all(&self, key: &BlobKey) -> CoreResult<Vec<u8>> {
        use futures_util::TryStreamExt;
        let blob = self.files.blob.get(key).await.map_err(internal_blob)?;
        let mut bytes = Vec::with_capacity(blob.size as usize);
        let mut stream = blob.stream;
        while let Some(chunk) = stream.try_next().await.map_err(internal_blob)? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A file the caller may read: its own, one posted in a chat the
    /// caller is a member of now, or someone's avatar.
    pub async fn readable_file(
        &self,
        access: FileAccess<'_>,
        file_id: &str,
    ) -> CoreResult<ReadableFile> {
        Ok(self.readable_row(access, file_id).await?.into())
    }

    async fn readable_row(&self, access: FileAccess<'_>, file_id: &str) -> CoreResult<FileRow> {
        let row = self
            .store
            .file(file_id)
            .await?
            .ok_or_else(|| CoreError::not_found("file"))?;
        let user_id = match access {
            FileAccess::Link { user_id } => user_id,
            FileAccess::Caller(caller) => &caller.user_id,
        };
        let allowed =
            row.owner_id == user_id || self.store.file_visible_to(file_id, user_id).await?;
        if allowed {
            Ok(row)
        } else {
            Err(CoreError::not_found("file"))
        }
    }

    /// Opens a variant of a file for reading, whole or a byte range.
    pub async fn open_file(
        &self,
        file: &ReadableFile,
        variant: Variant,
        range: Option<std::ops::Range<u64>>,
    ) -> CoreResult<blob::Blob> {
        if variant == Variant::Thumb && file.thumbnail_mime.is_none() {
            return Err(CoreError::not_found("thumbnail"));
        }
        let key = blob::key(
            Uuid::parse_str(&file.file_id).map_err(anyhow::Error::from)?,
            variant,
        );
        let opened = match range {
            Some(range) => self.files.blob.get_range(&key, range).await,
            None => self.files.blob.get(&key).await,
        };
        opened.map_err(|error| match error {
            BlobError::NotFound(_) => CoreError::not_found("file"),
            other => internal_blob(other),
        })
    }

    /// The file a message may carry: one the sender may read, of a kind
    /// that fits the message type (an image for `image`, audio for
    /// `voice`).
    pub(crate) async fn attachable_file(
        &self,
        caller: &Caller,
        file_id: &str,
        message_type: MessageType,
    ) -> CoreResult<FileRow> {
        let row = self
            .readable_row(FileAccess::Caller(caller), file_id)
            .await?;
        if message_type == MessageType::Image && row.width.is_none() {
            return Err(CoreError::invalid(
                "file_id: an image message needs an image file",
            ));
        }
        if message_type == MessageType::Mls && row.mime != "application/octet-stream" {
            return Err(CoreError::invalid(format!(
                "file_id: an mls message carries only a file its client encrypted before \
                 upload (typed application/octet-stream), not {}",
                row.mime
            )));
        }
        if message_type == MessageType::Voice && !media::tracks::is_voice_type(&row.mime) {
            return Err(CoreError::invalid(format!(
                "file_id: a voice message needs an audio file (WebM or Ogg audio, M4A or MP3), \
                 not {}",
                row.mime
            )));
        }
        Ok(row)
    }

    /// Deletes uploads older than the orphan TTL that no message refers
    /// to and nobody uses as an avatar. Returns how many went.
    pub async fn sweep_orphans(&self) -> CoreResult<usize> {
        let cutoff = now_ms() - self.files.settings.orphan_ttl_secs as i64 * 1000;
        let orphans = self.store.orphan_files(cutoff, SWEEP_BATCH).await?;
        let mut removed = 0;
        for row in &orphans {
            // The row goes first, and only if still unreferenced: a file
            // posted since the listing keeps its bytes.
            if !self.store.delete_file(&row.id).await? {
                continue;
            }
            let id = Uuid::parse_str(&row.id).map_err(anyhow::Error::from)?;
            for variant in [Variant::Original, Variant::Thumb] {
                self.files
                    .blob
                    .delete(&blob::key(id, variant))
                    .await
                    .map_err(internal_blob)?;
            }
            removed += 1;
        }
        if removed > 0 {
            tracing::info!(count = removed, "deleted orphaned uploads");
        }
        Ok(removed)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn blob_error(error: BlobError, limit: u64) -> CoreError {
    match error {
        BlobError::TooLarge { .. } => CoreError::rejected(
            ErrorCode::PayloadTooLarge,
            format!("file: larger than {limit} bytes"),
        ),
        BlobError::Body(cause) => CoreError::invalid(format!("file: the upload failed: {cause}")),
        other => internal_blob(other),
    }
}

/// A failure of the blob store: internal, except a full disk, which is an
/// outage the client is told of (503) like the database's.
pub(crate) fn internal_blob(error: BlobError) -> CoreError {
    if error.storage_full() {
        return CoreError::from(natter_store::StoreError::Unavailable(
            natter_store::Outage::StorageFull,
        ));
    }
    CoreError::Internal(anyhow::Error::from(error))
}

fn media_error(error: MediaError) -> CoreError {
    match error {
        MediaError::TooLarge(detail) => {
            CoreError::invalid(format!("file: image too large ({detail})"))
        }
        MediaError::Corrupt(detail) => {
            CoreError::invalid(format!("file: not a valid image ({detail})"))
        }
        MediaError::Unsupported => CoreError::rejected(
            ErrorCode::UnsupportedMediaType,
            "file: unsupported image format",
        ),
    }
}

/// The file id of a link `Files::link` made (`/api/v1/files/{id}?...`).
fn linked_file_id(link: &str) -> Option<&str> {
    let rest = link.strip_prefix("/api/v1/files/")?;
    rest.split_once('?').map(|(file_id, _)| file_id)
}
