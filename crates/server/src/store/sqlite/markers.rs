//! Delivered and read markers, and the receipts derived from them.
//!
//! A marker is a per-(chat, member) "up to seq" value that only moves
//! forward and never past the chat's `last_seq`; reading implies delivery,
//! so `delivered_seq >= read_seq` always. An advance is made by appending
//! it to `marker_log` (`kind` 'delivered' or 'read'; a 'read' row stands
//! for both markers), whose trigger moves the member's markers: so every
//! advance is logged, which is what lets `receipts` say *when* a member's
//! marker first reached a given message.

use super::SqliteStore;
use crate::store::{MarkerKind, ReceiptRow, StoreResult};
use sqlx::Row;

/// `Some(new marker)` if it moved; `None` if it did not or if `user_id`
/// is not a member. A single statement ([`ADVANCE`]), so one round trip.
pub(super) async fn advance_marker(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
    kind: MarkerKind,
    seq: i64,
    now: i64,
) -> StoreResult<Option<i64>> {
    let kind = match kind {
        MarkerKind::Delivered => "delivered",
        MarkerKind::Read => "read",
    };
    let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
    db.writer
        .write_statement(move |conn| {
            Box::pin(async move {
                let moved = sqlx::query(ADVANCE)
                    .bind(&chat_id)
                    .bind(&user_id)
                    .bind(kind)
                    .bind(seq)
                    .bind(now)
                    .fetch_optional(conn)
                    .await?;
                Ok(moved.map(|row| row.try_get("seq")).transpose()?)
            })
        })
        .await
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

/// One entry per current member other than `sender_id`, in member order.
///
/// Each kind's logged seqs only grow over time, so the first log row of a
/// kind with `seq >= ?2` is the earliest advance of that kind reaching the
/// message (one index probe). Delivery is the earlier of the delivered and
/// the read advance, since a read carries the delivered marker along.
pub(super) async fn receipts(
    db: &SqliteStore,
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
    .fetch_all(&db.readers)
    .await?;
    found
        .iter()
        .map(|row| {
            let delivered_at: Option<i64> = row.try_get("delivered_at")?;
            let read_at: Option<i64> = row.try_get("read_at")?;
            let delivered_at = match (delivered_at, read_at) {
                (Some(delivered), Some(read)) => Some(delivered.min(read)),
                (delivered, read) => delivered.or(read),
            };
            Ok(ReceiptRow {
                user_id: row.try_get("user_id")?,
                delivered_at,
                read_at,
            })
        })
        .collect()
}
