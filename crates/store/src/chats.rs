//! Chats and their members: creation (at most one direct chat per pair),
//! lookups, the chat list, renaming, joining and leaving, and the reads
//! real-time sessions need (cursors, presence audience). Who may do what
//! is the caller's to decide.

use crate::StoreResult;
use crate::messages::MessageRow;
use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};

#[derive(Clone, Debug)]
pub struct NewChat {
    pub id: String,
    pub chat_type: ChatType,
    pub name: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// For direct chats: the two user ids sorted and joined by `:` (and
    /// `:e2ee` after them for an encrypted one); unique, so that a pair has
    /// at most one direct chat of each kind.
    pub direct_key: Option<String>,
    /// Every member with their role (the creator included).
    pub members: Vec<(String, Role)>,
    /// End-to-end encrypted (MLS): only `mls` messages (see
    /// [`Messages::queue_append`](crate::Messages::queue_append)).
    pub e2ee: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatRow {
    pub id: String,
    pub chat_type: ChatType,
    pub name: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// Highest `seq` assigned in this chat (0 when empty).
    pub last_seq: i64,
    /// The version of the chat's latest change to a message (0 when none).
    pub last_version: i64,
    /// Time of the last message, or creation; orders chat lists.
    pub last_activity_at: i64,
    /// Topic, description and avatar (groups and channels).
    pub profile: ChatProfile,
    /// End-to-end encrypted (MLS). Set at creation, never changed.
    pub e2ee: bool,
    /// Encrypted chats: the MLS epoch, raised by one with each accepted
    /// Commit (see [`NewMessage::mls_epoch`](crate::NewMessage::mls_epoch));
    /// 0 before any, and for plain chats.
    pub mls_epoch: i64,
}

/// What a group or channel says about itself besides its name; all empty
/// for direct chats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatProfile {
    pub topic: Option<String>,
    pub description: Option<String>,
    /// An image file; kept from the orphan sweep and readable by members.
    pub avatar_file_id: Option<String>,
}

/// A change to a chat's name and profile: `None` keeps a field,
/// `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatUpdate {
    pub name: Option<String>,
    pub topic: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub avatar_file_id: Option<Option<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    pub chat_id: String,
    pub user_id: String,
    pub role: Role,
    pub joined_at: i64,
    /// Read marker: every message up to this `seq` is read by this member.
    pub read_seq: i64,
    /// Delivered marker: every message up to this `seq` reached a device.
    pub delivered_seq: i64,
}

/// One entry of a user's chat list.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatListRow {
    pub chat: ChatRow,
    pub role: Role,
    pub member_count: u32,
    pub read_seq: i64,
    /// Messages after `read_seq`, not sent by this user, not deleted and
    /// not MLS Commits (they change the group, they say nothing).
    pub unread_count: i64,
    pub last_message: Option<MessageRow>,
    /// For direct chats: the other member (id, display name).
    pub peer: Option<(String, String)>,
    /// This user's own marks on the chat.
    pub flags: MemberFlags,
    /// This user's `muted_until` for the chat (notification settings).
    pub muted_until: Option<i64>,
}

/// A member's own marks on a chat, kept with their membership (so they
/// end with it) and shown on every device of theirs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberFlags {
    pub pinned: bool,
    pub archived: bool,
    /// Cleared by the store whenever the member's read marker moves.
    pub marked_unread: bool,
}

/// A change to [`MemberFlags`]: `None` keeps a mark as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberFlagsChange {
    pub pinned: Option<bool>,
    pub archived: Option<bool>,
    pub marked_unread: Option<bool>,
}

/// Where one of a user's chats stands (the WebSocket `ready` frame).
#[derive(Clone, Debug, PartialEq)]
pub struct CursorRow {
    pub chat_id: String,
    pub last_seq: i64,
    pub last_version: i64,
    /// The user's read marker.
    pub read_seq: i64,
}

#[async_trait]
pub trait Chats: Send + Sync {
    /// Creates the chat with its members. For a direct chat whose
    /// `direct_key` exists, returns the existing chat and `false`.
    async fn create_chat(&self, chat: NewChat) -> StoreResult<(ChatRow, bool)>;
    async fn chat(&self, chat_id: &str) -> StoreResult<Option<ChatRow>>;
    async fn member(&self, chat_id: &str, user_id: &str) -> StoreResult<Option<MemberRow>>;
    /// The chat and `user_id`'s membership in one read; `None` if not a
    /// member.
    async fn membership(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatRow, MemberRow)>>;
    /// `user_id`'s role in the chat and the chat's type; `None` if not a
    /// member. Read from the database as it is now (never from a cache
    /// that another process could leave stale).
    async fn member_role(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatType, Role)>>;
    /// All members, oldest first.
    async fn members(&self, chat_id: &str) -> StoreResult<Vec<MemberRow>>;
    /// The chats `user_id` belongs to, most recently active first.
    async fn chats_for_user(&self, user_id: &str) -> StoreResult<Vec<ChatListRow>>;
    /// One entry of `user_id`'s chat list; `None` if not a member.
    async fn chat_for_user(&self, chat_id: &str, user_id: &str)
    -> StoreResult<Option<ChatListRow>>;
    /// Applies `change` to `user_id`'s marks on the chat and returns them
    /// as they are now; `None` if not a member.
    async fn set_member_flags(
        &self,
        chat_id: &str,
        user_id: &str,
        change: MemberFlagsChange,
    ) -> StoreResult<Option<MemberFlags>>;
    /// Changes the given fields of the name and profile in one write;
    /// `NotFound` if there is no such chat.
    async fn update_chat(&self, chat_id: &str, update: &ChatUpdate) -> StoreResult<()>;
    /// Adds a member whose markers start at the chat's current `last_seq`
    /// (history before joining counts as read). `Conflict(Member)` if
    /// already a member, `NotFound` if the chat or user does not exist.
    async fn add_member(
        &self,
        chat_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<MemberRow>;
    /// Returns false if `user_id` was not a member.
    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<bool>;
    /// Each chat of `user_id` with its `last_seq` and the user's
    /// `read_seq`, most recently active first; one cheap query.
    async fn chat_cursors(&self, user_id: &str) -> StoreResult<Vec<CursorRow>>;
    /// The distinct other members of the chats of `user_id` that have at
    /// most `max_members` members (who sees this user's presence).
    async fn co_members(&self, user_id: &str, max_members: u32) -> StoreResult<Vec<String>>;
    /// Where each existing chat among `chat_ids` stands: `(chat_id,
    /// last_seq, last_version)`, in no particular order; unknown ids are
    /// left out. One query whatever the number of ids (a cluster's
    /// routers ask for many chats at once to learn what they missed).
    async fn chat_positions(&self, chat_ids: &[String]) -> StoreResult<Vec<(String, i64, i64)>>;
}
