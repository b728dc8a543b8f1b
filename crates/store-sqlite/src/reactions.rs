//! Reactions: one row per (message, user, emoji). Adding twice or removing
//! what is not there changes nothing and is no error, so retries are
//! harmless. A change gives the message its chat's next version (the
//! schema's `reactions_added` / `reactions_removed` triggers, so the
//! change stays one statement). Tombstones lose their reactions (see
//! `messages`).

use crate::SqliteStore;
use crate::error::{Db, corrupt};
use async_trait::async_trait;
use natter_store::{ReactionRow, Reactions, StoreError, StoreResult};
use rusqlite::params;
use sqlx::Row;

#[async_trait]
impl Reactions for SqliteStore {
    /// `NotFound` if the message does not exist or is deleted.
    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let (message_id, user_id, emoji) =
            (message_id.to_owned(), user_id.to_owned(), emoji.to_owned());
        self.writer
            .write_statement(move |conn| {
                let live = conn
                    .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND deleted = 0")?
                    .exists(params![message_id])?;
                if !live {
                    return Err(StoreError::NotFound.into());
                }
                let added = conn
                    .prepare_cached(
                        "INSERT INTO reactions (message_id, user_id, emoji, created_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![message_id, user_id, emoji, now])?;
                version_if(conn, added > 0, &message_id)
            })
            .await
    }

    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
    ) -> StoreResult<Option<i64>> {
        let (message_id, user_id, emoji) =
            (message_id.to_owned(), user_id.to_owned(), emoji.to_owned());
        self.writer
            .write_statement(move |conn| {
                let removed = conn
                .prepare_cached(
                    "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
                )?
                .execute(params![message_id, user_id, emoji])?;
                version_if(conn, removed > 0, &message_id)
            })
            .await
    }

    /// Oldest first (ties in insertion order). The ids travel as one JSON
    /// array, so a page of messages costs one query and one statement text.
    async fn reactions(&self, message_ids: &[String]) -> StoreResult<Vec<ReactionRow>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(message_ids)
            .map_err(|err| corrupt(format!("message ids: {err}")))?;
        let found = sqlx::query(
            "SELECT message_id, emoji, user_id, created_at FROM reactions \
         WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY created_at, rowid",
        )
        .bind(ids)
        .fetch_all(&self.readers)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                Ok(ReactionRow {
                    message_id: row.try_get("message_id").db()?,
                    emoji: row.try_get("emoji").db()?,
                    user_id: row.try_get("user_id").db()?,
                    created_at: row.try_get("created_at").db()?,
                })
            })
            .collect()
    }
}

/// The message's version after a change that `changed` it, else `None`.
fn version_if(
    conn: &rusqlite::Connection,
    changed: bool,
    message_id: &str,
) -> crate::error::Result<Option<i64>> {
    if !changed {
        return Ok(None);
    }
    let version = conn
        .prepare_cached("SELECT changed_version FROM messages WHERE id = ?1")?
        .query_row(params![message_id], |row| row.get(0))?;
    Ok(Some(version))
}
