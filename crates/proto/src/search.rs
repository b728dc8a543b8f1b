//! Full-text search results.

use crate::messages::Message;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One hit: the message and a snippet of its content.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub message: Message,
    /// HTML-escaped snippet of the content with the matched terms wrapped
    /// in `<mark>` and `</mark>`; safe to insert as HTML.
    pub highlight: String,
}

/// `GET /api/v1/search/messages`: best match first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
}
