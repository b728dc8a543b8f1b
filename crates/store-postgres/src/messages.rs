//! [`Messages`]: appending (through the group-commit `appender`, which
//! takes `seq` from the chat row under its lock and checks the sender's
//! right to post there), single lookups, history pages, the change cursor,
//! edits and tombstones. Reactions are in `reactions`, markers in
//! `markers`; search follows edits and deletes by itself (the `search`
//! column is generated from `content`).
//!
//! A change to a message (edit, deletion, and reactions) takes its chat's
//! next version: it first locks the chat row ([`lock_chat_of`]), as
//! appends do, so versions are taken one at a time, become visible in
//! order, and writers always lock a chat before its messages (no
//! deadlocks).

use crate::PgStore;
use crate::appender::Draft;
use crate::error::{Db, closed};
use crate::rows::{self, message_columns};
use async_trait::async_trait;
use natter_proto::messages::MessageType;
use natter_store::{Appending, Cursor, MessageRow, Messages, NewMessage, StoreError, StoreResult};
use sqlx::{PgConnection, Row};

#[async_trait]
impl Messages for PgStore {
    /// Returns once queued; a new message goes to the commit sink once
    /// committed.
    async fn queue_append(&self, message: NewMessage) -> StoreResult<Appending> {
        let metadata = rows::metadata_to_json(&message.metadata)?;
        let answer = self.appender.append(Draft { message, metadata }).await?;
        Ok(Box::pin(async move { answer.await.map_err(|_| closed())? }))
    }

    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.id = $1"
        ))
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(rows::message).transpose()
    }

    /// Pages walk the `(chat_id, seq)` index from the cursor; one row beyond
    /// `limit` is fetched to learn whether more lie in the paging direction.
    async fn list_messages(
        &self,
        chat_id: &str,
        cursor: Cursor,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)> {
        let (sql, bound, descending) = match cursor {
            Cursor::Latest => (OLDER_THAN, i64::MAX, true),
            Cursor::Before(seq) => (OLDER_THAN, seq, true),
            Cursor::After(seq) => (NEWER_THAN, seq, false),
        };
        let found = sqlx::query(sql)
            .bind(chat_id)
            .bind(bound)
            .bind(message_type.map(MessageType::as_str))
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let mut page = found
            .iter()
            .map(rows::message)
            .collect::<StoreResult<Vec<_>>>()?;
        let has_more = page.len() > limit as usize;
        page.truncate(limit as usize);
        if descending {
            page.reverse();
        }
        Ok((page, has_more))
    }

    /// One range of the `(chat_id, version)` index: a message has one
    /// version, its latest change's, so each comes once.
    async fn changed_messages(
        &self,
        chat_id: &str,
        after_version: i64,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)> {
        let found = sqlx::query(CHANGED_AFTER)
            .bind(chat_id)
            .bind(after_version)
            .bind(message_type.map(MessageType::as_str))
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let mut page = found
            .iter()
            .map(rows::message)
            .collect::<StoreResult<Vec<_>>>()?;
        let has_more = page.len() > limit as usize;
        page.truncate(limit as usize);
        Ok((page, has_more))
    }

    /// `NotFound` if missing or deleted.
    async fn edit_message(
        &self,
        message_id: &str,
        content: &str,
        now: i64,
    ) -> StoreResult<MessageRow> {
        let mut tx = self.pool.begin().await.db()?;
        lock_chat_of(&mut tx, message_id).await?;
        let edited = sqlx::query(EDIT)
            .bind(message_id)
            .bind(content)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        let edited = rows::message(&edited.ok_or(StoreError::NotFound)?)?;
        tx.commit().await.db()?;
        Ok(edited)
    }

    /// Tombstones the message (its `seq` stays taken) and drops its
    /// reactions; each dropped reaction is a change of its own, so the
    /// tombstone's version comes after theirs. `now` is kept as
    /// `deleted_at`. `NotFound` if missing or already deleted.
    async fn delete_message(&self, message_id: &str, now: i64) -> StoreResult<MessageRow> {
        let mut tx = self.pool.begin().await.db()?;
        lock_chat_of(&mut tx, message_id).await?;
        let deleted = sqlx::query(DELETE)
            .bind(message_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        let deleted = rows::message(&deleted.ok_or(StoreError::NotFound)?)?;
        tx.commit().await.db()?;
        Ok(deleted)
    }
}

/// Locks the row of the chat of message `message_id` (in the transaction
/// of `tx`) before a change that takes a version; `NotFound` if there is
/// no such message. Statements after it see every change committed
/// before the lock was granted.
pub(crate) async fn lock_chat_of(tx: &mut PgConnection, message_id: &str) -> StoreResult<String> {
    let locked = sqlx::query(
        "SELECT c.id FROM chats c \
         WHERE c.id = (SELECT chat_id FROM messages WHERE id = $1) FOR UPDATE",
    )
    .bind(message_id)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    locked.ok_or(StoreError::NotFound)?.try_get("id").db()
}

const OLDER_THAN: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = $1 AND m.seq < $2 AND ($3::text IS NULL OR m.type = $3) \
     ORDER BY m.seq DESC LIMIT $4"
);

const NEWER_THAN: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = $1 AND m.seq > $2 AND ($3::text IS NULL OR m.type = $3) \
     ORDER BY m.seq ASC LIMIT $4"
);

const CHANGED_AFTER: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = $1 AND m.version > $2 \
     AND ($3::text IS NULL OR m.type = $3) ORDER BY m.version LIMIT $4"
);

/// Edits live message `$1` to content `$2` at `$3`, with its chat's next
/// version. Run with the chat locked.
const EDIT: &str = concat!(
    "WITH bumped AS (\
         UPDATE chats c SET last_version = c.last_version + 1 \
         FROM messages live WHERE live.id = $1 AND NOT live.deleted AND c.id = live.chat_id \
         RETURNING c.last_version) \
     UPDATE messages m SET content = $2, edited_at = $3, version = bumped.last_version, \
         search = CASE WHEN m.type = 'mls' THEN ''::tsvector \
             ELSE to_tsvector('natter_search'::regconfig, $2) END \
     FROM bumped WHERE m.id = $1 RETURNING ",
    message_columns!()
);

/// Tombstones live message `$1` at `$2`: its reactions go (a version
/// each), then the message takes the version after them. Run with the
/// chat locked.
const DELETE: &str = concat!(
    "WITH live AS (SELECT id, chat_id FROM messages WHERE id = $1 AND NOT deleted), \
     gone AS (DELETE FROM reactions r USING live WHERE r.message_id = live.id RETURNING 1), \
     bumped AS (\
         UPDATE chats c SET last_version = c.last_version + 1 + (SELECT count(*) FROM gone) \
         FROM live WHERE c.id = live.chat_id RETURNING c.last_version) \
     UPDATE messages m SET content = '', file_id = NULL, deleted = true, deleted_at = $2, \
         version = bumped.last_version, search = ''::tsvector \
     FROM bumped WHERE m.id = $1 RETURNING ",
    message_columns!()
);
