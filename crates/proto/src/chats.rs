//! Chats (direct, group, channel), their members and roles.

use crate::Timestamp;
use crate::messages::Message;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The three kinds of chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatType {
    /// Exactly two members, at most one chat per pair.
    Direct,
    /// Every member posts.
    Group,
    /// Owner and admins post, members read.
    Channel,
}

impl ChatType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatType::Direct => "direct",
            ChatType::Group => "group",
            ChatType::Channel => "channel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "direct" => Some(ChatType::Direct),
            "group" => Some(ChatType::Group),
            "channel" => Some(ChatType::Channel),
            _ => None,
        }
    }
}

/// A member's role in a chat, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins manage members and the chat's name.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// `POST /api/v1/chats`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateChat {
    #[serde(rename = "type")]
    pub chat_type: ChatType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The other members (the caller is added as owner).
    #[serde(default)]
    pub member_ids: Vec<String>,
}

/// One entry of `GET /api/v1/chats`, and the body of `chat.*` events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatSummary {
    pub chat_id: String,
    #[serde(rename = "type")]
    pub chat_type: ChatType,
    /// For direct chats without a name: the other member's display name.
    pub name: Option<String>,
    /// The caller's role.
    pub role: Role,
    pub member_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    pub last_seq: i64,
    /// The chat's change cursor (see `ChatCursor::last_version`).
    #[serde(default)]
    pub last_version: i64,
    pub read_seq: i64,
    pub unread_count: i64,
    pub created_at: Timestamp,
    /// For direct chats: the other member's id (lets clients show presence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
}

/// A chat member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// `GET /api/v1/chats/{chat_id}` and the answer of create: the summary
/// plus the member list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Chat {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub members: Vec<Member>,
}

/// `GET /api/v1/chats`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChatList {
    pub chats: Vec<ChatSummary>,
}

/// `PATCH /api/v1/chats/{chat_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RenameChat {
    pub name: String,
}

/// `POST /api/v1/chats/{chat_id}/members`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AddMember {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// `POST /api/v1/chats/{chat_id}/read`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadMarker {
    pub seq: i64,
}
