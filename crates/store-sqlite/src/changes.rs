//! The change cursor's read: the messages of a chat whose version is
//! above `V`, in ascending version order (see migration 0006 for why a
//! message has two version columns).
//!
//! The answer has two disjoint parts, each already in version order:
//! - messages changed after being appended, whose `changed_version > V`:
//!   a range of the partial index `messages_changed`;
//! - messages never changed since, appended after `V`: their `version`
//!   grows with `seq` (both are taken by the append, in order), so they
//!   are the unchanged messages from the first `seq` whose `version` is
//!   above `V`, found by a binary search over `1..=last_seq` (seqs have no
//!   gaps) in the `(chat_id, seq)` index: about 20 index probes for a
//!   million messages.
//!
//! Both parts are read in one snapshot and merged. This costs a resuming
//! client a few probes instead of costing every append an index entry.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows::{self, message_columns};
use natter_proto::messages::MessageType;
use natter_store::{MessageRow, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

/// See the module doc; one row beyond `limit` tells whether there is more.
pub(crate) async fn changed_messages(
    db: &SqliteStore,
    chat_id: &str,
    after_version: i64,
    limit: u32,
    message_type: Option<MessageType>,
) -> StoreResult<(Vec<MessageRow>, bool)> {
    let wanted = i64::from(limit) + 1;
    let kind = message_type.map(MessageType::as_str);
    let mut snapshot = db.readers.begin().await.db()?;
    let first_new = first_seq_appended_after(&mut snapshot, chat_id, after_version).await?;
    let changed = sqlx::query(CHANGED)
        .bind(chat_id)
        .bind(after_version)
        .bind(kind)
        .bind(wanted)
        .fetch_all(&mut *snapshot)
        .await
        .db()?;
    let appended = sqlx::query(APPENDED)
        .bind(chat_id)
        .bind(first_new)
        .bind(kind)
        .bind(wanted)
        .fetch_all(&mut *snapshot)
        .await
        .db()?;
    snapshot.commit().await.db()?;

    let changed = changed
        .iter()
        .map(rows::message)
        .collect::<StoreResult<Vec<_>>>()?;
    let appended = appended
        .iter()
        .map(rows::message)
        .collect::<StoreResult<Vec<_>>>()?;
    let mut page = merge_by_version(changed, appended);
    let has_more = page.len() > limit as usize;
    page.truncate(limit as usize);
    Ok((page, has_more))
}

/// The smallest `seq` whose append `version` is above `after_version`,
/// or `last_seq + 1` if there is none.
async fn first_seq_appended_after(
    conn: &mut SqliteConnection,
    chat_id: &str,
    after_version: i64,
) -> StoreResult<i64> {
    let last_seq: Option<i64> = sqlx::query("SELECT last_seq FROM chats WHERE id = ?1")
        .bind(chat_id)
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .map(|row| row.try_get(0))
        .transpose()
        .db()?;
    // Invariant of the search: every seq below `low` has a version of at
    // most `after_version`; `high` and every seq above it have more.
    let (mut low, mut high) = (1, last_seq.unwrap_or(0) + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        let version: i64 =
            sqlx::query("SELECT version FROM messages WHERE chat_id = ?1 AND seq = ?2")
                .bind(chat_id)
                .bind(middle)
                .fetch_one(&mut *conn)
                .await
                .db()?
                .try_get(0)
                .db()?;
        if version > after_version {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    Ok(low)
}

/// Both lists ascending by version, into one.
fn merge_by_version(changed: Vec<MessageRow>, appended: Vec<MessageRow>) -> Vec<MessageRow> {
    let mut merged = Vec::with_capacity(changed.len() + appended.len());
    let (mut changed, mut appended) = (
        changed.into_iter().peekable(),
        appended.into_iter().peekable(),
    );
    loop {
        let take_changed = match (changed.peek(), appended.peek()) {
            (Some(a), Some(b)) => a.version < b.version,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return merged,
        };
        let next = if take_changed {
            changed.next()
        } else {
            appended.next()
        };
        merged.extend(next);
    }
}

/// Messages changed since ?2 (changed_version > ?2), of type ?3 if given.
const CHANGED: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = ?1 AND m.changed_version > ?2 \
     AND (?3 IS NULL OR m.type = ?3) ORDER BY m.changed_version LIMIT ?4"
);

/// Messages from seq ?2 on that were never changed, of type ?3 if given.
const APPENDED: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.chat_id = ?1 AND m.seq >= ?2 AND m.changed_version IS NULL \
     AND (?3 IS NULL OR m.type = ?3) ORDER BY m.seq LIMIT ?4"
);
