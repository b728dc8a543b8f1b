//! [`LinkPreviews`]: the link preview cache, one row per normalized URL,
//! shared by every node. A put takes a transaction-scoped advisory lock
//! on the URL's hash before it reads the image it replaces, so puts of
//! one URL from any nodes run one after the other and each replaced
//! image is reported once. (`SELECT ... FOR UPDATE` alone locks nothing
//! while no row exists: two first puts would both insert, and the first
//! one's image would never be reported as replaced.)

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{LinkPreviewRow, LinkPreviews, PreviewImageRow, StoreResult};
use sqlx::Row;

/// The first key of the advisory locks taken here (the second is the
/// URL's hash); two-key locks never collide with one-key ones such as
/// sqlx's migration lock. "LP" in ASCII.
const LOCK_CLASS: i32 = 0x4c50;

#[async_trait]
impl LinkPreviews for PgStore {
    async fn link_preview(&self, url: &str) -> StoreResult<Option<LinkPreviewRow>> {
        let found = sqlx::query(
            "SELECT url, fetched_at, found, title, description, site_name, image_id, \
             image_width, image_height FROM link_previews WHERE url = $1",
        )
        .bind(url)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(row) = found else {
            return Ok(None);
        };
        let image_id: Option<String> = row.try_get("image_id").db()?;
        let side = |name: &str| -> StoreResult<u32> {
            Ok(row
                .try_get::<Option<i32>, _>(name)
                .db()?
                .and_then(|value| u32::try_from(value).ok())
                .unwrap_or(0))
        };
        let image = match image_id {
            Some(id) => Some(PreviewImageRow {
                id,
                width: side("image_width")?,
                height: side("image_height")?,
            }),
            None => None,
        };
        Ok(Some(LinkPreviewRow {
            url: row.try_get("url").db()?,
            fetched_at: row.try_get("fetched_at").db()?,
            found: row.try_get("found").db()?,
            title: row.try_get("title").db()?,
            description: row.try_get("description").db()?,
            site_name: row.try_get("site_name").db()?,
            image,
        }))
    }

    async fn put_link_preview(&self, row: LinkPreviewRow) -> StoreResult<Option<String>> {
        let mut tx = self.pool.begin().await.db()?;
        // Released at commit or rollback. A hash collision only makes two
        // URLs' puts wait for each other.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(&row.url)
            .execute(&mut *tx)
            .await
            .db()?;
        let replaced: Option<String> =
            sqlx::query("SELECT image_id FROM link_previews WHERE url = $1")
                .bind(&row.url)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .map(|found| found.try_get("image_id"))
                .transpose()
                .db()?
                .flatten();
        let image = row.image.as_ref();
        let side = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        sqlx::query(
            "INSERT INTO link_previews (url, fetched_at, found, title, description, site_name, \
             image_id, image_width, image_height) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at, \
             found = excluded.found, title = excluded.title, \
             description = excluded.description, site_name = excluded.site_name, \
             image_id = excluded.image_id, image_width = excluded.image_width, \
             image_height = excluded.image_height",
        )
        .bind(&row.url)
        .bind(row.fetched_at)
        .bind(row.found)
        .bind(&row.title)
        .bind(&row.description)
        .bind(&row.site_name)
        .bind(image.map(|image| image.id.clone()))
        .bind(image.map(|image| side(image.width)))
        .bind(image.map(|image| side(image.height)))
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(replaced)
    }

    async fn delete_link_previews_before(&self, cutoff: i64) -> StoreResult<Vec<String>> {
        // Deleted rows are gone for a put that runs after: it reports no
        // replaced image, so each id comes back from one of the two only.
        let images: Vec<Option<String>> = sqlx::query_scalar(
            "DELETE FROM link_previews WHERE fetched_at < $1 RETURNING image_id",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(images.into_iter().flatten().collect())
    }
}
