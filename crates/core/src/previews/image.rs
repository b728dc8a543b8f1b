//! A preview's image: fetched with the page's protections, sniffed,
//! decoded and re-encoded by [`crate::media`] as uploads are (limits,
//! metadata stripped), kept at thumbnail size only in the blob store
//! (`previews/<id>`), and read back for its signed link. Anything wrong
//! with it drops the image, never the preview.

use crate::blob::{self, links};
use crate::media::{self, ImageLimits, Kind};
use crate::{Core, CoreError, CoreResult, now_ms};
use bytes::Bytes;
use natter_store::PreviewImageRow;
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

/// Pixels of a preview image, at most (tighter than uploads: nobody chose
/// to send this image, and it ends up a thumbnail).
const MAX_IMAGE_PIXELS: u64 = 25_000_000;

/// A preview image's bytes and type, for serving.
pub struct PreviewImageBytes {
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    pub bytes: Bytes,
}

impl Core {
    /// Fetches, re-encodes and stores a page's image; `None` (the preview
    /// goes without an image) if any of it fails.
    pub(super) async fn preview_image_of(
        &self,
        url: Url,
        deadline: Instant,
    ) -> Option<PreviewImageRow> {
        let shown = url.to_string();
        let bytes = match tokio::time::timeout_at(deadline, self.previews.fetcher.image(url)).await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(error)) => {
                tracing::debug!(url = %shown, %error, "link preview: image not fetched");
                return None;
            }
            Err(_) => {
                tracing::debug!(url = %shown, "link preview: image not fetched in time");
                return None;
            }
        };
        let Kind::Image(format) = media::sniff(&bytes).kind else {
            tracing::debug!(url = %shown, "link preview: the image is not an image");
            return None;
        };
        let limits = ImageLimits {
            max_pixels: self.files.limits.max_pixels.min(MAX_IMAGE_PIXELS),
            ..self.files.limits.clone()
        };
        let processed =
            tokio::task::spawn_blocking(move || media::process_image(&bytes, format, &limits))
                .await
                .ok()?;
        let image = match processed {
            Ok(image) => image,
            Err(error) => {
                tracing::debug!(url = %shown, %error, "link preview: the image was refused");
                return None;
            }
        };
        let id = Uuid::now_v7();
        if let Err(error) = self
            .files
            .blob
            .put(&blob::preview_key(id), Bytes::from(image.thumbnail))
            .await
        {
            tracing::warn!(%error, "link preview: the image could not be stored");
            return None;
        }
        Some(PreviewImageRow {
            id: id.to_string(),
            width: image.thumbnail_width,
            height: image.thumbnail_height,
        })
    }

    /// A preview image by its signed link; 404 for a bad or expired
    /// signature or an image no longer kept.
    pub async fn preview_image(
        &self,
        image_id: &str,
        expires_at: u64,
        sig: &str,
    ) -> CoreResult<PreviewImageBytes> {
        let gone = || CoreError::not_found("preview image");
        let now = (now_ms() / 1000) as u64;
        if !links::verify_preview_image(&self.files.secret, image_id, expires_at, sig, now) {
            return Err(gone());
        }
        let id = Uuid::parse_str(image_id).map_err(|_| gone())?;
        let blob = match self.files.blob.get(&blob::preview_key(id)).await {
            Ok(blob) => blob,
            Err(blob::BlobError::NotFound(_)) => return Err(gone()),
            Err(error) => return Err(CoreError::Internal(error.into())),
        };
        use futures_util::TryStreamExt;
        let mut bytes = Vec::with_capacity(blob.size as usize);
        let mut stream = blob.stream;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|error| CoreError::Internal(error.into()))?
        {
            bytes.extend_from_slice(&chunk);
        }
        // Written by `preview_image_of` from a media thumbnail: JPEG or PNG.
        let mime = match media::sniff(&bytes).mime {
            "image/png" => "image/png",
            _ => "image/jpeg",
        };
        Ok(PreviewImageBytes {
            mime,
            bytes: Bytes::from(bytes),
        })
    }
}
