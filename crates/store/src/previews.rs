//! The link preview cache: what a fetch of a page found (or that it found
//! nothing), keyed by the page's normalized URL, with when it was fetched.
//! Every node of a cluster shares it, so a link posted to a hundred people
//! is fetched once, not once per reader. The store keeps rows only:
//! normalizing the URL, deciding when a row is stale and fetching are the
//! caller's; the image bytes live in the blob store under `image_id`.

use crate::StoreResult;
use async_trait::async_trait;

/// The preview image: stored by the caller (re-encoded) under `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewImageRow {
    /// The blob's id (a UUID chosen by the caller).
    pub id: String,
    pub width: u32,
    pub height: u32,
}

/// One cached fetch. `found: false` is a negative entry (nothing to
/// preview, or the page could not be fetched): its other fields are empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreviewRow {
    /// The normalized URL (the key).
    pub url: String,
    /// When the page was fetched (milliseconds since the epoch).
    pub fetched_at: i64,
    pub found: bool,
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub image: Option<PreviewImageRow>,
}

#[async_trait]
pub trait LinkPreviews: Send + Sync {
    /// The cached fetch of `url`, however old (the caller judges its age).
    async fn link_preview(&self, url: &str) -> StoreResult<Option<LinkPreviewRow>>;

    /// Stores `row`, replacing any earlier fetch of its URL. Returns the
    /// image id of the row it replaced, if that row had an image, so the
    /// caller can delete the old blob (unless it is the same id). Atomic
    /// across nodes: of any number of concurrent puts of one URL, each
    /// replaced image id is returned by exactly one of them.
    async fn put_link_preview(&self, row: LinkPreviewRow) -> StoreResult<Option<String>>;

    /// Deletes every row fetched before `cutoff` (milliseconds since the
    /// epoch) and returns the image ids those rows had, so the caller can
    /// delete the blobs; an id is returned once, by the delete or by the
    /// put that replaced its row, never by both.
    async fn delete_link_previews_before(&self, cutoff: i64) -> StoreResult<Vec<String>>;
}
