//! Full-text search over the messages of the caller's current chats:
//! checks the query, hands its words to the store, and turns the store's
//! snippet into escaped HTML with `<mark>`.

use super::{Caller, Core, CoreError, CoreResult};
use crate::messages::LinksFor;
use natter_proto::search::SearchHit;
use natter_store::{SearchQuery, SnippetPart};

/// Most results one search returns.
pub const MAX_RESULTS: u32 = 100;
/// Longest query text accepted.
const MAX_QUERY_CHARS: usize = 256;

impl Core {
    pub async fn search(
        &self,
        caller: &Caller,
        query: &str,
        chat_id: Option<&str>,
        limit: Option<u32>,
    ) -> CoreResult<Vec<SearchHit>> {
        self.limits
            .user_action(&caller.user_id, super::limits::UserAction::Search)?;
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(CoreError::invalid(format!(
                "q must be at most {MAX_QUERY_CHARS} characters long"
            )));
        }
        super::no_control_characters("q", query, false)?;
        let words = words_of(query);
        if words.is_empty() {
            return Err(CoreError::invalid("q must contain at least one word"));
        }
        if let Some(chat_id) = chat_id {
            self.membership(chat_id, &caller.user_id).await?;
        }
        let limit = limit.unwrap_or(20).clamp(1, MAX_RESULTS);
        let rows = self
            .store
            .search_messages(&SearchQuery {
                user_id: caller.user_id.clone(),
                words,
                chat_id: chat_id.map(str::to_owned),
                limit,
            })
            .await?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let message = self
                .render_messages(
                    &row.message.chat_id,
                    std::slice::from_ref(&row.message),
                    LinksFor::User(&caller.user_id),
                )
                .await?
                .remove(0);
            hits.push(SearchHit {
                message,
                highlight: highlight_html(&row.snippet),
            });
        }
        Ok(hits)
    }
}

/// The words of the user's text that can match something (those with a
/// letter or digit), quotes removed.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '"')
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// The snippet as escaped HTML, its matched parts in `<mark>` tags.
fn highlight_html(snippet: &[SnippetPart]) -> String {
    let mut html = String::new();
    for part in snippet {
        if part.matched {
            html.push_str("<mark>");
        }
        escape_into(&mut html, &part.text);
        if part.matched {
            html.push_str("</mark>");
        }
    }
    html
}

fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            other => html.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_words_that_can_match_are_searched() {
        assert_eq!(words_of("say \"hi\" OR *"), ["say", "hi", "OR"]);
        assert!(words_of("  ").is_empty());
        assert!(words_of("*** ---").is_empty());
    }

    #[test]
    fn highlights_are_escaped_html_with_marks() {
        let part = |text: &str, matched| SnippetPart {
            text: text.into(),
            matched,
        };
        let snippet = [
            part("a <b> ", false),
            part("lunch", true),
            part(" & more", false),
        ];
        assert_eq!(
            highlight_html(&snippet),
            "a &lt;b&gt; <mark>lunch</mark> &amp; more"
        );
    }
}
