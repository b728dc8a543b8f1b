//! Full-text search over messages, in neutral terms: the caller gives the
//! words (not a query language of one database), the backend answers with
//! hits and snippets whose matching parts are flagged.

use crate::StoreResult;
use crate::messages::MessageRow;
use async_trait::async_trait;

/// What to search for.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuery {
    /// Only chats this user is a member of now.
    pub user_id: String,
    /// The words to find, as the user typed them; all are required.
    /// Matched case- and accent-insensitively, each as a whole word except
    /// the last, which also matches as a prefix (results while typing).
    pub words: Vec<String>,
    /// Just this chat, if given.
    pub chat_id: Option<String>,
    pub limit: u32,
}

/// A piece of a snippet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    /// True if this piece matched the query.
    pub matched: bool,
}

/// What a backend asks its database to wrap matches in when it marks a
/// snippet (private-use characters, which cannot clash with message text
/// worth marking); [`SnippetPart::parse`] reads them back.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

impl SnippetPart {
    /// A snippet whose matches are wrapped in [`MARK_START`] and
    /// [`MARK_END`], as parts.
    pub fn parse(marked: &str) -> Vec<SnippetPart> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut matched = false;
        for c in marked.chars() {
            let starts = match c {
                MARK_START => true,
                MARK_END => false,
                other => {
                    text.push(other);
                    continue;
                }
            };
            if !text.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut text),
                    matched,
                });
            }
            matched = starts;
        }
        if !text.is_empty() {
            parts.push(SnippetPart { text, matched });
        }
        parts
    }
}

/// A search hit: the message and a short extract of its content around
/// the matches (`…` marks text that was cut).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchRow {
    pub message: MessageRow,
    pub snippet: Vec<SnippetPart>,
}

#[async_trait]
pub trait Search: Send + Sync {
    /// Non-deleted messages matching every word, best match first; none
    /// the user hid for themselves.
    async fn search_messages(&self, query: &SearchQuery) -> StoreResult<Vec<SearchRow>>;
}
