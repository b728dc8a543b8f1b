//! Messages, reactions, receipts and the bodies of the message calls.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    #[default]
    Text,
    Image,
    File,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "text" => Some(MessageType::Text),
            "image" => Some(MessageType::Image),
            "file" => Some(MessageType::File),
            _ => None,
        }
    }
}

/// Delivery state of a message, ordered `sent < delivered < read`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Durably stored.
    Sent,
    /// Another member's device acknowledged it.
    Delivered,
    /// Another member read it.
    Read,
}

/// Optional structured data on a message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Metadata {
    /// A message of the same chat this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Members of the chat this message mentions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<String>>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.reply_to.is_none() && self.mentions.is_none()
    }
}

/// `POST /api/v1/messages`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SendMessage {
    pub chat_id: String,
    #[serde(default)]
    pub content: String,
    #[serde(rename = "type", default)]
    pub message_type: MessageType,
    /// Idempotency key chosen by the client, unique per sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// If given, must be the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
}

/// Answer of a send: the message is durably stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SendAck {
    pub message_id: String,
    pub chat_id: String,
    pub seq: i64,
    pub status: MessageStatus,
    pub created_at: Timestamp,
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileRef {
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// Answer of `POST /api/v1/files`: the stored file. `size` and `sha256`
/// describe the bytes served (re-encoded for images).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileInfo {
    pub file_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// Reactions with one emoji on one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    pub user_ids: Vec<String>,
}

/// A message as stored, with its reactions and status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub message_id: String,
    pub chat_id: String,
    pub seq: i64,
    /// The chat's version at this message's last change (its creation, an
    /// edit, its deletion or a reaction): the change cursor.
    #[serde(default)]
    pub version: i64,
    pub sender_id: String,
    #[serde(rename = "type")]
    pub message_type: MessageType,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    pub metadata: Metadata,
    pub reactions: Vec<Reaction>,
    pub status: MessageStatus,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
}

/// `GET /api/v1/chats/{chat_id}/messages`: ascending by `seq`, or by
/// `version` when asked with `changed_after`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// More messages lie beyond this page in the direction of paging.
    pub has_more: bool,
}

/// `PATCH /api/v1/messages/{message_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EditMessage {
    pub content: String,
}

/// One member's receipt for a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
}

/// `GET /api/v1/messages/{message_id}/receipts`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptList {
    pub receipts: Vec<Receipt>,
}
