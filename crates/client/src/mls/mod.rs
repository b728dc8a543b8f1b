//! End-to-end encryption (MLS, RFC 9420) for one natter device.
//!
//! [`Device`] is the device's MLS client: its credential
//! `"<user_id>:<device_id>"`, KeyPackages for the server's directory, one
//! MLS group per encrypted chat (group id = the chat id, ciphersuite
//! 0x0001), Commits adding and removing devices, Welcomes, encryption and
//! the processing of what the server relays, all saved under a directory
//! the caller gives after every change. It does no I/O but that file:
//! the HTTP calls of the MLS endpoints (`api.rs`), [`EncryptedChats`]
//! keeping a device in step with the server (`session.rs`) and changing
//! groups through it (`membership.rs`) live beside it.
//!
//! The server is only the Delivery Service: it orders Commits (one per
//! epoch) and relays ciphertext; it never holds a key. What a device
//! cannot do here, honestly: read anything sent before it joined, or
//! anything after it was removed.

mod api;
#[cfg(feature = "cli")]
pub mod cli;
mod codec;
mod device;
mod groups;
mod joins;
mod membership;
mod messages;
mod session;
mod state_file;
#[cfg(test)]
mod tests;

pub use codec::{CIPHERSUITE, decode, encode, identity, parse_identity};
pub use device::Device;
pub use groups::CommitBundle;
pub use joins::Joined;
pub use membership::{CreatedChat, MAX_COMMIT_ATTEMPTS};
pub use messages::Incoming;
pub use session::{EncryptedChats, KEY_PACKAGES_LOW, KEY_PACKAGES_TARGET};
pub use state_file::ChatCursor;

use openmls::prelude::*;

/// Epochs whose keys a device keeps after moving on, so that messages
/// sent just before a Commit (by members who had not seen it yet) still
/// decrypt. More keeps more old keys around (less forward secrecy).
pub const MAX_PAST_EPOCHS: usize = 5;

/// Why an MLS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MlsError {
    /// Not base64, not an `MLSMessage`, or not the kind expected.
    #[error("bad MLS data: {0}")]
    Codec(String),
    /// The state directory cannot be read or written, or is damaged.
    #[error("device state: {0}")]
    State(String),
    /// openmls refused the operation.
    #[error("{0}")]
    Protocol(String),
    /// This device has no group for the chat (yet: its Welcome may still
    /// be on the way).
    #[error("this device is not in the group of chat {0}")]
    NoGroup(String),
    /// The operation makes no sense in this state (given why).
    #[error("{0}")]
    Refused(String),
    /// A call to the server failed.
    #[error(transparent)]
    Api(#[from] crate::ClientError),
}

impl MlsError {
    /// An openmls error, with what was being done.
    pub(crate) fn protocol(context: &str, error: impl std::fmt::Debug) -> MlsError {
        MlsError::Protocol(format!("{context}: {error:?}"))
    }
}

/// A decrypted message of an encrypted chat.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub chat_id: String,
    pub message_id: String,
    pub seq: i64,
    /// The sender as the server says and the MLS signature confirms
    /// (messages where the two differ are not delivered as messages).
    pub sender_id: String,
    /// The sending device, from its MLS credential.
    pub device_id: String,
    /// The plaintext (UTF-8; invalid sequences replaced).
    pub text: String,
    pub created_at: natter_proto::Timestamp,
}

/// What catching up with the server gave, for the person using the device.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// A message, decrypted.
    Message(Received),
    /// This device joined a chat's group from a Welcome.
    Joined { chat_id: String, epoch: u64 },
    /// Another device's Commit changed the group (devices added or
    /// removed): it is at `epoch` now.
    Epoch { chat_id: String, epoch: u64 },
    /// This device was removed from the chat's group.
    Removed { chat_id: String },
    /// A message (or, without `seq`, a Welcome) this device cannot read,
    /// and why: sent before it joined, after it left, or damaged.
    Unreadable {
        chat_id: String,
        seq: Option<i64>,
        reason: String,
    },
}

pub(crate) fn device_missing(chat_id: &str) -> MlsError {
    MlsError::NoGroup(chat_id.to_owned())
}

/// How a device takes part in groups it joins (from a Welcome or by
/// external Commit): the same as those it creates.
pub(crate) fn join_config() -> MlsGroupJoinConfig {
    groups::create_config().join_config().clone()
}
