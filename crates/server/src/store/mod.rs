//! Persistence: the [`Store`] trait that `core` writes and reads through,
//! its row types and its error type. The SQLite implementation lives in
//! [`sqlite`]; a PostgreSQL one will implement the same trait. Knows
//! nothing of HTTP or WebSocket, and nothing of authorization: callers
//! (`core`) decide who may do what, the store only keeps data consistent.
//!
//! Timestamps are milliseconds since the Unix epoch (`i64`). Ids are
//! strings chosen by `core` (UUIDv7).

pub mod sqlite;

use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};
use natter_proto::events::ChatCursor;
use natter_proto::messages::{MessageType, Metadata};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (the constraint's meaning is named).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The row the call works on does not exist.
    #[error("not found")]
    NotFound,
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite writer failed (its errors come from rusqlite; see the
    /// SQLite store's `error` module for how constraint violations map).
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The write queue is gone (the server is shutting down).
    #[error("store is shutting down")]
    Closed,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Called once a new message is durable (see [`Store::queue_append`]).
pub type OnStored = Box<dyn FnOnce(&MessageRow) + Send>;

/// A queued append: resolves once the message is durable (or refused).
pub type Appending = futures_util::future::BoxFuture<'static, StoreResult<(MessageRow, bool)>>;

#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: String,
    /// Already lower-cased and validated.
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub avatar_file_id: Option<String>,
    pub created_at: i64,
    /// When the user's last connection closed; `None` if never connected.
    pub last_seen: Option<i64>,
}

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshOutcome {
    /// The token was live: it is now dead and `new_hash` is the live one.
    Rotated { session_id: String, user_id: String },
    /// The token had already been used: the whole session is now revoked.
    Reused { session_id: String },
    /// Unknown token, or its session is revoked or expired.
    Invalid,
}

#[derive(Clone, Debug)]
pub struct NewChat {
    pub id: String,
    pub chat_type: ChatType,
    pub name: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    /// For direct chats: the two user ids sorted and joined by `:`; unique,
    /// so that a pair has at most one direct chat.
    pub direct_key: Option<String>,
    /// Every member with their role (the creator included).
    pub members: Vec<(String, Role)>,
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
    /// Time of the last message, or creation; orders chat lists.
    pub last_activity_at: i64,
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
    /// Messages after `read_seq`, not sent by this user and not deleted.
    pub unread_count: i64,
    pub last_message: Option<MessageRow>,
    /// For direct chats: the other member (id, display name).
    pub peer: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct NewMessage {
    pub id: String,
    pub chat_id: String,
    pub sender_id: String,
    pub message_type: MessageType,
    pub content: String,
    pub file_id: Option<String>,
    pub metadata: Metadata,
    pub client_msg_id: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: String,
    pub chat_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub message_type: MessageType,
    /// Empty once deleted.
    pub content: String,
    /// `None` once deleted.
    pub file_id: Option<String>,
    pub metadata: Metadata,
    pub client_msg_id: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
}

/// An uploaded file's metadata (the bytes are in the blob store).
#[derive(Clone, Debug, PartialEq)]
pub struct FileRow {
    pub id: String,
    pub owner_id: String,
    /// Sanitised client file name.
    pub name: String,
    /// From the bytes; for images the re-encoded type.
    pub mime: String,
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Set when a thumbnail was stored (images).
    pub thumbnail_mime: Option<String>,
    pub created_at: i64,
}

/// Where a history page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// Messages with `seq` strictly below this one (older).
    Before(i64),
    /// Messages with `seq` strictly above this one (newer).
    After(i64),
}

/// One reaction of one user.
#[derive(Clone, Debug, PartialEq)]
pub struct ReactionRow {
    pub message_id: String,
    pub emoji: String,
    pub user_id: String,
    pub created_at: i64,
}

/// Which marker a receipt advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    Delivered,
    Read,
}

