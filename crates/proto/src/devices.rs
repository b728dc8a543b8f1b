//! Devices: every login is one (a session), listed, renamed and removed by
//! its user.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One of the caller's live sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    /// The session id (`ready.session_id` on its sockets).
    pub device_id: String,
    /// As given at login (`device_name`) or renamed since; may be empty.
    pub name: String,
    pub created_at: Timestamp,
    /// The last login, token refresh or socket opened with it.
    pub last_seen_at: Timestamp,
    /// True for the device making this call.
    pub current: bool,
}

/// `GET /api/v1/devices`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    pub devices: Vec<Device>,
}

/// `PATCH /api/v1/devices/{device_id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RenameDevice {
    /// 1 to 64 characters.
    pub name: String,
}

/// `DELETE /api/v1/devices/{device_id}`: the account's password, so that a
/// stolen session cannot sign the owner out everywhere.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RemoveDevice {
    /// Missing counts as wrong (401).
    #[serde(default)]
    pub password: String,
}
