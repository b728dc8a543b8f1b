//! Link previews: `GET /api/v1/link-preview?url=...` answers with what the
//! page at a URL says about itself (title, description, site name, an
//! image), for the card a client shows under a message with a link.
//!
//! The server fetches the page (never the clients: the people in a chat
//! do not tell every site they read a link), guarded against server-side
//! request forgery ([`fetch`]), parses it ([`page`]), fetches its image
//! the same way and re-encodes it through [`crate::media`] at thumbnail
//! size, kept in the blob store under `previews/<id>` and served by a
//! signed link. Results, and failures for a shorter time, are cached in
//! the store by normalized URL ([`target`]), so a link sent to many
//! people is fetched once; on one node, concurrent first requests for a
//! URL wait for one fetch, and at most `max_concurrent_fetches` fetches
//! (with their image decoding) run at once. Stale rows and their images
//! are swept by [`Core::sweep_link_previews`]. Owns no HTTP; knows
//! nothing of messages (a preview is for any URL the caller names).

mod fetch;
mod image;
mod page;
pub mod target;

use crate::blob::{self, links};
use crate::limits::Limit;
use crate::{Caller, Core, CoreError, CoreResult, now_ms};
use natter_config::LinkPreviewSettings;
use natter_proto::ErrorCode;
use natter_proto::previews::{LinkPreview, PreviewImage};
use natter_store::LinkPreviewRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

pub use image::PreviewImageBytes;
pub use target::MAX_URL_LEN;

/// The link previews of one node: settings, the guarded fetcher, the
/// per-user rate, the node-wide cap on fetches and the fetches in flight.
pub struct Previews {
    settings: LinkPreviewSettings,
    fetcher: fetch::Fetcher,
    /// `None` when rate limits are off (`rate_limit.enabled`).
    per_user: Option<Limit<String>>,
    /// One gate per URL being fetched on this node: a second request for
    /// it waits at the gate and then finds the first one's result in the
    /// cache. Entries go when their last holder does.
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One permit per fetch in progress (page, image and its decoding),
    /// `max_concurrent_fetches` in all: the per-user rate bounds each
    /// user, this bounds the node (sockets, memory of bodies and decoded
    /// images, blocking threads) however many users ask at once.
    fetches: Semaphore,
}

impl Previews {
    /// The previews `settings` describe; `rate_limits` is
    /// `rate_limit.enabled`.
    pub fn new(settings: &LinkPreviewSettings, rate_limits: bool) -> anyhow::Result<Previews> {
        let timeout = Duration::from_millis(settings.fetch_timeout_ms.max(1));
        Ok(Previews {
            settings: settings.clone(),
            fetcher: fetch::Fetcher::new(settings.allow_private_addresses, timeout)?,
            per_user: rate_limits.then(|| Limit::per_minute(settings.per_user_per_minute)),
            in_flight: Mutex::default(),
            fetches: Semaphore::new(settings.max_concurrent_fetches.max(1)),
        })
    }

    /// Whether the endpoint is on (`link_previews.enabled`).
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Drops idle rate-limit buckets.
    pub(crate) fn forget_idle(&self) {
        if let Some(limit) = &self.per_user {
            limit.forget_idle();
        }
    }

    /// A fetch permit, waited for until `deadline`; `None` if none came
    /// (the node is busy: the caller answers without caching anything).
    async fn permit(&self, deadline: Instant) -> Option<SemaphorePermit<'_>> {
        tokio::time::timeout_at(deadline, self.fetches.acquire())
            .await
            .ok()?
            .ok()
    }

    /// How old a row may get before the sweep deletes it, in
    /// milliseconds: the longer of the two TTLs (no row is fresh after).
    fn kept_for_ms(&self) -> i64 {
        let secs = self
            .settings
            .cache_ttl_secs
            .max(self.settings.failure_ttl_secs);
        i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Whether a cached row is still good at `now`.
    fn fresh(&self, row: &LinkPreviewRow, now: i64) -> bool {
        let ttl = if row.found {
            self.settings.cache_ttl_secs
        } else {
            self.settings.failure_ttl_secs
        };
        now - row.fetched_at < ttl.saturating_mul(1000) as i64
    }

    /// The gate of `url`, held until the returned guard is dropped.
    fn gate(&self, url: &str) -> Gate<'_> {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let gate = map.entry(url.to_owned()).or_default().clone();
        Gate {
            previews: self,
            url: url.to_owned(),
            gate,
        }
    }
}