/// Chats with at most this many members hear of every marker advance of
/// every member. Announcing to all members costs members² frames per
/// message, which is nothing in a small group and lets its members show
/// "seen by" live; beyond this size only the advances that change a
/// message's `status` are announced to the chat (see [`Advance`]).
pub const ANNOUNCE_ALL_RECEIPTS_UP_TO: usize = 32;

/// A marker that moved, as [`Store::advance_marker`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advance {
    /// The new marker: the requested `seq`, clamped to the chat's
    /// `last_seq`.
    pub seq: i64,
    /// True if every member of the chat should hear of the advance: the
    /// chat has at most [`ANNOUNCE_ALL_RECEIPTS_UP_TO`] members, or the
    /// advance may change the `status` some member sees on their own
    /// messages. False if it changes nothing for anyone but the member
    /// who moved (whose other devices still need it).
    ///
    /// A message's `status` is the most advanced marker over the members
    /// other than its sender. Member U moving marker K up to S can change
    /// the status of member X's messages only if, before, no member other
    /// than X and U had K at S or beyond; hence: true if at most one
    /// member other than U has K >= S afterwards (that one may be X).
    pub broadcast: bool,
}

/// When one member's markers first reached a message.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiptRow {
    pub user_id: String,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
}

/// A search hit: the message and FTS5's snippet of its content, with the
/// matches between `\u{E000}` and `\u{E001}` (caller escapes and marks up).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchRow {
    pub message: MessageRow,
    pub snippet: String,
}

