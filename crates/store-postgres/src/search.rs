//! [`Search`] with PostgreSQL full-text search: `messages.search`, a
//! `tsvector` generated from the content with the `natter_search`
//! configuration (diacritics folded, lower-cased, every word kept; see
//! the migration), under a GIN index. Turns the caller's words into a
//! safe `tsquery`, restricts hits to the chats the user is a member of
//! now, skips tombstones, ranks by `ts_rank` and hands back
//! `ts_headline`'s extract split into matched and unmatched parts.
//!
//! Why not `websearch_to_tsquery`: it reads `or`, `-` and quotes as
//! operators and has no prefix match, while the contract wants every word
//! taken literally and the last one also matched as a prefix (results
//! while typing). So each word becomes a quoted `tsquery` operand (which
//! PostgreSQL still normalizes with the configuration, as it does the
//! content), all required, the last one with `:*`.

use crate::PgStore;
use crate::error::Db;
use crate::rows::{self, message_columns};
use async_trait::async_trait;
use natter_store::search::{MARK_END, MARK_START};
use natter_store::{Search, SearchQuery, SearchRow, SnippetPart, StoreResult};
use sqlx::Row;

/// How `ts_headline` cuts the extract: about 16 words around the best
/// match, as the SQLite store's snippets.
const HEADLINE_OPTIONS: &str =
    "StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=16, MinWords=6, ShortWord=0";

/// Cut text is marked with this at either end of the extract.
const ELLIPSIS: &str = "…";

#[async_trait]
impl Search for PgStore {
    /// No word that can match (only punctuation, control characters)
    /// finds nothing.
    async fn search_messages(&self, query: &SearchQuery) -> StoreResult<Vec<SearchRow>> {
        let Some(expression) = tsquery(&query.words) else {
            return Ok(Vec::new());
        };
        let found = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            ", ts_headline('natter_search', m.content, hit.query, $5) AS snippet \
             FROM (SELECT m.id, q.query, ts_rank(m.search, q.query) AS rank \
                   FROM to_tsquery('natter_search', $2) AS q(query), messages m \
                   JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = $1 \
                   WHERE m.search @@ q.query AND NOT m.deleted \
                     AND NOT EXISTS (SELECT 1 FROM hidden_messages h \
                         WHERE h.user_id = $1 AND h.message_id = m.id) \
                     AND ($3::text IS NULL OR m.chat_id = $3) \
                   ORDER BY rank DESC, m.created_at DESC, m.id LIMIT $4) hit \
             JOIN messages m ON m.id = hit.id \
             ORDER BY hit.rank DESC, m.created_at DESC, m.id"
        ))
        .bind(&query.user_id)
        .bind(expression)
        .bind(query.chat_id.as_deref())
        .bind(i64::from(query.limit))
        .bind(HEADLINE_OPTIONS)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                let message = rows::message(row)?;
                let headline: String = row.try_get("snippet").db()?;
                let snippet = SnippetPart::parse(&with_ellipses(&headline, &message.content));
                Ok(SearchRow { message, snippet })
            })
            .collect()
    }
}

/// Every word as a quoted `tsquery` operand (quotes and backslashes
/// escaped, so operators and punctuation in it are literal), all
/// required (`&`); the last one also matches as a prefix (`:*`).
/// Whitespace and control characters split words (PostgreSQL text cannot
/// hold a NUL, and no such character is ever part of a word). `None` if
/// no word has a letter or digit.
fn tsquery(words: &[String]) -> Option<String> {
    let operands: Vec<String> = words
        .iter()
        .flat_map(|word| word.split(|c: char| c.is_whitespace() || c.is_control()))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    let (last, rest) = operands.split_last()?;
    let mut expression: String = rest.iter().map(|operand| format!("{operand} & ")).collect();
    expression.push_str(last);
    expression.push_str(":*");
    Some(expression)
}

/// `ts_headline`'s extract with `…` where it cut the content: at its
/// start unless the content starts with it, at its end unless the content
/// ends with it.
fn with_ellipses(headline: &str, content: &str) -> String {
    let plain: String = headline
        .chars()
        .filter(|c| *c != MARK_START && *c != MARK_END)
        .collect();
    let (plain, content) = (plain.trim(), content.trim());
    let mut marked = String::with_capacity(headline.len() + 2 * ELLIPSIS.len());
    if !content.starts_with(plain) {
        marked.push_str(ELLIPSIS);
    }
    marked.push_str(headline.trim());
    if !content.ends_with(plain) {
        marked.push_str(ELLIPSIS);
    }
    marked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn words_become_quoted_operands_with_a_prefix_last() {
        assert_eq!(
            tsquery(&words("hello world")).unwrap(),
            "'hello' & 'world':*"
        );
        assert_eq!(tsquery(&words("a OR b")).unwrap(), "'a' & 'OR' & 'b':*");
        assert_eq!(
            tsquery(&words("it's c:\\*")).unwrap(),
            "'it''s' & 'c:\\\\*':*"
        );
        assert!(tsquery(&words("  ")).is_none());
        assert!(tsquery(&words("*** ---")).is_none());
        assert_eq!(tsquery(&["a\0b".to_owned()]).unwrap(), "'a' & 'b':*");
    }

    #[test]
    fn cut_extracts_get_ellipses() {
        let whole = "Meet me at the café";
        assert_eq!(with_ellipses(whole, whole), whole);
        assert_eq!(with_ellipses("me at", whole), "…me at…");
        assert_eq!(with_ellipses("Meet me", whole), "Meet me…");
    }

    #[test]
    fn marked_extracts_split_into_parts() {
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
