//! natter's storage contract: what `core` writes and reads through, as
//! one trait per aggregate ([`Users`], [`Sessions`], [`Chats`],
//! [`Messages`], [`Reactions`], [`Markers`], [`Files`], [`Search`],
//! [`Secrets`], [`PushSubscriptions`], [`NotificationSettings`],
//! [`PushQueue`], [`HiddenMessages`], [`LinkPreviews`], [`KeyPackages`], [`MlsGroups`]) composed into [`Store`], with neutral row types and
//! [`StoreError`]. Backends (SQLite
//! in `natter-store-sqlite`, PostgreSQL in `natter-store-postgres`) implement each trait in the
//! module that owns its tables. Knows nothing of HTTP or WebSocket, and
//! little of authorization: callers decide who may do what; the one rule a
//! write checks itself is that a message's sender may post in its chat
//! ([`Messages::append`]), so that it holds at the moment of the write.
//! With the `contract` feature, `contract` holds the test suite every
//! backend runs.
//!
//! Timestamps are milliseconds since the Unix epoch (`i64`). Ids are
//! strings chosen by the caller (UUIDv7).

pub mod chats;
pub mod commits;
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod files;
pub mod hidden;
pub mod key_packages;
pub mod markers;
pub mod messages;
pub mod mls;
pub mod previews;
pub mod push;
pub mod reactions;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod users;

pub use chats::{
    ChatListRow, ChatProfile, ChatRow, ChatUpdate, Chats, CursorRow, MemberRow, NewChat,
};
pub use chats::{MemberFlags, MemberFlagsChange};
pub use commits::{CommitFeed, CommitSink, commit_channel};
pub use error::{Conflict, Outage, StoreError, StoreResult};
pub use files::{FileRow, Files};
pub use hidden::HiddenMessages;
pub use key_packages::{
    ClaimedKeyPackageRow, KeyPackageOwner, KeyPackageStock, KeyPackageUpload, KeyPackages,
    NewKeyPackage, Stocked,
};
pub use markers::{Advance, MarkerKind, Markers, ReceiptRow};
pub use messages::{
    Appended, Appending, Cursor, MessageRow, Messages, NewMessage, fits_encryption,
};
pub use mls::{MlsGroups, NewWelcome, WelcomeRow};
pub use previews::{LinkPreviewRow, LinkPreviews, PreviewImageRow};
pub use push::{
    Activation, ChatNotifyRow, DeliveryRow, NewDelivery, NewSubscription, NotificationSettings,
    NotifyLevel, PushJob, PushQueue, PushSubscriptions, RecipientSettings, Subscribed,
    SubscriptionRow, UserNotifyRow,
};
pub use reactions::{ReactionRow, Reactions};
pub use search::{Search, SearchQuery, SearchRow, SnippetPart};
pub use secrets::Secrets;
pub use sessions::{DeviceRow, RefreshOutcome, SessionOwner, Sessions};
pub use users::{NewUser, UserRow, Users, name_words, search_prefix};

use async_trait::async_trait;

/// Everything natter keeps durably. Writes are durable when a call
/// returns `Ok` (an implementation commits before answering).
#[async_trait]
pub trait Store:
    Users
    + Sessions
    + Chats
    + Messages
    + Reactions
    + Markers
    + Files
    + Search
    + Secrets
    + PushSubscriptions
    + NotificationSettings
    + PushQueue
    + HiddenMessages
    + LinkPreviews
    + MlsGroups
    + KeyPackages
    + Send
    + Sync
    + 'static
{
    /// Answers if the database can be reached (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Flushes and closes: waits for queued writes. Calls after it fail
    /// with `Unavailable`.
    async fn close(&self);
}
