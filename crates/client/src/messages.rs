//! Message calls: sending (idempotent by `client_msg_id`), history pages,
//! edits, tombstone deletes, reactions and receipts.

use crate::chats::chat_path;
use crate::client::path_segment;
use crate::{Client, Result};
use natter_proto::messages::{
    EditMessage, Message, MessagePage, MessageType, ReceiptList, SendAck, SendMessage,
};
use reqwest::{Method, StatusCode};

/// A plain text message for `chat_id`, without idempotency key or metadata.
pub fn text_message(chat_id: &str, content: &str) -> SendMessage {
    SendMessage {
        chat_id: chat_id.to_owned(),
        content: content.to_owned(),
        message_type: MessageType::Text,
        client_msg_id: None,
        file_id: None,
        metadata: None,
        sender_id: None,
    }
}

/// Which page of a chat's history to fetch. With no cursor, the newest
/// `limit` messages; pages are in ascending `seq` order, or in ascending
/// `version` order with `changed_after`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Older than this cursor: a `message_id` or `seq:N`.
    pub before: Option<String>,
    /// Newer than this cursor: a `message_id` or `seq:N`.
    pub after: Option<String>,
    /// Changed since this chat version (the change cursor).
    pub changed_after: Option<i64>,
    /// Page size (server default 50, at most 200).
    pub limit: Option<u32>,
    /// `text`, `image`, `file` or `all` (the default).
    pub message_type: Option<String>,
}

impl HistoryQuery {
    /// The newest messages, server-default page size.
    pub fn new() -> HistoryQuery {
        HistoryQuery::default()
    }

    /// Messages older than the message `message_id`.
    pub fn before(mut self, message_id: impl Into<String>) -> HistoryQuery {
        self.before = Some(message_id.into());
        self
    }

    /// Messages with `seq` below `seq`.
    pub fn before_seq(self, seq: i64) -> HistoryQuery {
        self.before(format!("seq:{seq}"))
    }

    /// Messages newer than the message `message_id`.
    pub fn after(mut self, message_id: impl Into<String>) -> HistoryQuery {
        self.after = Some(message_id.into());
        self
    }

    /// Messages with `seq` above `seq` (the resume cursor).
    pub fn after_seq(self, seq: i64) -> HistoryQuery {
        self.after(format!("seq:{seq}"))
    }

    /// Messages changed (new, edited, deleted, reacted to) since the
    /// chat's `version`, oldest change first.
    pub fn changed_after(mut self, version: i64) -> HistoryQuery {
        self.changed_after = Some(version);
        self
    }

    /// At most `limit` messages.
    pub fn limit(mut self, limit: u32) -> HistoryQuery {
        self.limit = Some(limit);
        self
    }

    /// Only messages of this type.
    pub fn message_type(mut self, message_type: MessageType) -> HistoryQuery {
        self.message_type = Some(message_type.as_str().to_owned());
        self
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(before) = &self.before {
            pairs.push(("before", before.clone()));
        }
        if let Some(after) = &self.after {
            pairs.push(("after", after.clone()));
        }
        if let Some(version) = self.changed_after {
            pairs.push(("changed_after", version.to_string()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(message_type) = &self.message_type {
            pairs.push(("type", message_type.clone()));
        }
        pairs
    }
}

impl Client {
    /// `POST /api/v1/messages`: returns once the message is durably stored.
    pub async fn send(&self, message: &SendMessage) -> Result<SendAck> {
        Ok(self.send_full(message).await?.0)
    }

    /// Like [`Client::send`], also telling whether the message was new
    /// (201) or a retry of a known `client_msg_id` answered with the
    /// original (200).
    pub async fn send_full(&self, message: &SendMessage) -> Result<(SendAck, bool)> {
        let builder = self.request(Method::POST, "/api/v1/messages").json(message);
        let (ack, status) = self.call(builder).await?;
        Ok((ack, status == StatusCode::CREATED))
    }

    /// Sends a plain text message.
    pub async fn send_text(&self, chat_id: &str, content: &str) -> Result<SendAck> {
        self.send(&text_message(chat_id, content)).await
    }

    /// `GET /api/v1/chats/{chat_id}/messages`: one page of history.
    pub async fn messages(&self, chat_id: &str, query: &HistoryQuery) -> Result<MessagePage> {
        let path = format!("{}/messages", chat_path(chat_id));
        let builder = self.request(Method::GET, &path).query(&query.pairs());
        Ok(self.call(builder).await?.0)
    }

    /// `PATCH /api/v1/messages/{message_id}` (sender only): the edited
    /// message, with `edited_at`.
    pub async fn edit_message(&self, message_id: &str, content: &str) -> Result<Message> {
        let body = EditMessage {
            content: content.to_owned(),
        };
        let builder = self
            .request(Method::PATCH, &message_path(message_id))
            .json(&body);
        Ok(self.call(builder).await?.0)
    }

    /// `DELETE /api/v1/messages/{message_id}` (sender, or chat owner/admin):
    /// the message becomes a tombstone.
    pub async fn delete_message(&self, message_id: &str) -> Result<()> {
        let builder = self.request(Method::DELETE, &message_path(message_id));
        self.call_empty(builder).await
    }

    /// `DELETE /api/v1/messages/{message_id}?for=me` (any member): hides
    /// the message for the caller only; idempotent.
    pub async fn hide_message(&self, message_id: &str) -> Result<()> {
        let path = format!("{}?for=me", message_path(message_id));
        self.call_empty(self.request(Method::DELETE, &path)).await
    }

    /// `PUT /api/v1/messages/{message_id}/reactions/{emoji}` (204).
    pub async fn add_reaction(&self, message_id: &str, emoji: &str) -> Result<()> {
        let builder = self.request(Method::PUT, &reaction_path(message_id, emoji));
        self.call_empty(builder).await
    }

    /// `DELETE /api/v1/messages/{message_id}/reactions/{emoji}` (204).
    pub async fn remove_reaction(&self, message_id: &str, emoji: &str) -> Result<()> {
        let builder = self.request(Method::DELETE, &reaction_path(message_id, emoji));
        self.call_empty(builder).await
    }

    /// `GET /api/v1/messages/{message_id}/receipts`: per other member, when
    /// the message was delivered to and read by them.
    pub async fn receipts(&self, message_id: &str) -> Result<ReceiptList> {
        let path = format!("{}/receipts", message_path(message_id));
        Ok(self.call(self.request(Method::GET, &path)).await?.0)
    }
}

fn message_path(message_id: &str) -> String {
    format!("/api/v1/messages/{}", path_segment(message_id))
}

fn reaction_path(message_id: &str, emoji: &str) -> String {
    format!(
        "{}/reactions/{}",
        message_path(message_id),
        path_segment(emoji)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_query_names_its_parameters_as_the_api_does() {
        let query = HistoryQuery::new()
            .before_seq(7)
            .limit(20)
            .message_type(MessageType::Image);
        assert_eq!(
            query.pairs(),
            vec![
                ("before", "seq:7".to_owned()),
                ("limit", "20".to_owned()),
                ("type", "image".to_owned()),
            ]
        );
    }

    #[test]
    fn reaction_paths_percent_encode_the_emoji() {
        assert_eq!(
            reaction_path("m1", "👍"),
            "/api/v1/messages/m1/reactions/%F0%9F%91%8D"
        );
    }
}
