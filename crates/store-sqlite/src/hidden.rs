//! [`HiddenMessages`]: the `hidden_messages` table ("delete for me"). A
//! hide is one `INSERT ... SELECT` from the message, so the row's chat and
//! `seq` are the message's own; hiding twice hits the primary key and
//! changes nothing.

use crate::SqliteStore;
use crate::error::{Db, corrupt};
use async_trait::async_trait;
use natter_store::{HiddenMessages, StoreError, StoreResult};
use rusqlite::params;
use sqlx::Row;

#[async_trait]
impl HiddenMessages for SqliteStore {
    async fn hide_message(&self, user_id: &str, message_id: &str, now: i64) -> StoreResult<bool> {
        let (user_id, message_id) = (user_id.to_owned(), message_id.to_owned());
        self.writer
            .write_statement(move |conn| {
                let exists = conn
                    .prepare_cached("SELECT 1 FROM messages WHERE id = ?1")?
                    .exists(params![message_id])?;
                if !exists {
                    return Err(StoreError::NotFound.into());
                }
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO hidden_messages (user_id, chat_id, seq, message_id, hidden_at) \
                         SELECT ?1, chat_id, seq, id, ?3 FROM messages WHERE id = ?2 \
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![user_id, message_id, now])?;
                Ok(inserted > 0)
            })
            .await
    }

    async fn hidden_among(
        &self,
        user_id: &str,
        message_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids travel as one JSON array: one statement for any page.
        let ids = serde_json::to_string(message_ids)
            .map_err(|err| corrupt(format!("message ids: {err}")))?;
        let rows = sqlx::query(
            "SELECT message_id FROM hidden_messages \
             WHERE user_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(user_id)
        .bind(ids)
        .fetch_all(&self.readers)
        .await
        .db()?;
        rows.iter().map(|row| row.try_get(0).db()).collect()
    }
}
