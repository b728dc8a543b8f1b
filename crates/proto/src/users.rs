//! User profiles and presence.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Presence state of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    Offline,
}

/// Presence of a user: `last_seen` is when the last connection closed, or
/// now while online.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Presence {
    pub status: PresenceStatus,
    pub last_seen: Option<Timestamp>,
}

/// A user as others see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    pub presence: Presence,
}

/// `PATCH /api/v1/users/me`: absent fields stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateMe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_file_id: Option<String>,
}

/// `GET /api/v1/users?q=`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}
