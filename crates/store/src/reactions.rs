//! Reactions: one per (message, user, emoji). Adding twice or removing
//! what is not there changes nothing and is no error, so retries are
//! harmless; a change gives the message a new version (see `messages`);
//! tombstones lose their reactions.

use crate::StoreResult;
use async_trait::async_trait;

/// One reaction of one user.
#[derive(Clone, Debug, PartialEq)]
pub struct ReactionRow {
    pub message_id: String,
    pub emoji: String,
    pub user_id: String,
    pub created_at: i64,
}

#[async_trait]
pub trait Reactions: Send + Sync {
    /// The message's new version, or `None` if the reaction already
    /// existed (nothing changed); `NotFound` if the message is missing or
    /// deleted.
    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: i64,
    ) -> StoreResult<Option<i64>>;
    /// The message's new version, or `None` if there was no such reaction.
    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
    ) -> StoreResult<Option<i64>>;
    /// Reactions of these messages, oldest first.
    async fn reactions(&self, message_ids: &[String]) -> StoreResult<Vec<ReactionRow>>;
}