/// A URL's in-flight gate; removes the map entry when the last holder
/// goes (also when a request is cancelled midway).
struct Gate<'a> {
    previews: &'a Previews,
    url: String,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        let mut map = self
            .previews
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // The map's reference and ours: nobody else waits.
        if Arc::strong_count(&self.gate) == 2 {
            map.remove(&self.url);
        }
    }
}

impl Core {
    /// The preview of `url` for `caller`: from the cache if fresh, else
    /// fetched now (rate-limited per user; only fetches count). 400 for a
    /// URL that is not http(s), too long, or an IP literal of a private
    /// network (unless allowed); 404 when previews are off; `None` when
    /// the page has nothing to preview or cannot be fetched (an answer,
    /// not an error: a browser logs every failed request as an error).
    pub async fn link_preview(
        &self,
        caller: &Caller,
        url: &str,
    ) -> CoreResult<Option<LinkPreview>> {
        let previews = &self.previews;
        if !previews.enabled() {
            return Err(CoreError::rejected(
                ErrorCode::NotFound,
                "link previews are turned off on this server",
            ));
        }
        let url = target::normalize(url)?;
        previews
            .fetcher
            .allowed(&url)
            .map_err(|why| CoreError::invalid(format!("url: {why}")))?;
        let key = url.as_str().to_owned();
        let row = match self.store.link_preview(&key).await? {
            Some(row) if previews.fresh(&row, now_ms()) => row,
            _ => {
                if let Some(limit) = &previews.per_user {
                    limit.check(&caller.user_id)?;
                }
                let gate = previews.gate(&key);
                let _held = gate.gate.lock().await;
                // Whoever held the gate before may have just fetched it.
                match self.store.link_preview(&key).await? {
                    Some(row) if previews.fresh(&row, now_ms()) => row,
                    _ => match self.fetch_preview(url).await? {
                        Some(row) => row,
                        // Too busy to fetch: nothing now, nothing cached.
                        None => return Ok(None),
                    },
                }
            }
        };
        Ok(self.render_preview(row))
    }

    /// Deletes cached previews older than both TTLs, and their images.
    /// Returns how many images went. Called periodically (with the
    /// orphaned uploads' sweep); each node may run it, a row's image is
    /// named to one of them only.
    pub async fn sweep_link_previews(&self) -> CoreResult<usize> {
        let cutoff = now_ms().saturating_sub(self.previews.kept_for_ms());
        let images = self.store.delete_link_previews_before(cutoff).await?;
        let mut removed = 0;
        for image in &images {
            let Ok(id) = Uuid::parse_str(image) else {
                continue;
            };
            match self.files.blob.delete(&blob::preview_key(id)).await {
                Ok(()) => removed += 1,
                Err(error) => {
                    tracing::warn!(%error, "link preview: a stale image could not be deleted");
                }
            }
        }
        if removed > 0 {
            tracing::info!(count = removed, "deleted stale link preview images");
        }
        Ok(removed)
    }

