//! Files: metadata rows of uploads, who may read them (owner, members of
//! a chat with a live message referring to them, anyone for an avatar),
//! storage used per owner, and uploads nothing refers to.

use super::SqliteStore;
use crate::store::{FileRow, StoreResult};
use rusqlite::params;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str =
    "id, owner_id, name, mime, size, sha256, width, height, thumbnail_mime, created_at";

fn file(row: &SqliteRow) -> StoreResult<FileRow> {
    let dimension = |name: &str| -> StoreResult<Option<u32>> {
        Ok(row
            .try_get::<Option<i64>, _>(name)?
            .and_then(|value| u32::try_from(value).ok()))
    };
    Ok(FileRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        mime: row.try_get("mime")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        width: dimension("width")?,
        height: dimension("height")?,
        thumbnail_mime: row.try_get("thumbnail_mime")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn create_file(db: &SqliteStore, row: FileRow) -> StoreResult<()> {
    db.writer
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

pub(super) async fn file_by_id(db: &SqliteStore, id: &str) -> StoreResult<Option<FileRow>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM files WHERE id = ?1"));
    let found = sqlx::query(sql)
        .bind(id)
        .fetch_optional(&db.readers)
        .await?;
    found.as_ref().map(file).transpose()
}

pub(super) async fn files_by_ids(db: &SqliteStore, ids: &[String]) -> StoreResult<Vec<FileRow>> {
    // One query for a page of messages: ids travel as a JSON array.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM files WHERE id IN (SELECT value FROM json_each(?1))"
    ));
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let rows = sqlx::query(sql).bind(ids).fetch_all(&db.readers).await?;
    rows.iter().map(file).collect()
}

pub(super) async fn file_visible_to(
    db: &SqliteStore,
    file_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let visible: bool = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM messages m JOIN members mb ON mb.chat_id = m.chat_id \
                        WHERE m.file_id = ?1 AND mb.user_id = ?2) \
             OR EXISTS (SELECT 1 FROM users WHERE avatar_file_id = ?1)",
    )
    .bind(file_id)
    .bind(user_id)
    .fetch_one(&db.readers)
    .await?
    .try_get(0)?;
    Ok(visible)
}

pub(super) async fn storage_used(db: &SqliteStore, owner_id: &str) -> StoreResult<i64> {
    let used: i64 = sqlx::query("SELECT COALESCE(SUM(size), 0) FROM files WHERE owner_id = ?1")
        .bind(owner_id)
        .fetch_one(&db.readers)
        .await?
        .try_get(0)?;
    Ok(used)
}

pub(super) async fn orphan_files(
    db: &SqliteStore,
    created_before: i64,
    limit: u32,
) -> StoreResult<Vec<FileRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM files f WHERE f.created_at < ?1 \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id) \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = f.id) \
         ORDER BY f.created_at LIMIT ?2"
    ));
    let rows = sqlx::query(sql)
        .bind(created_before)
        .bind(i64::from(limit))
        .fetch_all(&db.readers)
        .await?;
    rows.iter().map(file).collect()
}

pub(super) async fn delete_file(db: &SqliteStore, id: &str) -> StoreResult<bool> {
    let id = id.to_owned();
    db.writer
        .write_statement(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM files WHERE id = ?1 \
                     AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = ?1) \
                     AND NOT EXISTS (SELECT 1 FROM users WHERE avatar_file_id = ?1)",
                )?
                .execute(params![id])?;
            Ok(deleted > 0)
        })
        .await
}
