//! Messages: appending with a per-chat gap-free `seq` and idempotent
//! retries, lookups, history pages, edits and tombstones.

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

/// Called once a new message is durable (see [`Messages::queue_append`]).
pub type OnStored = Box<dyn FnOnce(&MessageRow) + Send>;

/// A queued append: resolves once the message is durable (or refused),
/// with the message and whether it is new.
pub type Appending = futures_util::future::BoxFuture<'static, StoreResult<(MessageRow, bool)>>;

#[async_trait]
pub trait Messages: Send + Sync {
    /// Assigns the next `seq` and stores the message in one transaction,
    /// advancing the chat's `last_seq`/`last_activity_at` and the sender's
    /// read and delivered markers. If the sender already sent this
    /// `client_msg_id`, returns that message and `false`, storing nothing.
    /// `NotFound` if the chat does not exist.
    async fn append_message(&self, message: NewMessage) -> StoreResult<(MessageRow, bool)> {
        self.queue_append(message, Box::new(|_| {})).await?.await
    }
    /// As [`append_message`](Messages::append_message), in two steps:
    /// returns once the append is queued, with the future of its outcome.
    /// Appends queued one after the other are stored in that order (their
    /// `seq`s follow it), so a connection can have several sends in flight
    /// and still keep its messages in the order it sent them.
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
}
