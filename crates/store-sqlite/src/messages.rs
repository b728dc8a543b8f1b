//! Messages: appending with per-chat `seq` and idempotent retries, single
//! lookups, history pages, edits and tombstones. Reactions are in
//! `reactions`, markers in `markers`; the full-text index follows edits
//! and deletes through the schema's triggers.
//!
//! `seq` comes from `chats.last_seq`, advanced by the very statement that
//! inserts the message (see [`APPEND`]), which is also where the sender's
//! right to post is checked: it is assigned only when the message is
//! stored, has no gaps (a failed insert advances nothing), and survives
//! restarts because it lives in the chat row.
//!
//! A message that owes pushes (`NewMessage::owes_push`) gets its push job
//! from the same write job, so from the same transaction (see
//! `queue_push`); a retry that finds the original queues nothing.

use crate::error::Db;
use crate::rows::{self, message_columns, message_returning};
use crate::writer::{Isolation, OnCommit};
use crate::{SqliteStore, changes, push};
use async_trait::async_trait;
use natter_proto::messages::MessageType;
use natter_store::{
    Appended, Appending, Cursor, MessageRow, Messages, NewMessage, StoreError, StoreResult,
    fits_encryption,
};
use rusqlite::{Connection, OptionalExtension, params};

/// The version a change to a message takes (its `changed_version`): its
/// chat's next one. For an `UPDATE messages`; the schema's
/// `messages_versioned` trigger then makes it the chat's `last_version`.
macro_rules! next_version {
    () => {
        "(SELECT c.last_version + 1 FROM chats c WHERE c.id = messages.chat_id)"
    };
}

#[async_trait]
impl Messages for SqliteStore {
    /// A single-statement job (see `writer`) whose statement also checks
    /// that the sender may post; only when it inserts nothing does the job
    /// look further (why not: membership, then a retry). Returns once
    /// queued; a new message goes to the commit sink once durable.
    async fn queue_append(&self, new: NewMessage) -> StoreResult<Appending> {
        let metadata = rows::metadata_to_json(&new.metadata)?;
        let sink = self.commits.clone();
        let on_commit: OnCommit<Appended> = Box::new(move |appended| {
            if let Appended::New(row) = appended {
                sink.committed(row.clone());
            }
        });
        // A Commit's epoch moves with a second statement: such a job needs
        // its own savepoint (see `writer`).
        let isolation = match new.mls_epoch {
            Some(_) => Isolation::Savepoint,
            None => Isolation::Statement,
        };
        let answer = self
            .writer
            .enqueue(
                isolation,
                move |conn| {
                    let inserted: Option<(i64, i64)> = conn
                        .prepare_cached(APPEND)?
                        .query_row(
                            params![
                                new.id,
                                new.chat_id,
                                new.sender_id,
                                new.message_type.as_str(),
                                new.content,
                                new.file_id,
                                metadata,
                                new.client_msg_id,
                                new.created_at,
                                new.mls_epoch
                            ],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()?;
                    match inserted {
                        Some((seq, version)) => {
                            if let Some(epoch) = new.mls_epoch {
                                conn.prepare_cached(
                                    "UPDATE chats SET mls_epoch = ?2 + 1 WHERE id = ?1",
                                )?
                                .execute(params![new.chat_id, epoch])?;
                            }
                            if new.owes_push {
                                queue_push(conn, &new, seq)?;
                            }
                            Ok(Appended::New(MessageRow {
                                seq,
                                version,
                                id: new.id,
                                chat_id: new.chat_id,
                                sender_id: new.sender_id,
                                message_type: new.message_type,
                                content: new.content,
                                file_id: new.file_id,
                                metadata: new.metadata,
                                client_msg_id: new.client_msg_id,
                                created_at: new.created_at,
                                edited_at: None,
                                deleted: false,
                            }))
                        }
                        None => why_not_appended(conn, &new),
                    }
                },
                Some(on_commit),
            )
            .await?;
        Ok(Box::pin(answer))
    }

    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.id = ?1"
        ))
        .bind(message_id)
        .fetch_optional(&self.readers)
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
            .fetch_all(&self.readers)
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

    /// See `changes`: a binary search and two index ranges, merged.
    async fn changed_messages(
        &self,
        chat_id: &str,
        after_version: i64,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)> {
        changes::changed_messages(self, chat_id, after_version, limit, message_type).await
    }

    /// `NotFound` if the message is missing or deleted.
    async fn edit_message(
        &self,
        message_id: &str,
        content: &str,
        now: i64,
    ) -> StoreResult<MessageRow> {
        let (message_id, content) = (message_id.to_owned(), content.to_owned());
        self.writer
            .write_statement(move |conn| {
                let mut edit = conn.prepare_cached(concat!(
                    "UPDATE messages SET content = ?2, edited_at = ?3, changed_version = ",
                    next_version!(),
                    " WHERE id = ?1 AND deleted = 0 RETURNING ",
                    message_returning!()
                ))?;
                let mut edited = edit.query(params![message_id, content, now])?;
                Ok(rows::message(edited.next()?.ok_or(StoreError::NotFound)?)?)
            })
            .await
    }

    /// Tombstones the message (its `seq` stays taken) and drops its reactions.
    /// `now` is kept as `deleted_at`. `NotFound` if missing or already deleted.
    async fn delete_message(&self, message_id: &str, now: i64) -> StoreResult<MessageRow> {
        let message_id = message_id.to_owned();
        self.writer
            .write(move |conn| {
                // Reactions first: removing them gives the message versions
                // of their own, and the tombstone's must be the last one.
                conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
                    .execute(params![message_id])?;
                let mut delete = conn.prepare_cached(concat!(
                "UPDATE messages SET content = '', file_id = NULL, deleted = 1, deleted_at = ?2, \
                 changed_version = ",
                next_version!(),
                " WHERE id = ?1 AND deleted = 0 RETURNING ",
                message_returning!()
            ))?;
                let mut deleted = delete.query(params![message_id, now])?;
                Ok(rows::message(deleted.next()?.ok_or(StoreError::NotFound)?)?)
            })
            .await
    }
}

