//! [`Reactions`]: one row per (message, user, emoji). Adding twice or
//! removing what is not there changes nothing and is no error, so retries
//! are harmless. A change gives the message its chat's next version,
//! taken with the chat row locked first (see `messages`). Tombstones lose
//! their reactions (see `messages`).

use crate::PgStore;
use crate::error::Db;
use crate::messages::lock_chat_of;
use async_trait::async_trait;
use natter_store::{ReactionRow, Reactions, StoreError, StoreResult};
use sqlx::Row;

#[async_trait]
impl Reactions for PgStore {
    /// `NotFound` if the message does not exist or is deleted.
    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.pool.begin().await.db()?;
        lock_chat_of(&mut tx, message_id).await?;
        let outcome = sqlx::query(ADD)
            .bind(message_id)
            .bind(user_id)
            .bind(emoji)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        if !outcome.try_get::<bool, _>("live").db()? {
            return Err(StoreError::NotFound);
        }
        let version = outcome.try_get("version").db()?;
        tx.commit().await.db()?;
        Ok(version)
    }

    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.pool.begin().await.db()?;
        match lock_chat_of(&mut tx, message_id).await {
            Err(StoreError::NotFound) => return Ok(None),
            locked => locked?,
        };
        let version = sqlx::query(REMOVE)
            .bind(message_id)
            .bind(user_id)
            .bind(emoji)
            .fetch_one(&mut *tx)
            .await
            .db()?
            .try_get("version")
            .db()?;
        tx.commit().await.db()?;
        Ok(version)
    }

    /// Oldest first (ties in insertion order); one query for a page of
    /// messages.
    async fn reactions(&self, message_ids: &[String]) -> StoreResult<Vec<ReactionRow>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = sqlx::query(
            "SELECT message_id, emoji, user_id, created_at FROM reactions \
             WHERE message_id = ANY($1) ORDER BY created_at, added",
        )
        .bind(message_ids)
        .fetch_all(&self.pool)
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

/// Adds reaction (`$1` message, `$2` user, `$3` emoji) at `$4` to a live
/// message; if it is new, the message takes its chat's next version.
/// Answers whether the message is live and its new version (NULL if
/// nothing changed). Run with the chat locked.
const ADD: &str = "
    WITH live AS (SELECT id, chat_id FROM messages WHERE id = $1 AND NOT deleted),
    added AS (
        INSERT INTO reactions (message_id, user_id, emoji, created_at)
        SELECT id, $2, $3, $4 FROM live
        ON CONFLICT DO NOTHING RETURNING message_id),
    bumped AS (
        UPDATE chats c SET last_version = c.last_version + 1
        FROM live WHERE c.id = live.chat_id AND EXISTS (SELECT 1 FROM added)
        RETURNING c.last_version),
    versioned AS (
        UPDATE messages m SET version = bumped.last_version
        FROM bumped WHERE m.id = $1 RETURNING m.version)
    SELECT EXISTS (SELECT 1 FROM live) AS live, (SELECT version FROM versioned) AS version";

/// Removes reaction (`$1` message, `$2` user, `$3` emoji); if there was
/// one, the message takes its chat's next version (NULL otherwise). Run
/// with the chat locked.
const REMOVE: &str = "
    WITH removed AS (
        DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3
        RETURNING message_id),
    bumped AS (
        UPDATE chats c SET last_version = c.last_version + 1
        FROM messages target
        WHERE target.id = $1 AND c.id = target.chat_id AND EXISTS (SELECT 1 FROM removed)
        RETURNING c.last_version),
    versioned AS (
        UPDATE messages m SET version = bumped.last_version
        FROM bumped WHERE m.id = $1 RETURNING m.version)
    SELECT (SELECT version FROM versioned) AS version";
