//! Wire types of the MLS Delivery Service duties of encrypted chats
//! (docs/API.md, "End-to-end encryption"): posting a Commit (with its
//! Welcome and GroupInfo), pending Welcomes of a device, and a chat's
//! GroupInfo. Every MLS object is the standard base64 (with padding) of
//! its TLS encoding wrapped as an `MLSMessage` (RFC 9420 §6). The
//! KeyPackage directory's types are in `key_packages`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/chats/{chat_id}/mls/commits`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PostCommit {
    /// A PublicMessage holding a Commit for the chat's current epoch.
    pub commit: String,
    /// The Welcome for the devices the Commit adds, if it adds any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome: Option<String>,
    /// The GroupInfo of the epoch the Commit starts (kept for a device
    /// that joins by external Commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_info: Option<String>,
}

/// The answer to an accepted Commit (201): the message it was stored as,
/// and the chat's epoch now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CommitAccepted {
    pub message_id: String,
    pub seq: i64,
    pub epoch: i64,
}

/// `metadata.mls` of an `mls` message the server stored as a Commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MlsRecord {
    /// Always `"commit"` for now.
    pub kind: String,
    /// The epoch the Commit was made for (the chat is at `epoch + 1`
    /// after it).
    pub epoch: i64,
}

/// A Welcome waiting for one device: the `mls.welcome` event's fields and
/// an entry of `GET /api/v1/mls/welcomes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingWelcome {
    pub welcome_id: String,
    pub chat_id: String,
    /// The epoch the device joins at.
    pub epoch: i64,
    pub welcome: String,
}

/// `GET /api/v1/mls/welcomes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WelcomeList {
    pub welcomes: Vec<PendingWelcome>,
}

/// `GET /api/v1/chats/{chat_id}/mls/group-info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupInfo {
    /// The epoch the GroupInfo describes.
    pub epoch: i64,
    pub group_info: String,
}
