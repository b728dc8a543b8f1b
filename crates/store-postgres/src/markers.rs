//! Delivered and read markers, and the receipts derived from them.
//!
//! A marker is a per-(chat, member) "up to seq" value that only moves
//! forward and never past the chat's `last_seq`; reading implies delivery,
//! so `delivered_seq >= read_seq` always. Every advance is also logged in
//! `marker_log` (a 'read' row stands for both markers), which is what
//! lets `receipts` say *when* a member's marker first reached a message.
//!
//! An advance is one statement (the members row is its only lock: no
//! chat lock, it runs for every ack) that also reads what deciding its
//! audience takes ([`Advance`]); the `members_read` and
//! `members_delivered` indexes keep that a few index rows deep in chats
//! of any size.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{Advance, MarkerKind, Markers, ReceiptRow, StoreResult};
use sqlx::Row;

#[async_trait]
impl Markers for PgStore {
    /// `Some` if the marker moved; `None` if it did not or if `user_id` is
    /// not a member.
    async fn advance_marker(
        &self,
        chat_id: &str,
        user_id: &str,
        kind: MarkerKind,
        seq: i64,
        now: i64,
    ) -> StoreResult<Option<Advance>> {
        let sql = match kind {
            MarkerKind::Delivered => ADVANCE_DELIVERED,
            MarkerKind::Read => ADVANCE_READ,
        };
        let moved = sqlx::query(sql)
            .bind(chat_id)
            .bind(user_id)
            .bind(seq)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        let Some(moved) = moved else {
            return Ok(None);
        };
        let count = |name: &str| -> StoreResult<u32> {
            let value: i64 = moved.try_get(name).db()?;
            Ok(u32::try_from(value).unwrap_or(u32::MAX))
        };
        Ok(Some(Advance {
            seq: moved.try_get("seq").db()?,
            member_count: count("member_count")?,
            others_reached: count("others_reached")?,
            cleared_unread: moved.try_get("cleared_unread").db()?,
        }))
    }

    /// One entry per current member other than `sender_id`, in member
    /// order. Each kind's logged seqs only grow, so the first log row of a
    /// kind with `seq >= $2` is the earliest advance reaching the message
    /// (one index probe); delivery is the earlier of the delivered and the
    /// read advance, since a read carries the delivered marker along.
    async fn receipts(
        &self,
        chat_id: &str,
        seq: i64,
        sender_id: &str,
    ) -> StoreResult<Vec<ReceiptRow>> {
        let found = sqlx::query(
            "SELECT mb.user_id, \
             (SELECT l.at FROM marker_log l WHERE l.chat_id = mb.chat_id \
                 AND l.user_id = mb.user_id AND l.kind = 'delivered' AND l.seq >= $2 \
                 ORDER BY l.seq LIMIT 1) AS delivered_at, \
             (SELECT l.at FROM marker_log l WHERE l.chat_id = mb.chat_id \
                 AND l.user_id = mb.user_id AND l.kind = 'read' AND l.seq >= $2 \
                 ORDER BY l.seq LIMIT 1) AS read_at \
             FROM members mb WHERE mb.chat_id = $1 AND mb.user_id <> $3 \
             ORDER BY mb.joined_at, mb.added",
        )
        .bind(chat_id)
        .bind(seq)
        .bind(sender_id)
        .fetch_all(&self.pool)
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

/// Moves member (`$1` chat, `$2` user)'s marker to `min($3, last_seq)` at
/// time `$4` if that is forward, logs it, and answers the new marker, the
/// chat's member count and how many other members are at or past it
/// (counted no further than 2); no row if it did not move. The UPDATE's
/// own condition is checked again on the row as it is when its lock is
/// granted, so two racing advances cannot both move it to the same seq.
/// `$marker` is the moving marker's column (also what says another
/// member reached the seq: a read moves the delivered marker too),
/// `$read` the new read marker, `$unread` the new `marked_unread` (a read
/// clears it; `cleared_unread` is whether it was set, as the statement's
/// snapshot saw it).
macro_rules! advance_sql {
    ($kind:literal, $marker:literal, $read:literal, $unread:literal) => {
        concat!(
            "WITH target AS (\
                 SELECT mb.chat_id, mb.user_id, LEAST($3, c.last_seq) AS seq, c.member_count, \
                     mb.marked_unread AS was_unread \
                 FROM members mb JOIN chats c ON c.id = mb.chat_id \
                 WHERE mb.chat_id = $1 AND mb.user_id = $2), \
             moved AS (\
                 UPDATE members mb SET read_seq = ",
            $read,
            ", marked_unread = ",
            $unread,
            ", delivered_seq = GREATEST(mb.delivered_seq, t.seq) \
                 FROM target t WHERE mb.chat_id = t.chat_id AND mb.user_id = t.user_id \
                 AND t.seq > mb.",
            $marker,
            " RETURNING t.chat_id, t.user_id, t.seq, t.member_count, \
                 t.was_unread AND NOT mb.marked_unread AS cleared_unread), \
             logged AS (\
                 INSERT INTO marker_log (chat_id, user_id, kind, seq, at) \
                 SELECT chat_id, user_id, '",
            $kind,
            "', seq, $4 FROM moved) \
             SELECT moved.seq, moved.member_count, moved.cleared_unread, \
                 (SELECT count(*) FROM (SELECT 1 FROM members o \
                     WHERE o.chat_id = $1 AND o.",
            $marker,
            " >= moved.seq AND o.user_id <> $2 LIMIT 2) reached) AS others_reached \
             FROM moved"
        )
    };
}

const ADVANCE_DELIVERED: &str = advance_sql!(
    "delivered",
    "delivered_seq",
    "mb.read_seq",
    "mb.marked_unread"
);
const ADVANCE_READ: &str =
    advance_sql!("read", "read_seq", "GREATEST(mb.read_seq, t.seq)", "false");
