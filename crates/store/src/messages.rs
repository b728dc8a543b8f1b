//! Messages: appending with a per-chat gap-free `seq` and idempotent
//! retries, lookups, history pages, edits and tombstones, and the change
//! cursor: every change to a chat's messages (a new message, an edit, a
//! deletion, a reaction added or removed) raises the chat's
//! `last_version` and gives the message that version, so a reader can ask
//! for everything changed since the version it holds.

use crate::StoreResult;
use async_trait::async_trait;
use natter_proto::messages::{MessageType, Metadata};

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
    /// If set, the append also queues a push job for the message in the
    /// same transaction (see [`PushQueue`](crate::PushQueue)); a retry
    /// that finds the original (`Appended::Existing`) queues nothing.
    pub owes_push: bool,
    /// A precondition for an MLS Commit: the epoch the chat must be at.
    /// The append checks it and raises the chat's `mls_epoch` by one in
    /// the same transaction as it stores the message, or stores nothing
    /// and answers [`Appended::StaleEpoch`]; so of two Commits for one
    /// epoch exactly one is stored.
    pub mls_epoch: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: String,
    pub chat_id: String,
    pub seq: i64,
    /// The chat's `last_version` when this message last changed (its
    /// append, an edit, its deletion, a reaction).
    pub version: i64,
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

/// What appending a message did.
#[derive(Clone, Debug, PartialEq)]
pub enum Appended {
    /// Stored now, with its `seq`; reported to the commit sink too.
    New(MessageRow),
    /// The sender already sent this `client_msg_id`: the original, and
    /// nothing was stored.
    Existing(MessageRow),
    /// The sender is not a member of the chat (or there is no such chat).
    NotMember,
    /// The sender is a member who may not post here (a plain member of a
    /// channel).
    ReadOnly,
    /// The message's kind does not fit the chat's encryption: an
    /// end-to-end encrypted chat (`e2ee`) takes only `mls` messages (and
    /// the server's `call` entries), a plain one no `mls` message.
    Encryption { e2ee: bool },
    /// [`NewMessage::mls_epoch`] was given and the chat is at another
    /// epoch, `current`. Nothing was stored.
    StaleEpoch { current: i64 },
}

/// The rule of [`Appended::Encryption`]: an end-to-end encrypted chat
/// takes `mls` messages and the server's `call` entries, a plain chat
/// anything but `mls`. Every backend applies it inside its append.
pub fn fits_encryption(e2ee: bool, message_type: MessageType) -> bool {
    if e2ee {
        matches!(message_type, MessageType::Mls | MessageType::Call)
    } else {
        message_type != MessageType::Mls
    }
}

/// A queued append: resolves once the message is durable (or refused).
pub type Appending = futures_util::future::BoxFuture<'static, StoreResult<Appended>>;

#[async_trait]
pub trait Messages: Send + Sync {
    /// Assigns the next `seq` and stores the message in one transaction,
    /// advancing the chat's `last_seq`/`last_activity_at` and the sender's
    /// read and delivered markers. This is the authorization point of
    /// sending: the sender's membership and role are checked inside the
    /// same transaction (so a member removed a moment ago, by any
    /// process, cannot post), before the `client_msg_id` is looked at;
    /// then the chat's encryption ([`Appended::Encryption`]); a retry of
    /// a stored message answers it before the epoch precondition is
    /// looked at ([`Appended::StaleEpoch`]).
    async fn append_message(&self, message: NewMessage) -> StoreResult<Appended> {
        self.queue_append(message).await?.await
    }
    /// As [`append_message`](Messages::append_message), in two steps:
    /// returns once the append is queued, with the future of its outcome.
    /// Appends queued one after the other are stored in that order (their
    /// `seq`s follow it), so a connection can have several sends in flight
    /// and still keep its messages in the order it sent them. A new message
    /// goes to the store's [`CommitSink`](crate::CommitSink) once durable,
    /// whether or not the returned future is still awaited.
    async fn queue_append(&self, message: NewMessage) -> StoreResult<Appending>;
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
    /// Messages of the chat whose `version` is above `after_version`, in
    /// ascending `version` order (tombstones included), and whether more
    /// lie beyond the page. `message_type` filters when given.
    async fn changed_messages(
        &self,
        chat_id: &str,
        after_version: i64,
        limit: u32,
        message_type: Option<MessageType>,
    ) -> StoreResult<(Vec<MessageRow>, bool)>;
    /// Sets content and `edited_at` and a new version; `NotFound` if
    /// missing or deleted.
    async fn edit_message(
        &self,
        message_id: &str,
        content: &str,
        now: i64,
    ) -> StoreResult<MessageRow>;
    /// Makes a tombstone with a new version: empty content, no file, no
    /// reactions, `deleted`; `NotFound` if missing or already deleted.
    async fn delete_message(&self, message_id: &str, now: i64) -> StoreResult<MessageRow>;
}
