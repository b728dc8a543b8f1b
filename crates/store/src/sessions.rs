//! Sessions and their refresh tokens (stored as hashes only), with
//! rotation and reuse detection.

use crate::StoreResult;
use async_trait::async_trait;

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshOutcome {
    /// The token was live: it is now dead and the new hash is the live one.
    Rotated { session_id: String, user_id: String },
    /// The token had already been used: the whole session is now revoked.
    Reused { session_id: String, user_id: String },
    /// Unknown token, or its session is revoked or expired.
    Invalid,
}

/// A live session as its user sees it: a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    pub session_id: String,
    pub name: String,
    pub created_at: i64,
    /// The last login, refresh or socket opened with it.
    pub last_seen_at: i64,
}

/// A session and the user it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOwner {
    pub session_id: String,
    pub user_id: String,
}

#[async_trait]
pub trait Sessions: Send + Sync {
    /// Starts a session whose live refresh token hashes to `refresh_hash`.
    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        device_name: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Atomically: if `old_hash` is the live token of a live session, kill it
    /// and make `new_hash` live (the session's expiry moves to
    /// `expires_at`, its `last_seen_at` to `now`); if it is a used token,
    /// revoke its session.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<RefreshOutcome>;
    /// Revokes the session the token belongs to (live or used token).
    /// Returns the session and its user, or `None` for an unknown token.
    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<SessionOwner>>;
    /// The user of the session if it exists, is not revoked and has not
    /// expired (a token naming the session must name this user too).
    async fn active_session_user(&self, session_id: &str, now: i64) -> StoreResult<Option<String>>;
    /// The user's live sessions (not revoked, not expired at `now`),
    /// oldest first.
    async fn devices(&self, user_id: &str, now: i64) -> StoreResult<Vec<DeviceRow>>;
    /// Renames one of the user's live sessions; `None` if it has none by
    /// that id.
    async fn rename_device(
        &self,
        user_id: &str,
        session_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Option<DeviceRow>>;
    /// Revokes one of the user's live sessions and deletes its push
    /// subscriptions (with their queued deliveries), in one transaction;
    /// false if it had no live session by that id.
    async fn revoke_device(&self, user_id: &str, session_id: &str, now: i64) -> StoreResult<bool>;
    /// Revokes every session of the user but `keep_session_id` (a
    /// password change ends the others) and deletes their push
    /// subscriptions with their queued deliveries, in one transaction.
    /// Returns the ids of the sessions it revoked (expired ones included:
    /// nothing of theirs may linger), in no particular order.
    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep_session_id: &str,
    ) -> StoreResult<Vec<String>>;
    /// Records that the session was used at `now` (a socket opened).
    async fn touch_session(&self, session_id: &str, now: i64) -> StoreResult<()>;
}
