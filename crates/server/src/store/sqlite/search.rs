//! Full-text search over messages with SQLite FTS5 (`messages_fts`, an
//! external-content index over `messages.content`), and keeping that
//! index up to date ([`INDEX_NEW_MESSAGES`], [`RECORD_INDEXED`]; edits and deletes are
//! mirrored by triggers, see the schema). Building a safe MATCH
//! expression from user input and marking up the snippet are the
//! caller's; this module restricts hits to the chats the user is a member
//! of now, skips tombstones and ranks by bm25.

use super::SqliteStore;
use super::rows::{self, message_columns};
use crate::store::{SearchRow, StoreResult};
use sqlx::Row;

/// Indexes the messages stored since the last run ([`RECORD_INDEXED`]
/// then records how far the index goes). The writer runs it once per batch, after the batch's jobs
/// and before its COMMIT: FTS5 flushes its pending terms to disk at every
/// savepoint, so indexing inside each job's savepoint would write one
/// index segment per message, while here a whole batch makes one.
pub(super) const INDEX_NEW_MESSAGES: &str = "
    INSERT INTO messages_fts (rowid, content)
    SELECT rowid, content FROM messages
    WHERE rowid > (SELECT indexed_rowid FROM search_progress)
    ORDER BY rowid";

/// Moves the mark past the messages [`INDEX_NEW_MESSAGES`] indexed; runs
/// right after it.
pub(super) const RECORD_INDEXED: &str = "
    UPDATE search_progress
    SET indexed_rowid = (SELECT coalesce(max(rowid), 0) FROM messages)
    WHERE indexed_rowid <> (SELECT coalesce(max(rowid), 0) FROM messages)";

/// Matches are wrapped in U+E000 / U+E001 (private-use characters that
/// cannot clash with text a caller would escape); `…` marks cut text;
/// snippets are about 16 tokens.
pub(super) async fn search_messages(
    db: &SqliteStore,
    user_id: &str,
    query: &str,
    chat_id: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<SearchRow>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        ", snippet(messages_fts, 0, char(57344), char(57345), '…', 16) AS snippet \
         FROM messages_fts \
         JOIN messages m ON m.rowid = messages_fts.rowid \
         JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = ?1 \
         WHERE messages_fts MATCH ?2 AND m.deleted = 0 AND (?3 IS NULL OR m.chat_id = ?3) \
         ORDER BY bm25(messages_fts) LIMIT ?4"
    ))
    .bind(user_id)
    .bind(query)
    .bind(chat_id)
    .bind(i64::from(limit))
    .fetch_all(&db.readers)
    .await?;
    found
        .iter()
        .map(|row| {
            Ok(SearchRow {
                message: rows::message(row)?,
                snippet: row.try_get("snippet")?,
            })
        })
        .collect()
}
