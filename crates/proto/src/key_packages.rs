//! The MLS KeyPackage directory: each device uploads KeyPackages (RFC 9420
//! §10) so that others can add it to encrypted chats, and anyone starting
//! such a chat claims one per device of each member. Every KeyPackage
//! crosses the API as standard base64 of a TLS-encoded `MLSMessage`
//! (wire format `mls_key_package`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/mls/key-packages`: KeyPackages of the calling device.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UploadKeyPackages {
    /// Ordinary KeyPackages, each handed out at most once (up to 100 per
    /// request; none may carry the `last_resort` extension).
    #[serde(default)]
    pub key_packages: Vec<String>,
    /// A KeyPackage carrying the `last_resort` extension, handed out
    /// (and kept) when the device has no ordinary one left. Replaces the
    /// device's previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_resort: Option<String>,
}

/// `GET` and `POST /api/v1/mls/key-packages`: what the calling device has
/// in the directory, so that its client knows when to upload more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyPackageCount {
    /// Ordinary KeyPackages not yet claimed.
    pub count: u32,
    /// Whether the device has a last-resort KeyPackage.
    pub last_resort: bool,
}

/// One device's KeyPackage, as a claim hands it out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClaimedKeyPackage {
    /// The device (session) the KeyPackage belongs to.
    pub device_id: String,
    /// Base64 `MLSMessage` holding the KeyPackage, as uploaded.
    pub key_package: String,
    /// True when the device had no ordinary KeyPackage left and this is
    /// its last-resort one (which others may be handed too).
    pub last_resort: bool,
}

/// `POST /api/v1/users/{user_id}/key-packages/claim`: one KeyPackage per
/// live device of the user that has one.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClaimedKeyPackages {
    /// Oldest device first; devices with no KeyPackage left (nor a
    /// last-resort one) and the calling device are left out, so this may
    /// be empty.
    pub key_packages: Vec<ClaimedKeyPackage>,
}
