//! [`Files`]: metadata rows of uploads, who may read them (owner, members
//! of a chat with a live message referring to them, anyone for a
//! user's avatar, members for a chat's avatar), storage used per owner,
//! and uploads nothing refers to.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{FileRow, Files, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The columns [`file`] reads, from `files` aliased `f`.
macro_rules! file_columns {
    () => {
        "f.id, f.owner_id, f.name, f.mime, f.size, f.sha256, f.width, f.height, \
         f.thumbnail_mime, f.created_at"
    };
}

fn file(row: &PgRow) -> StoreResult<FileRow> {
    let dimension = |name: &str| -> StoreResult<Option<u32>> {
        Ok(row
            .try_get::<Option<i64>, _>(name)
            .db()?
            .and_then(|value| u32::try_from(value).ok()))
    };
    Ok(FileRow {
        id: row.try_get("id").db()?,
        owner_id: row.try_get("owner_id").db()?,
        name: row.try_get("name").db()?,
        mime: row.try_get("mime").db()?,
        size: row.try_get("size").db()?,
        sha256: row.try_get("sha256").db()?,
        width: dimension("width")?,
        height: dimension("height")?,
        thumbnail_mime: row.try_get("thumbnail_mime").db()?,
        created_at: row.try_get("created_at").db()?,
    })
}

#[async_trait]
impl Files for PgStore {
    async fn create_file(&self, row: FileRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO files (id, owner_id, name, mime, size, sha256, width, height, \
             thumbnail_mime, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&row.id)
        .bind(&row.owner_id)
        .bind(&row.name)
        .bind(&row.mime)
        .bind(row.size)
        .bind(&row.sha256)
        .bind(row.width.map(i64::from))
        .bind(row.height.map(i64::from))
        .bind(&row.thumbnail_mime)
        .bind(row.created_at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn file(&self, id: &str) -> StoreResult<Option<FileRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(file).transpose()
    }

    /// One query for a page of messages.
    async fn files(&self, ids: &[String]) -> StoreResult<Vec<FileRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f WHERE f.id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(file).collect()
    }

    async fn file_visible_to(&self, file_id: &str, user_id: &str) -> StoreResult<bool> {
        sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM messages m JOIN members mb ON mb.chat_id = m.chat_id \
                            WHERE m.file_id = $1 AND mb.user_id = $2) \
                 OR EXISTS (SELECT 1 FROM users WHERE avatar_file_id = $1) \
             OR EXISTS (SELECT 1 FROM chats c JOIN members cm ON cm.chat_id = c.id \
                        WHERE c.avatar_file_id = $1 AND cm.user_id = $2)",
        )
        .bind(file_id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await
        .db()?
        .try_get(0)
        .db()
    }

    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64> {
        sqlx::query("SELECT COALESCE(SUM(size), 0)::bigint FROM files WHERE owner_id = $1")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await
            .db()?
            .try_get(0)
            .db()
    }

    async fn orphan_files(&self, created_before: i64, limit: u32) -> StoreResult<Vec<FileRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files f WHERE f.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id) \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = f.id) \
         AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.avatar_file_id = f.id) \
             ORDER BY f.created_at LIMIT $2"
        ))
        .bind(created_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(file).collect()
    }

    async fn delete_file(&self, id: &str) -> StoreResult<bool> {
        let deleted = sqlx::query(
            "DELETE FROM files WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM users WHERE avatar_file_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM chats WHERE avatar_file_id = $1)",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(deleted.rows_affected() > 0)
    }
}
