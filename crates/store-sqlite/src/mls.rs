//! [`MlsGroups`]: the `mls_group_infos`, `mls_welcomes` (one row per
//! device) and `mls_welcome_bodies` (the bytes, once per Commit) tables. A
//! chat's epoch is not here: it is in its row and moves with the append
//! of a Commit (`messages`). A Welcome is stored before its Commit and
//! read only once the Commit's message exists; only for a session that
//! is live at that moment (a session that ends later loses its Welcomes
//! through the schema's trigger).

use crate::SqliteStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{MlsGroups, NewWelcome, StoreResult, WelcomeRow};
use rusqlite::params;
use sqlx::Row;

#[async_trait]
impl MlsGroups for SqliteStore {
    async fn put_group_info(
        &self,
        chat_id: &str,
        epoch: i64,
        group_info: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (chat_id, group_info) = (chat_id.to_owned(), group_info.to_owned());
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO mls_group_infos (chat_id, epoch, group_info, updated_at) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (chat_id) DO UPDATE SET epoch = excluded.epoch, \
                         group_info = excluded.group_info, updated_at = excluded.updated_at \
                     WHERE excluded.epoch >= mls_group_infos.epoch",
                )?
                .execute(params![chat_id, epoch, group_info, now])?;
                Ok(())
            })
            .await
    }

    async fn group_info(&self, chat_id: &str) -> StoreResult<Option<(i64, String)>> {
        let found = sqlx::query("SELECT epoch, group_info FROM mls_group_infos WHERE chat_id = ?1")
            .bind(chat_id)
            .fetch_optional(&self.readers)
            .await
            .db()?;
        found
            .map(|row| Ok((row.try_get(0).db()?, row.try_get(1).db()?)))
            .transpose()
    }

    async fn add_welcomes(&self, welcomes: &[NewWelcome]) -> StoreResult<()> {
        if welcomes.is_empty() {
            return Ok(());
        }
        let welcomes = welcomes.to_vec();
        self.writer
            .write(move |conn| {
                let mut insert = conn.prepare_cached(
                    "INSERT INTO mls_welcomes \
                         (id, chat_id, message_id, user_id, session_id, epoch, created_at) \
                     SELECT ?1, ?2, ?7, ?3, ?4, ?5, ?6 WHERE EXISTS \
                         (SELECT 1 FROM sessions WHERE id = ?4 AND user_id = ?3 AND revoked = 0)",
                )?;
                // The bytes once per Commit, if any device row points at them.
                let mut body = conn.prepare_cached(
                    "INSERT INTO mls_welcome_bodies (message_id, welcome) SELECT ?1, ?2 \
                     WHERE EXISTS (SELECT 1 FROM mls_welcomes WHERE message_id = ?1) \
                     ON CONFLICT (message_id) DO NOTHING",
                )?;
                for w in &welcomes {
                    insert.execute(params![
                        w.id,
                        w.chat_id,
                        w.user_id,
                        w.session_id,
                        w.epoch,
                        w.created_at,
                        w.message_id
                    ])?;
                }
                for w in &welcomes {
                    body.execute(params![w.message_id, w.welcome])?;
                }
                Ok(())
            })
            .await
    }

    async fn discard_welcomes(&self, message_id: &str) -> StoreResult<()> {
        let message_id = message_id.to_owned();
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached("DELETE FROM mls_welcomes WHERE message_id = ?1")?
                    .execute(params![message_id])?;
                Ok(())
            })
            .await
    }

    async fn welcomes_for(&self, session_id: &str) -> StoreResult<Vec<WelcomeRow>> {
        let rows = sqlx::query(
            "SELECT w.id, w.chat_id, w.epoch, b.welcome, w.created_at FROM mls_welcomes w \
             JOIN mls_welcome_bodies b ON b.message_id = w.message_id \
             WHERE w.session_id = ?1 AND EXISTS (SELECT 1 FROM messages m WHERE m.id = w.message_id) \
             AND EXISTS (SELECT 1 FROM members mb WHERE mb.chat_id = w.chat_id AND mb.user_id = w.user_id) \
             ORDER BY w.created_at, w.id",
        )
        .bind(session_id)
        .fetch_all(&self.readers)
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
        let (session_id, welcome_id) = (session_id.to_owned(), welcome_id.to_owned());
        self.writer
            .write_statement(move |conn| {
                let deleted = conn
                    .prepare_cached("DELETE FROM mls_welcomes WHERE id = ?1 AND session_id = ?2")?
                    .execute(params![welcome_id, session_id])?;
                Ok(deleted > 0)
            })
            .await
    }
}
