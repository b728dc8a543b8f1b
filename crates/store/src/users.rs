//! Accounts: who exists, their profile, their password hash and when
//! they were last seen.

use crate::StoreResult;
use async_trait::async_trait;

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

#[async_trait]
pub trait Users: Send + Sync {
    /// `Conflict(Username)` if the username is taken.
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
    /// Unknown users are ignored.
    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()>;
}
