//! [`Search`] with SQLite FTS5 (`messages_fts`, an external-content index
//! over `messages.content`), and keeping that index up to date
//! ([`INDEX_NEW_MESSAGES`], [`RECORD_INDEXED`]; edits and deletes are
//! mirrored by triggers, see the schema; `mls` messages, ciphertext, are
//! never indexed). Turns the caller's words into a
//! safe MATCH expression, restricts hits to the chats the user is a
//! member of now, skips tombstones, ranks by bm25 and hands back FTS5's
//! snippet split into matched and unmatched parts.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows::{self, message_columns};
use async_trait::async_trait;
use natter_store::{Search, SearchQuery, SearchRow, SnippetPart, StoreResult};
use sqlx::Row;

/// Indexes the messages stored since the last run ([`RECORD_INDEXED`]
/// then records how far the index goes). The writer runs it once per
/// batch, after the batch's jobs and before its COMMIT: FTS5 flushes its
/// pending terms to disk at every savepoint, so indexing inside each job's
/// savepoint would write one index segment per message, while here a
/// whole batch makes one.
pub(crate) const INDEX_NEW_MESSAGES: &str = "
    INSERT INTO messages_fts (rowid, content)
    SELECT rowid, content FROM messages
    WHERE rowid > (SELECT indexed_rowid FROM search_progress) AND type <> 'mls'
    ORDER BY rowid";

/// Moves the mark past the messages [`INDEX_NEW_MESSAGES`] indexed; runs
/// right after it.
pub(crate) const RECORD_INDEXED: &str = "
    UPDATE search_progress
    SET indexed_rowid = (SELECT coalesce(max(rowid), 0) FROM messages)
    WHERE indexed_rowid <> (SELECT coalesce(max(rowid), 0) FROM messages)";

#[async_trait]
impl Search for SqliteStore {
    /// Snippets are about 16 tokens, `…` marking cut text. No word that
    /// can match (only punctuation) finds nothing.
    async fn search_messages(&self, query: &SearchQuery) -> StoreResult<Vec<SearchRow>> {
        let Some(expression) = match_expression(&query.words) else {
            return Ok(Vec::new());
        };
        let found = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            ", snippet(messages_fts, 0, char(57344), char(57345), '…', 16) AS snippet \
             FROM messages_fts \
             JOIN messages m ON m.rowid = messages_fts.rowid \
             JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = ?1 \
             WHERE messages_fts MATCH ?2 AND m.deleted = 0 AND (?3 IS NULL OR m.chat_id = ?3) \
             AND NOT EXISTS (SELECT 1 FROM hidden_messages h \
                 WHERE h.user_id = ?1 AND h.message_id = m.id) \
             ORDER BY bm25(messages_fts) LIMIT ?4"
        ))
        .bind(&query.user_id)
        .bind(expression)
        .bind(query.chat_id.as_deref())
        .bind(i64::from(query.limit))
        .fetch_all(&self.readers)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                Ok(SearchRow {
                    message: rows::message(row)?,
                    snippet: SnippetPart::parse(&row.try_get::<String, _>("snippet").db()?),
                })
            })
            .collect()
    }
}

/// Every word as a quoted FTS5 term (so operators and punctuation in it
/// are literal), all required; the last one also matches as a prefix.
/// Control characters split words (FTS5 rejects a NUL inside a string,
/// and no such character is ever a word). `None` if no word has a letter
/// or digit.
fn match_expression(words: &[String]) -> Option<String> {
    let terms: Vec<String> = words
        .iter()
        .flat_map(|word| word.split(|c: char| c.is_whitespace() || c.is_control() || c == '"'))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{word}\""))
        .collect();
    let (last, rest) = terms.split_last()?;
    let mut expression = rest.join(" ");
    if !expression.is_empty() {
        expression.push(' ');
    }
    expression.push_str(last);
    expression.push('*');
    Some(expression)
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_store::search::{MARK_END, MARK_START};

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn words_become_quoted_terms_with_a_prefix_last() {
        assert_eq!(
            match_expression(&words("hello world")).unwrap(),
            "\"hello\" \"world\"*"
        );
        assert_eq!(
            match_expression(&words("a OR b")).unwrap(),
            "\"a\" \"OR\" \"b\"*"
        );
        assert_eq!(
            match_expression(&words("say \"hi\"")).unwrap(),
            "\"say\" \"hi\"*"
        );
        assert!(match_expression(&words("  ")).is_none());
        assert!(match_expression(&words("*** ---")).is_none());
        assert_eq!(
            match_expression(&["a\0b".to_owned()]).unwrap(),
            "\"a\" \"b\"*"
        );
    }

    #[test]
    fn marked_snippets_split_into_parts() {
        let parts = SnippetPart::parse(&format!("a {MARK_START}lunch{MARK_END} b"));
        let plain = |text: &str, matched| SnippetPart {
            text: text.into(),
            matched,
        };
        assert_eq!(
            parts,
            vec![plain("a ", false), plain("lunch", true), plain(" b", false)]
        );
    }
}
