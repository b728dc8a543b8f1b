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
    /// End-to-end encrypted (MLS): direct chats and groups only. Such a
    /// chat takes only `mls` messages; a direct one is another chat than
    /// the plain direct chat of the same two users.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub e2ee: bool,
}

/// One entry of `GET /api/v1/chats`, and the body of `chat.*` events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatSummary {
    pub chat_id: String,
    #[serde(rename = "type")]
    pub chat_type: ChatType,
    /// End-to-end encrypted (MLS): only `mls` messages.
    #[serde(default)]
    pub e2ee: bool,
    /// Encrypted chats: the epoch the next Commit must be made for (the
    /// group's current epoch: 0 before any Commit, one more with each
    /// accepted one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mls_epoch: Option<i64>,
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
    /// The recipient's own marks (`pinned`, `archived`, `marked_unread`,
    /// `muted`), flattened into the summary. Absent from a `chat.updated`
    /// sent to the whole chat (a rename): they are per member.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<MyChatFlags>,
    pub created_at: Timestamp,
    /// For direct chats: the other member's id (lets clients show presence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Groups and channels: one line shown under the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Groups and channels: a signed link to the avatar's thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
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
    /// Groups and channels: the longer text of chat info (multi-line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
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

/// `PATCH /api/v1/chats/{chat_id}` with the profile fields: each one
/// absent stays as it is; `null` or `""` clears `topic`, `description` and
/// `avatar_file_id`. At least one field must be given.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateChat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Some(None)` clears (sent as `null`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// An image the caller uploaded.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub avatar_file_id: Option<Option<String>>,
}

impl UpdateChat {
    /// True if no field was given.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.topic.is_none()
            && self.description.is_none()
            && self.avatar_file_id.is_none()
    }
}

/// A field that is present, as `null` or a value: tells `null` (clear)
/// from absent (keep), which plain `Option` cannot.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
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

/// A member's own marks on a chat, as a summary shows them to that member
/// (synced across their devices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MyChatFlags {
    /// Shown on top of the list by clients.
    pub pinned: bool,
    /// Shown under "Archived"; stays archived when new messages arrive.
    pub archived: bool,
    /// Marked as unread by the member; cleared when their read marker
    /// moves.
    pub marked_unread: bool,
    /// The member's notification settings for the chat mute it now
    /// (`muted_until` in the future). Read only here: set it with
    /// `PUT /api/v1/chats/{chat_id}/notifications`.
    pub muted: bool,
}

/// `PATCH /api/v1/chats/{chat_id}/me`: the caller's own marks; each one
/// absent stays as it is, at least one must be given, other fields are
/// refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMyChat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_unread: Option<bool>,
}

impl UpdateMyChat {
    /// True if no mark is given.
    pub fn is_empty(&self) -> bool {
        self.pinned.is_none() && self.archived.is_none() && self.marked_unread.is_none()
    }
}
