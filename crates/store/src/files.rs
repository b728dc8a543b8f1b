//! Uploaded files' metadata (the bytes are in the blob store), who may
//! read them, storage used, and uploads nothing refers to.

use crate::StoreResult;
use async_trait::async_trait;

/// An uploaded file's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRow {
    pub id: String,
    pub owner_id: String,
    /// Sanitised client file name.
    pub name: String,
    /// From the bytes; for images the re-encoded type.
    pub mime: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Set when a thumbnail was stored (images).
    pub thumbnail_mime: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait Files: Send + Sync {
    async fn create_file(&self, file: FileRow) -> StoreResult<()>;
    async fn file(&self, file_id: &str) -> StoreResult<Option<FileRow>>;
    /// The files among these ids (any order; unknown ids are skipped).
    async fn files(&self, file_ids: &[String]) -> StoreResult<Vec<FileRow>>;
    /// True if a live message of a chat `user_id` is a member of refers
    /// to the file, the file is someone's avatar, or it is the avatar of a
    /// chat `user_id` is a member of. (Owners are checked
    /// by the caller.)
    async fn file_visible_to(&self, file_id: &str, user_id: &str) -> StoreResult<bool>;
    /// Bytes of all files `owner_id` uploaded.
    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64>;
    /// Files created before `created_before` that no message (live or
    /// tombstone) and no avatar (a user's or a chat's) refers to, oldest
    /// first.
    async fn orphan_files(&self, created_before: i64, limit: u32) -> StoreResult<Vec<FileRow>>;
    /// Deletes the row unless a message or an avatar (a user's or a
    /// chat's) refers to it (again);
    /// true if it was deleted (then, and only then, drop its bytes).
    async fn delete_file(&self, file_id: &str) -> StoreResult<bool>;
}
