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

/// A search hit: the message and a short extract of its content around
/// the matches (`…` marks text that was cut).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchRow {
    pub message: MessageRow,
    pub snippet: Vec<SnippetPart>,
}

#[async_trait]
pub trait Search: Send + Sync {
    /// Non-deleted messages matching every word, best match first.
    async fn search_messages(&self, query: &SearchQuery) -> StoreResult<Vec<SearchRow>>;
}
