//! [`MlsGroups`]: the `mls_group_infos`, `mls_welcomes` (one row per
//! device) and `mls_welcome_bodies` (the bytes, once per Commit) tables. A
//! chat's epoch is not here: it is in its row and moves with the append
//! of a Commit (the appender, with the chat row locked). A Welcome is
//! stored before its Commit and read only once the Commit's message
//! exists; only for a session that is live at that moment (a session
//! that ends later loses its Welcomes through the schema's trigger).

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{MlsGroups, NewWelcome, StoreResult, WelcomeRow};
use sqlx::Row;

#[async_trait]
impl MlsGroups for PgStore {
    async fn put_group_info(
        &self,
        chat_id: &str,
        epoch: i64,
        group_info: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mls_group_infos (chat_id, epoch, group_info, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id) DO UPDATE SET epoch = excluded.epoch, \
                 group_info = excluded.group_info, updated_at = excluded.updated_at \
             WHERE excluded.epoch >= mls_group_infos.epoch",
        )
        .bind(chat_id)
        .bind(epoch)
        .bind(group_info)
        .bind(now)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn group_info(&self, chat_id: &str) -> StoreResult<Option<(i64, String)>> {
        let found = sqlx::query("SELECT epoch, group_info FROM mls_group_infos WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        found
            .map(|row| Ok((row.try_get(0).db()?, row.try_get(1).db()?)))
            .transpose()
    }

    /// One statement for all of them.
    async fn add_welcomes(&self, welcomes: &[NewWelcome]) -> StoreResult<()> {
        if welcomes.is_empty() {
            return Ok(());
        }
        let column =
            |field: fn(&NewWelcome) -> &str| -> Vec<&str> { welcomes.iter().map(field).collect() };
        sqlx::query(
            "WITH input AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                 $5::int8[], $6::text[], $7::int8[], $8::text[]) \
                 AS w(id, chat_id, user_id, session_id, epoch, welcome, created_at, message_id)), \
             rows AS (INSERT INTO mls_welcomes \
                 (id, chat_id, message_id, user_id, session_id, epoch, created_at) \
             SELECT w.id, w.chat_id, w.message_id, w.user_id, w.session_id, w.epoch, w.created_at \
             FROM input w \
             JOIN sessions s ON s.id = w.session_id AND s.user_id = w.user_id AND NOT s.revoked \
             RETURNING message_id) \
             INSERT INTO mls_welcome_bodies (message_id, welcome) \
             SELECT DISTINCT ON (i.message_id) i.message_id, i.welcome FROM input i \
             WHERE i.message_id IN (SELECT message_id FROM rows) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(column(|w| &w.id))
        .bind(column(|w| &w.chat_id))
        .bind(column(|w| &w.user_id))
        .bind(column(|w| &w.session_id))
        .bind(welcomes.iter().map(|w| w.epoch).collect::<Vec<_>>())
        .bind(column(|w| &w.welcome))
        .bind(welcomes.iter().map(|w| w.created_at).collect::<Vec<_>>())
        .bind(column(|w| &w.message_id))
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn discard_welcomes(&self, message_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM mls_welcomes WHERE message_id = $1")
            .bind(message_id)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn welcomes_for(&self, session_id: &str) -> StoreResult<Vec<WelcomeRow>> {
        let rows = sqlx::query(
            "SELECT w.id, w.chat_id, w.epoch, b.welcome, w.created_at FROM mls_welcomes w \
             JOIN mls_welcome_bodies b ON b.message_id = w.message_id \
             WHERE w.session_id = $1 AND EXISTS (SELECT 1 FROM messages m WHERE m.id = w.message_id) \
             AND EXISTS (SELECT 1 FROM members mb WHERE mb.chat_id = w.chat_id AND mb.user_id = w.user_id) \
             ORDER BY w.created_at, w.id",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(WelcomeRow {
                    id: row.try_get("id").db()?,
                    chat_id: row.try_get("chat_id").db()?,
                    epoch: row.try_get("epoch").db()?,
                    welcome: row.try_get("welcome").db()?,
                    created_at: row.try_get("created_at").db()?,
                })
            })
            .collect()
    }

    async fn delete_welcome(&self, session_id: &str, welcome_id: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM mls_welcomes WHERE id = $1 AND session_id = $2")
            .bind(welcome_id)
            .bind(session_id)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(deleted.rows_affected() > 0)
    }
}
