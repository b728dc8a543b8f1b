//! What the server keeps of encrypted chats' MLS groups besides their
//! messages: the latest GroupInfo of each chat (for a device that joins
//! by external Commit) and the Welcomes waiting for a device. A chat's
//! epoch lives in its row ([`ChatRow::mls_epoch`](crate::ChatRow)) and
//! moves only with an appended Commit ([`NewMessage::mls_epoch`](crate::NewMessage)).
//! The server holds no key: everything here is public MLS data, kept as
//! the base64 text the client sent.

use crate::StoreResult;
use async_trait::async_trait;

/// A Welcome for one device (session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWelcome {
    pub id: String,
    pub chat_id: String,
    /// The id the Commit's message is (to be) appended with: the Welcome
    /// counts only once that message exists.
    pub message_id: String,
    pub user_id: String,
    pub session_id: String,
    /// The epoch the device joins at.
    pub epoch: i64,
    /// The Welcome, the same for every device of one Commit
    /// (`message_id`): stored once per Commit, however many devices.
    pub welcome: String,
    pub created_at: i64,
}

/// A pending Welcome as a device reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WelcomeRow {
    pub id: String,
    pub chat_id: String,
    pub epoch: i64,
    pub welcome: String,
    pub created_at: i64,
}

#[async_trait]
pub trait MlsGroups: Send + Sync {
    /// Keeps `group_info` as the chat's GroupInfo unless one of a later
    /// epoch is kept already (two posts racing leave the newest).
    async fn put_group_info(
        &self,
        chat_id: &str,
        epoch: i64,
        group_info: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// The chat's latest GroupInfo and its epoch.
    async fn group_info(&self, chat_id: &str) -> StoreResult<Option<(i64, String)>>;
    /// Stores the Welcomes in one transaction, before their Commit is
    /// appended: they are pending from the moment it is (so an accepted
    /// Commit never lacks its Welcomes, whatever crashes). Only for live
    /// sessions; a session that is revoked later loses its pending
    /// Welcomes (the schema sees to it).
    async fn add_welcomes(&self, welcomes: &[NewWelcome]) -> StoreResult<()>;
    /// Drops the Welcomes of a Commit that was not appended.
    async fn discard_welcomes(&self, message_id: &str) -> StoreResult<()>;
    /// The Welcomes waiting for `session_id` whose Commit is stored and
    /// whose user is still a member of the chat, oldest first (a removed
    /// member gets no way back into the group).
    async fn welcomes_for(&self, session_id: &str) -> StoreResult<Vec<WelcomeRow>>;
    /// Drops one of `session_id`'s Welcomes (the device has processed
    /// it); false if it has none with this id.
    async fn delete_welcome(&self, session_id: &str, welcome_id: &str) -> StoreResult<bool>;
}
