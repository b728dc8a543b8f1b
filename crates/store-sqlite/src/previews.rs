//! [`LinkPreviews`]: the link preview cache, one row per normalized URL.
//! A put reads the image of the row it replaces and upserts in one write
//! job (the single writer runs jobs one at a time), so two puts of one
//! URL cannot both report the same old image, nor miss one; the sweep of
//! stale rows is one `DELETE ... RETURNING`.

use crate::SqliteStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{LinkPreviewRow, LinkPreviews, PreviewImageRow, StoreResult};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

#[async_trait]
impl LinkPreviews for SqliteStore {
    async fn link_preview(&self, url: &str) -> StoreResult<Option<LinkPreviewRow>> {
        let found = sqlx::query(
            "SELECT url, fetched_at, found, title, description, site_name, image_id, \
             image_width, image_height FROM link_previews WHERE url = ?1",
        )
        .bind(url)
        .fetch_optional(&self.readers)
        .await
        .db()?;
        let Some(row) = found else {
            return Ok(None);
        };
        let image_id: Option<String> = row.try_get("image_id").db()?;
        let side = |name: &str| -> StoreResult<u32> {
            Ok(row
                .try_get::<Option<i64>, _>(name)
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
            found: row.try_get::<i64, _>("found").db()? != 0,
            title: row.try_get("title").db()?,
            description: row.try_get("description").db()?,
            site_name: row.try_get("site_name").db()?,
            image,
        }))
    }

    async fn put_link_preview(&self, row: LinkPreviewRow) -> StoreResult<Option<String>> {
        self.writer
            .write_statement(move |conn| {
                let replaced: Option<String> = conn
                    .prepare_cached("SELECT image_id FROM link_previews WHERE url = ?1")?
                    .query_row(params![row.url], |found| found.get(0))
                    .optional()?
                    .flatten();
                let image = row.image.as_ref();
                conn.prepare_cached(
                    "INSERT INTO link_previews (url, fetched_at, found, title, description, \
                     site_name, image_id, image_width, image_height) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at, \
                     found = excluded.found, title = excluded.title, \
                     description = excluded.description, site_name = excluded.site_name, \
                     image_id = excluded.image_id, image_width = excluded.image_width, \
                     image_height = excluded.image_height",
                )?
                .execute(params![
                    row.url,
                    row.fetched_at,
                    row.found,
                    row.title,
                    row.description,
                    row.site_name,
                    image.map(|image| image.id.clone()),
                    image.map(|image| image.width),
                    image.map(|image| image.height),
                ])?;
                Ok(replaced)
            })
            .await
    }

    async fn delete_link_previews_before(&self, cutoff: i64) -> StoreResult<Vec<String>> {
        self.writer
            .write_statement(move |conn| {
                let mut statement = conn.prepare_cached(
                    "DELETE FROM link_previews WHERE fetched_at < ?1 RETURNING image_id",
                )?;
                let mut images = Vec::new();
                for image in
                    statement.query_map(params![cutoff], |row| row.get::<_, Option<String>>(0))?
                {
                    images.extend(image?);
                }
                Ok(images)
            })
            .await
    }
}
