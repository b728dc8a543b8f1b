//! Delivered and read markers, and the receipts derived from them.
//!
//! A marker is a per-(chat, member) "up to seq" value that only moves
//! forward and never past the chat's `last_seq`; reading implies delivery,
//! so `delivered_seq >= read_seq` always. An advance is made by appending
//! it to `marker_log` (`kind` 'delivered' or 'read'; a 'read' row stands
//! for both markers), whose trigger moves the member's markers: so every
//! advance is logged, which is what lets `receipts` say *when* a member's
//! marker first reached a given message.
//!
//! An advance also reports what deciding its audience takes ([`Advance`]);
//! the `members_read` and `members_delivered` indexes keep that question
//! a few index rows deep in chats of any size.

use crate::SqliteStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{Advance, MarkerKind, Markers, ReceiptRow, StoreResult};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

/// `Some` if the marker moved; `None` if it did not or if `user_id` is
/// not a member. One job on the writer: the advance is a single statement
/// ([`ADVANCE`]) and the facts of [`Advance`] are read right after it (the
/// chat row's member count, then a bounded count, [`OTHERS_READ`] or
/// [`OTHERS_DELIVERED`]), so they are exactly what this advance left,
/// whatever else the batch holds.
#[async_trait]
impl Markers for SqliteStore {
    async fn advance_marker(
        &self,
        chat_id: &str,
        user_id: &str,
        kind: MarkerKind,
        seq: i64,
        now: i64,
    ) -> StoreResult<Option<Advance>> {
        let (kind_name, others_reached) = match kind {
            MarkerKind::Delivered => ("delivered", OTHERS_DELIVERED),
            MarkerKind::Read => ("read", OTHERS_READ),
        };
        let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
        self.writer
            .write_statement(move |conn| {
                let moved: Option<i64> = conn
                    .prepare_cached(ADVANCE)?
                    .query_row(params![chat_id, user_id, kind_name, seq, now], |row| {
                        row.get("seq")
                    })
                    .optional()?;
                let Some(seq) = moved else {
                    return Ok(None);
                };
                let member_count: u32 = conn
                    .prepare_cached("SELECT member_count FROM chats WHERE id = ?1")?
                    .query_row(params![chat_id], |row| row.get(0))?;
                let others_reached: u32 = conn
                    .prepare_cached(others_reached)?
                    .query_row(params![chat_id, user_id, seq], |row| row.get(0))?;
                let cleared_unread = kind == MarkerKind::Read
                    && conn
                        .prepare_cached(CLEAR_MARKED_UNREAD)?
                        .execute(params![chat_id, user_id])?
                        > 0;
                Ok(Some(Advance {
                    seq,
                    member_count,
                    others_reached,
                    cleared_unread,
                }))
            })
            .await
    }

    /// One entry per current member other than `sender_id`, in member order.
    ///
    /// Each kind's logged seqs only grow over time, so the first log row of a
    /// kind with `seq >= ?2` is the earliest advance of that kind reaching the
    /// message (one index probe). Delivery is the earlier of the delivered and
    /// the read advance, since a read carries the delivered marker along.
    async fn receipts(
        &self,
        chat_id: &str,
        seq: i64,
        sender_id: &str,
    ) -> StoreResult<Vec<ReceiptRow>> {
        let found = sqlx::query(
            "SELECT mb.user_id, \
         (SELECT l.at FROM marker_log l WHERE l.chat_id = mb.chat_id AND l.user_id = mb.user_id \
             AND l.kind = 'delivered' AND l.seq >= ?2 ORDER BY l.seq LIMIT 1) AS delivered_at, \
         (SELECT l.at FROM marker_log l WHERE l.chat_id = mb.chat_id AND l.user_id = mb.user_id \
             AND l.kind = 'read' AND l.seq >= ?2 ORDER BY l.seq LIMIT 1) AS read_at \
         FROM members mb WHERE mb.chat_id = ?1 AND mb.user_id <> ?3 \
         ORDER BY mb.joined_at, mb.rowid",
        )
        .bind(chat_id)
        .bind(seq)
        .bind(sender_id)
        .fetch_all(&self.readers)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                let delivered_at: Option<i64> = row.try_get("delivered_at").db()?;
                let read_at: Option<i64> = row.try_get("read_at").db()?;
                let delivered_at = match (delivered_at, read_at) {
                    (Some(delivered), Some(read)) => Some(delivered.min(read)),
                    (delivered, read) => delivered.or(read),
                };
                Ok(ReceiptRow {
                    user_id: row.try_get("user_id").db()?,
                    delivered_at,
                    read_at,
                })
            })
            .collect()
    }
}

/// Logs the advance of member (?1 chat, ?2 user)'s marker of kind ?3 to
/// `min(?4, last_seq)` at time ?5, if that moves it forward; the schema's
/// `marker_log_apply` trigger moves the marker itself. Returns the new
/// marker, or no row.
const ADVANCE: &str = "
    INSERT INTO marker_log (chat_id, user_id, kind, seq, at)
    SELECT mb.chat_id, mb.user_id, ?3, min(?4, c.last_seq), ?5
    FROM members mb JOIN chats c ON c.id = mb.chat_id
    WHERE mb.chat_id = ?1 AND mb.user_id = ?2
      AND min(?4, c.last_seq) > CASE ?3 WHEN 'read' THEN mb.read_seq ELSE mb.delivered_seq END
    RETURNING seq";

/// A read clears member (?1 chat, ?2 user)'s "marked unread" mark; no
/// write at all when it is not set (the common case).
const CLEAR_MARKED_UNREAD: &str = "
    UPDATE members SET marked_unread = 0
    WHERE chat_id = ?1 AND user_id = ?2 AND marked_unread = 1";

/// How many members of chat ?1 other than ?2 have read up to ?3 or
/// further, counted no further than 2 ([`Advance::others_reached`]).
/// A range of the `members_read` index, so a few rows whatever the size
/// of the chat.
pub(super) const OTHERS_READ: &str = "
    SELECT count(*) FROM (
        SELECT 1 FROM members
        WHERE chat_id = ?1 AND read_seq >= ?3 AND user_id <> ?2 LIMIT 2)";

/// As [`OTHERS_READ`], for the delivered marker (which a read moves too).
pub(super) const OTHERS_DELIVERED: &str = "
    SELECT count(*) FROM (
        SELECT 1 FROM members
        WHERE chat_id = ?1 AND delivered_seq >= ?3 AND user_id <> ?2 LIMIT 2)";
