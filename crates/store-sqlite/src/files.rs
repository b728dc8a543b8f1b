//! Files: metadata rows of uploads, who may read them (owner, members of
//! a chat with a live message referring to them, anyone for a user's
//! avatar, members for a chat's avatar), storage used per owner, and
//! uploads nothing refers to.

use crate::SqliteStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{FileRow, Files, StoreResult};
use rusqlite::params;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str =
    "id, owner_id, name, mime, size, sha256, width, height, thumbnail_mime, created_at";

fn file(row: &SqliteRow) -> StoreResult<FileRow> {
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
impl Files for SqliteStore {
    async fn create_file(&self, row: FileRow) -> StoreResult<()> {
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO files (id, owner_id, name, mime, size, sha256, width, height, \
                 thumbnail_mime, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    row.id,
                    row.owner_id,
                    row.name,
                    row.mime,
                    row.size,
                    row.sha256,
                    row.width,
                    row.height,
                    row.thumbnail_mime,
                    row.created_at
                ])?;
                Ok(())
            })
            .await
    }

    async fn file(&self, id: &str) -> StoreResult<Option<FileRow>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM files WHERE id = ?1"));
        let found = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.readers)
            .await
            .db()?;
        found.as_ref().map(file).transpose()
    }

    async fn files(&self, ids: &[String]) -> StoreResult<Vec<FileRow>> {
        // One query for a page of messages: ids travel as a JSON array.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE id IN (SELECT value FROM json_each(?1))"
        ));
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let rows = sqlx::query(sql)
            .bind(ids)
            .fetch_all(&self.readers)
            .await
            .db()?;
        rows.iter().map(file).collect()
    }

    async fn file_visible_to(&self, file_id: &str, user_id: &str) -> StoreResult<bool> {
        let visible: bool = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM messages m JOIN members mb ON mb.chat_id = m.chat_id \
                        WHERE m.file_id = ?1 AND mb.user_id = ?2) \
             OR EXISTS (SELECT 1 FROM users WHERE avatar_file_id = ?1) \
             OR EXISTS (SELECT 1 FROM chats c JOIN members cm ON cm.chat_id = c.id \
                        WHERE c.avatar_file_id = ?1 AND cm.user_id = ?2)",
        )
        .bind(file_id)
        .bind(user_id)
        .fetch_one(&self.readers)
        .await
        .db()?
        .try_get(0)
        .db()?;
        Ok(visible)
    }

    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64> {
        let used: i64 = sqlx::query("SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ?1")
            .bind(owner_id)
            .fetch_one(&self.readers)
            .await
            .db()?
            .try_get(0)
            .db()?;
        Ok(used)
    }

    async fn orphan_files(&self, created_before: i64, limit: u32) -> StoreResult<Vec<FileRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files f WHERE f.created_at < ?1 \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id) \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = f.id) \
         AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.avatar_file_id = f.id) \
         ORDER BY f.created_at LIMIT ?2"
        ));
        let rows = sqlx::query(sql)
            .bind(created_before)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await
            .db()?;
        rows.iter().map(file).collect()
    }

    async fn delete_file(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.writer
            .write_statement(move |conn| {
                let deleted = conn
                    .prepare_cached(
                        "DELETE FROM files WHERE id = ?1 \
                     AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = ?1) \
                     AND NOT EXISTS (SELECT 1 FROM users WHERE avatar_file_id = ?1) \
                     AND NOT EXISTS (SELECT 1 FROM chats WHERE avatar_file_id = ?1)",
                    )?
                    .execute(params![id])?;
                Ok(deleted > 0)
            })
            .await
    }
}
