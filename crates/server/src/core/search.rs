//! Full-text search over the messages of the caller's current chats.
//! Turns free user text into a safe FTS5 expression and the store's
//! marked snippet into escaped HTML with `<mark>`.

use super::{Caller, Core, CoreError, CoreResult};
use natter_proto::search::SearchHit;

/// Most results one search returns.
pub const MAX_RESULTS: u32 = 100;
/// Longest query text accepted.
const MAX_QUERY_CHARS: usize = 256;
/// The store marks matches between these two private-use characters.
const MARK_START: char = '\u{E000}';
const MARK_END: char = '\u{E001}';

impl Core {
    pub async fn search(
        &self,
        caller: &Caller,
        query: &str,
        chat_id: Option<&str>,
        limit: Option<u32>,
    ) -> CoreResult<Vec<SearchHit>> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(CoreError::invalid(format!(
                "q must be at most {MAX_QUERY_CHARS} characters long"
            )));
        }
        let expression = fts_expression(query)
            .ok_or_else(|| CoreError::invalid("q must contain at least one word"))?;
        if let Some(chat_id) = chat_id {
            self.membership(chat_id, &caller.user_id).await?;
        }
        let limit = limit.unwrap_or(20).clamp(1, MAX_RESULTS);
        let rows = self
            .store
            .search_messages(&caller.user_id, &expression, chat_id, limit)
            .await?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let message = self
                .render_messages(&row.message.chat_id, std::slice::from_ref(&row.message))
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

/// Every word of the user's text as a quoted FTS5 term (so operators and
/// punctuation in the text are literal), all required; the last word also
/// matches as a prefix, so results appear while typing.
fn fts_expression(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{word}\""))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut expression = rest.join(" ");
    if !expression.is_empty() {
        expression.push(' ');
    }
    expression.push_str(last);
    expression.push('*');
    Some(expression)
}

/// Escapes the snippet for HTML and turns the store's match markers into
/// `<mark>` tags.
fn highlight_html(snippet: &str) -> String {
    let mut html = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            MARK_START => html.push_str("<mark>"),
            MARK_END => html.push_str("</mark>"),
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            other => html.push(other),
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_becomes_quoted_terms_with_a_prefix_last() {
        assert_eq!(
            fts_expression("hello world").unwrap(),
            "\"hello\" \"world\"*"
        );
        assert_eq!(fts_expression("a OR b").unwrap(), "\"a\" \"OR\" \"b\"*");
        assert_eq!(fts_expression("say \"hi\"").unwrap(), "\"say\" \"hi\"*");
        assert!(fts_expression("  ").is_none());
        assert!(fts_expression("*** ---").is_none());
    }

    #[test]
    fn highlights_are_escaped_html_with_marks() {
        let snippet = format!("a <b> {MARK_START}lunch{MARK_END} & more");
        assert_eq!(
            highlight_html(&snippet),
            "a &lt;b&gt; <mark>lunch</mark> &amp; more"
        );
    }
}
