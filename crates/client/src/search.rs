//! Full-text search over messages (`/api/v1/search/messages`).

use crate::{Client, Result};
use natter_proto::search::SearchResults;
use reqwest::Method;

/// A message search: terms, optionally one chat, optionally a page size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// The words to look for.
    pub q: String,
    /// Only this chat (still only if the caller is a member).
    pub chat_id: Option<String>,
    /// Most results (server default 20).
    pub limit: Option<u32>,
}

impl SearchQuery {
    /// A search for `q` over all the caller's chats.
    pub fn new(q: impl Into<String>) -> SearchQuery {
        SearchQuery {
            q: q.into(),
            ..SearchQuery::default()
        }
    }

    /// Restricts the search to one chat.
    pub fn in_chat(mut self, chat_id: impl Into<String>) -> SearchQuery {
        self.chat_id = Some(chat_id.into());
        self
    }

    /// At most `limit` results.
    pub fn limit(mut self, limit: u32) -> SearchQuery {
        self.limit = Some(limit);
        self
    }
}

impl Client {
    /// `GET /api/v1/search/messages`: best match first, only over chats the
    /// caller is a member of now.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        let mut pairs = vec![("q", query.q.clone())];
        if let Some(chat_id) = &query.chat_id {
            pairs.push(("chat_id", chat_id.clone()));
        }
        if let Some(limit) = query.limit {
            pairs.push(("limit", limit.to_string()));
        }
        let builder = self
            .request(Method::GET, "/api/v1/search/messages")
            .query(&pairs);
        Ok(self.call(builder).await?.0)
    }
}