/// Everything natter keeps durably. Writes are durable when the call
/// returns `Ok` (the implementation commits before answering).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers if the database can be reached (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Flushes and closes: waits for queued writes, checkpoints.
    async fn close(&self);

    // --- users ---
    /// `Conflict("username")` if the username is taken.
    async fn create_user(&self, user: NewUser) -> StoreResult<UserRow>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>>;
    /// `username` is matched lower-cased.
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>>;
    /// Users whose username or display name starts with `prefix`
    /// (case-insensitive), ordered by username.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>>;
    /// Sets the given fields; `NotFound` if there is no such user.
    async fn update_user(
        &self,
        id: &str,
        display_name: Option<String>,
        avatar_file_id: Option<String>,
    ) -> StoreResult<UserRow>;
    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()>;

    // --- sessions ---
    /// Starts a session whose live refresh token hashes to `refresh_hash`.
    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Atomically: if `old_hash` is the live token of a live session, kill it
    /// and make `new_hash` live; if it is a used token, revoke its session.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<RefreshOutcome>;
    /// Revokes the session the token belongs to (live or used token).
    /// Returns the session id, or `None` for an unknown token.
    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<String>>;
    /// True if the session exists, is not revoked and has not expired.
    async fn session_active(&self, session_id: &str, now: i64) -> StoreResult<bool>;

    // --- chats and members ---
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
    /// member. The send path asks this for every message, so an
    /// implementation should answer it from memory when it can.
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
    async fn rename_chat(&self, chat_id: &str, name: &str) -> StoreResult<()>;
    /// Adds a member whose markers start at the chat's current `last_seq`
    /// (history before joining counts as read). `Conflict("member")` if
    /// already a member.
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
    /// `read_seq` (the WebSocket `ready` frame); one cheap query.
    async fn chat_cursors(&self, user_id: &str) -> StoreResult<Vec<ChatCursor>>;
    /// The distinct other members of the chats of `user_id` that have at
    /// most `max_members` members (who sees this user's presence).
    async fn co_members(&self, user_id: &str, max_members: u32) -> StoreResult<Vec<String>>;

    // --- messages ---
    /// Assigns the next `seq` and stores the message in one transaction,
    /// advancing the chat's `last_seq`/`last_activity_at` and the sender's
    /// read and delivered markers. If the sender already sent this
    /// `client_msg_id`, returns that message and `false`, storing nothing.
    async fn append_message(&self, message: NewMessage) -> StoreResult<(MessageRow, bool)> {
        self.queue_append(message, Box::new(|_| {})).await?.await
    }
    /// As [`append_message`](Store::append_message), in two steps: returns
    /// once the append is queued, with the future of its outcome. Appends
    /// queued one after the other are stored in that order (their `seq`s
    /// follow it), so a connection can have several sends in flight and
    /// still keep its messages in the order it sent them.
    ///
    /// `on_stored` is called with the message once it is durable, if it is
    /// new: in commit order (so in `seq` order within a chat), and even if
    /// the returned future is dropped. It must be quick and not block.
    async fn queue_append(
        &self,
        message: NewMessage,
        on_stored: OnStored,
    ) -> StoreResult<Appending>;
    async fn message(&self, message_id: &str) -> StoreResult<Option<MessageRow>>;
    /// A page in ascending `seq` order, and whether more lie beyond it in
    /// the paging direction. `message_type` filters when given.
    async fn list_messages(
        &self,
        chat_id: &str,
        cursor: Cursor,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)>;
    /// Sets content and `edited_at`; `NotFound` if missing or deleted.
    async fn edit_message(
        &self,
        message_id: &str,
        content: &str,
        now: i64,
    ) -> StoreResult<MessageRow>;
    /// Makes a tombstone: empty content, no file, no reactions,
    /// `deleted`; `NotFound` if missing or already deleted.
    async fn delete_message(&self, message_id: &str, now: i64) -> StoreResult<MessageRow>;
    /// Returns false if the reaction already existed.
    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Returns false if there was no such reaction.
    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
    ) -> StoreResult<bool>;
    /// Reactions of these messages, oldest first.
    async fn reactions(&self, message_ids: &[String]) -> StoreResult<Vec<ReactionRow>>;

    // --- markers and receipts ---
    /// Moves a member's marker forward to `min(seq, chat.last_seq)` (never
    /// back; a read marker also moves the delivered marker). Returns the
    /// new marker and who should hear of it (see [`Advance::broadcast`],
    /// decided on the markers as they are right after this advance, so of
    /// concurrent advances to one seq only the first ones broadcast) if
    /// it moved; `None` if it did not or if not a member. Must stay cheap
    /// in chats of thousands of members: it runs for every ack.
    async fn advance_marker(
        &self,
        chat_id: &str,
        user_id: &str,
        kind: MarkerKind,
        seq: i64,
        now: i64,
    ) -> StoreResult<Option<Advance>>;
    /// For each member other than `sender_id`, when their delivered and
    /// read markers first reached `seq`.
    async fn receipts(
        &self,
        chat_id: &str,
        seq: i64,
        sender_id: &str,
    ) -> StoreResult<Vec<ReceiptRow>>;

    // --- files ---
    async fn create_file(&self, file: FileRow) -> StoreResult<()>;
    async fn file(&self, file_id: &str) -> StoreResult<Option<FileRow>>;
    /// The files among these ids (any order; unknown ids are skipped).
    async fn files(&self, file_ids: &[String]) -> StoreResult<Vec<FileRow>>;
    /// True if a live message of a chat `user_id` is a member of refers
    /// to the file, or the file is someone's avatar. (Owners are checked
    /// by the caller.)
    async fn file_visible_to(&self, file_id: &str, user_id: &str) -> StoreResult<bool>;
    /// Bytes of all files `owner_id` uploaded.
    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64>;
    /// Files created before `created_before` that no message (live or
    /// tombstone) and no avatar refers to, oldest first.
    async fn orphan_files(&self, created_before: i64, limit: u32) -> StoreResult<Vec<FileRow>>;
    /// Deletes the row unless a message or an avatar refers to it (again);
    /// true if it was deleted (then, and only then, drop its bytes).
    async fn delete_file(&self, file_id: &str) -> StoreResult<bool>;

    // --- search ---
    /// Full-text search over non-deleted messages of the chats `user_id`
    /// is a member of now (or just `chat_id`), best match first. `query`
    /// is a ready FTS5 MATCH expression.
    async fn search_messages(
        &self,
        user_id: &str,
        query: &str,
        chat_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchRow>>;
}