/// Run by the writer at the end of every batch, before the full-text
/// indexing (whose mark, `search_progress.indexed_rowid`, still tells
/// which messages the batch added): each sender of the batch has read, and
/// received, their chat up to their last message in it. One marker per
/// (chat, sender) per batch instead of one per message; a sender removed
/// from the chat within the batch gets none. `NOT INDEXED`: without it
/// SQLite walks a whole index of `messages` to produce the groups in
/// order, instead of the few rows above the mark (the rowid range).
pub(crate) const SENDERS_READ_THEIR_MESSAGES: &str = "
    INSERT INTO marker_log (chat_id, user_id, kind, seq, at)
    SELECT m.chat_id, m.sender_id, 'read', max(m.seq), max(m.created_at)
    FROM messages m NOT INDEXED
    WHERE m.rowid > (SELECT indexed_rowid FROM search_progress)
    GROUP BY m.chat_id, m.sender_id
    HAVING max(m.seq) > (
        SELECT mb.read_seq FROM members mb
        WHERE mb.chat_id = m.chat_id AND mb.user_id = m.sender_id)";

/// Appending is one INSERT: the message takes the chat's `last_seq + 1`
/// (and `last_version + 1`),
/// provided its sender is a member who may post there (anyone in a direct
/// chat or a group, the owner and admins in a channel); no row otherwise.
/// Checking membership inside the statement that appends is what makes
/// it current: no cache, and no window between a check and the write. If
/// this sender already sent this `client_msg_id`, nothing happens (a NULL
/// id never conflicts). The schema's `messages_append` trigger then makes
/// the message the chat's last (its `last_seq`, `last_activity_at`); the
/// sender's markers follow at the end of the batch
/// ([`SENDERS_READ_THEIR_MESSAGES`]). One statement is all-or-nothing, so
/// a failed append leaves no trace, not even a used seq.
///
/// The same statement keeps encrypted chats encrypted (only `mls`
/// messages and the server's `call` entries in an `e2ee` chat, no `mls`
/// message in a plain one) and checks a Commit's epoch precondition
/// (`?10`, NULL for any other message); the job then raises the epoch.
const APPEND: &str = "
    INSERT INTO messages (id, chat_id, seq, version, sender_id, type, content, file_id,
        metadata, client_msg_id, created_at)
    SELECT ?1, c.id, c.last_seq + 1, c.last_version + 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9
    FROM chats c JOIN members mb ON mb.chat_id = c.id AND mb.user_id = ?3
    WHERE c.id = ?2 AND (c.type <> 'channel' OR mb.role <> 'member')
      AND CASE WHEN c.e2ee THEN ?4 IN ('mls', 'call') ELSE ?4 <> 'mls' END
      AND (?10 IS NULL OR c.mls_epoch = ?10)
    ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING
    RETURNING seq, version";