    /// The wire form of a cached row, its image link signed now; `None`
    /// for a page with nothing to preview.
    fn render_preview(&self, row: LinkPreviewRow) -> Option<LinkPreview> {
        if !row.found {
            return None;
        }
        let expires_at = (now_ms() / 1000) as u64 + self.files.settings.link_ttl_secs;
        Some(LinkPreview {
            url: row.url,
            title: row.title,
            description: row.description,
            site_name: row.site_name,
            image: row.image.map(|image| PreviewImage {
                url: links::sign_preview_image(&self.files.secret, &image.id, expires_at),
                width: image.width,
                height: image.height,
            }),
        })
    }

    /// Fetches `url` now and stores what was found (or that nothing was);
    /// `None`, and nothing stored, when no fetch permit came in time.
    async fn fetch_preview(&self, url: Url) -> CoreResult<Option<LinkPreviewRow>> {
        let key = url.as_str().to_owned();
        let deadline =
            Instant::now() + Duration::from_millis(self.previews.settings.fetch_timeout_ms);
        // Held until the image is decoded and stored (the end of this call).
        let Some(_permit) = self.previews.permit(deadline).await else {
            tracing::debug!(url = %key, "link preview: no fetch permit in time");
            return Ok(None);
        };
        let meta = match tokio::time::timeout_at(deadline, self.previews.fetcher.page(url)).await {
            Ok(Ok(page)) => {
                let base = page.url;
                let (bytes, charset) = (page.html, page.charset);
                tokio::task::spawn_blocking(move || {
                    page::parse(&page::decode(&bytes, charset.as_deref()), &base)
                })
                .await
                .map_err(anyhow::Error::from)?
            }
            Ok(Err(error)) => {
                tracing::debug!(url = %key, %error, "link preview: page not fetched");
                page::PageMeta::default()
            }
            Err(_) => {
                tracing::debug!(url = %key, "link preview: page not fetched in time");
                page::PageMeta::default()
            }
        };
        let image = match (&meta.image, meta.is_empty()) {
            (Some(image_url), false) => self.preview_image_of(image_url.clone(), deadline).await,
            _ => None,
        };
        let row = LinkPreviewRow {
            url: key,
            fetched_at: now_ms(),
            found: !meta.is_empty(),
            title: meta.title,
            description: meta.description,
            site_name: meta.site_name,
            image,
        };
        let replaced = self.store.put_link_preview(row.clone()).await?;
        if let Some(old) = replaced.and_then(|id| Uuid::parse_str(&id).ok()) {
            let kept = row
                .image
                .as_ref()
                .is_some_and(|image| image.id == old.to_string());
            if !kept && let Err(error) = self.files.blob.delete(&blob::preview_key(old)).await {
                tracing::warn!(%error, "link preview: an old image could not be deleted");
            }
        }
        Ok(Some(row))
    }

    /// Whether link previews are on (for `GET /api/v1/server`).
    pub fn link_previews_enabled(&self) -> bool {
        self.previews.enabled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fetch_waits_for_a_permit_until_its_deadline_only() {
        let settings = LinkPreviewSettings {
            max_concurrent_fetches: 1,
            ..LinkPreviewSettings::default()
        };
        let previews = Previews::new(&settings, false).unwrap();
        let soon = || Instant::now() + Duration::from_millis(50);
        let held = previews.permit(soon()).await.expect("the one permit");
        assert!(
            previews.permit(soon()).await.is_none(),
            "a second fetch gives up at its deadline"
        );
        drop(held);
        assert!(previews.permit(soon()).await.is_some());
        let none_configured = LinkPreviewSettings {
            max_concurrent_fetches: 0,
            ..settings
        };
        let previews = Previews::new(&none_configured, false).unwrap();
        assert!(previews.permit(soon()).await.is_some(), "0 means 1");
    }

    #[test]
    fn rows_are_kept_for_the_longer_ttl() {
        let settings = LinkPreviewSettings {
            cache_ttl_secs: 60,
            failure_ttl_secs: 600,
            ..LinkPreviewSettings::default()
        };
        assert_eq!(
            Previews::new(&settings, false).unwrap().kept_for_ms(),
            600_000
        );
    }
}
