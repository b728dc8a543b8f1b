//! [`HiddenMessages`]: the `hidden_messages` table ("delete for me"). A
//! hide is one `INSERT ... SELECT` from the message, so the row's chat and
//! `seq` are the message's own; hiding twice hits the primary key and
//! changes nothing. No chat lock is taken: a hide changes no `seq` or
//! `version`, so it need not be ordered with the chat's appends.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{HiddenMessages, StoreError, StoreResult};
use sqlx::Row;

#[async_trait]
impl HiddenMessages for PgStore {
    async fn hide_message(&self, user_id: &str, message_id: &str, now: i64) -> StoreResult<bool> {
        // One statement: whether the message exists, and whether the row
        // is new.
        let row = sqlx::query(
            "WITH target AS (SELECT chat_id, seq, id FROM messages WHERE id = $2), \
             inserted AS (INSERT INTO hidden_messages (user_id, chat_id, seq, message_id, hidden_at) \
                 SELECT $1, chat_id, seq, id, $3 FROM target ON CONFLICT DO NOTHING RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM target) AS found, \
                    EXISTS (SELECT 1 FROM inserted) AS added",
        )
        .bind(user_id)
        .bind(message_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .db()?;
        let found: bool = row.try_get("found").db()?;
        if !found {
            return Err(StoreError::NotFound);
        }
        row.try_get("added").db()
    }

    async fn hidden_among(
        &self,
        user_id: &str,
        message_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT message_id FROM hidden_messages \
             WHERE user_id = $1 AND message_id = ANY($2::text[])",
        )
        .bind(user_id)
        .bind(message_ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|row| row.try_get(0).db()).collect()
    }
}