/// Queues the push job of the message [`APPEND`] just stored, in the
/// same job (so in the same transaction). The append is a
/// single-statement job (see `writer`): this second statement must never
/// look like a refused statement that undid itself, so a constraint
/// failure here (there is none to expect: a new message id has no job)
/// fails the whole batch instead of keeping a message without its job.
fn queue_push(conn: &Connection, new: &NewMessage, seq: i64) -> crate::error::Result<()> {
    let queued = conn
        .prepare_cached(push::queue::INSERT_JOB)
        .and_then(|mut insert| insert.execute(params![new.id, new.chat_id, seq, new.created_at]));
    match queued.map_err(crate::error::Error::from) {
        Ok(_) => Ok(()),
        Err(err) if err.undone() => Err(StoreError::backend(format!(
            "queueing the push job of message {}: {err}",
            new.id
        ))
        .into()),
        Err(err) => Err(err),
    }
}

/// Why [`APPEND`] stored nothing: the sender is no member (or there is no
/// such chat), may not post, sent a kind the chat's encryption refuses,
/// sent this `client_msg_id` before (then the original), or a Commit's
/// epoch is not the chat's. Membership first: a member removed since a
/// first try learns that the chat is gone, not what it once sent there.
fn why_not_appended(conn: &Connection, new: &NewMessage) -> crate::error::Result<Appended> {
    let chat: Option<(String, String, bool, i64)> = conn
        .prepare_cached(
            "SELECT c.type, mb.role, c.e2ee, c.mls_epoch FROM members mb \
             JOIN chats c ON c.id = mb.chat_id WHERE mb.chat_id = ?1 AND mb.user_id = ?2",
        )?
        .query_row(params![new.chat_id, new.sender_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    let Some((chat_type, role, e2ee, epoch)) = chat else {
        return Ok(Appended::NotMember);
    };
    if chat_type == "channel" && role == "member" {
        return Ok(Appended::ReadOnly);
    }
    if !fits_encryption(e2ee, new.message_type) {
        return Ok(Appended::Encryption { e2ee });
    }
    if let Some(client_msg_id) = new.client_msg_id.as_deref() {
        let mut lookup = conn.prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.sender_id = ?1 AND m.client_msg_id = ?2"
        ))?;
        let mut found = lookup.query(params![new.sender_id, client_msg_id])?;
        if let Some(original) = found.next()? {
            return Ok(Appended::Existing(rows::message(original)?));
        }
    }
    match new.mls_epoch {
        Some(wanted) if wanted != epoch => Ok(Appended::StaleEpoch { current: epoch }),
        _ => Err(StoreError::NotFound.into()),
    }
}

const OLDER_THAN: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = ?1 AND m.seq < ?2 AND (?3 IS NULL OR m.type = ?3) \
     ORDER BY m.seq DESC LIMIT ?4"
);

const NEWER_THAN: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = ?1 AND m.seq > ?2 AND (?3 IS NULL OR m.type = ?3) \
     ORDER BY m.seq ASC LIMIT ?4"
);
