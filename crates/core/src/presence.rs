//! Presence as users see it, on top of the [`Presence`](natter_bus::Presence)
//! service: a connection opening or closing (or going away) is reported
//! to it, and a change of status is announced to everyone who shares a
//! chat of modest size with the user, and to the user's other devices.
//! `last_seen` is written when the user goes offline.
//!
//! Also the one per-node limit of this module: how many connections one
//! user may hold on this node ([`ConnectionCounts`]). It is per node on
//! purpose: it protects this process's memory and file descriptors, not
//! a cluster-wide quota.

use super::{Core, CoreError, CoreResult, now_ms};
use natter_bus::{Envelope, PresenceChange, Subject};
use natter_proto::Timestamp;
use natter_proto::events::ServerEvent;
use natter_proto::users::{Presence, PresenceStatus};
use natter_store::UserRow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Chats larger than this do not carry presence (a 5,000-member channel
/// would turn every login into 5,000 events for people who never look).
pub const PRESENCE_MAX_CHAT_MEMBERS: u32 = 256;

/// Open connections per user on this node.
#[derive(Default)]
pub struct ConnectionCounts {
    users: Mutex<HashMap<String, usize>>,
}

impl ConnectionCounts {
    /// Counts one more connection of `user_id`, unless it has `max`.
    fn open(&self, user_id: &str, max: usize) -> bool {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let count = users.entry(user_id.to_owned()).or_default();
        if *count >= max {
            return false;
        }
        *count += 1;
        true
    }

    fn close(&self, user_id: &str) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = users.get_mut(user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                users.remove(user_id);
            }
        }
    }
}

impl Core {
    /// A connection of `user_id` opened; refused beyond `max` connections
    /// of that user on this node.
    pub async fn connection_opened(&self, user_id: &str, max: usize) -> CoreResult<()> {
        if !self.connections.open(user_id, max) {
            return Err(CoreError::rejected(
                natter_proto::ErrorCode::RateLimited,
                "too many open connections for this user",
            ));
        }
        let change = self.presence.connected(user_id).await;
        self.announce_presence(user_id, change, now_ms()).await;
        Ok(())
    }

    /// A connection closed; `away` says what that connection had asked.
    pub async fn connection_closed(&self, user_id: &str, away: bool) -> CoreResult<()> {
        self.connections.close(user_id);
        let change = self.presence.disconnected(user_id, away).await;
        let now = now_ms();
        if change.after == PresenceStatus::Offline {
            self.store.set_last_seen(user_id, now).await?;
        }
        self.announce_presence(user_id, change, now).await;
        Ok(())
    }

    /// One connection switches between online and away.
    pub async fn connection_away(
        &self,
        user_id: &str,
        was_away: bool,
        away: bool,
    ) -> CoreResult<()> {
        if was_away == away {
            return Ok(());
        }
        let change = self.presence.set_away(user_id, away).await;
        self.announce_presence(user_id, change, now_ms()).await;
        Ok(())
    }

    /// A user's status changed with no connection of this node involved:
    /// the node that held their connections died, or came back after its
    /// users had expired (a cluster presence service reports this on one
    /// node only). Writes `last_seen` if they are now offline, and
    /// announces it.
    pub async fn presence_expired(&self, user_id: &str, change: PresenceChange) {
        let now = now_ms();
        if change.after == PresenceStatus::Offline
            && let Err(error) = self.store.set_last_seen(user_id, now).await
        {
            tracing::warn!(%user_id, %error, "last_seen of a dead node's user not written");
        }
        self.announce_presence(user_id, change, now).await;
    }

    /// Presence as shown in user objects, for each of `rows` in order (one
    /// lookup for all): live status, and `last_seen` of now while
    /// connected.
    pub(crate) async fn presences_of(&self, rows: &[UserRow]) -> Vec<Presence> {
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        // One status per id; should a backend answer fewer, the rest are
        // shown offline rather than dropped (callers expect one per row).
        let mut statuses = self.presence.statuses(&ids).await.into_iter();
        let now = now_ms();
        rows.iter()
            .map(|row| {
                let status = statuses.next().unwrap_or(PresenceStatus::Offline);
                let last_seen = match status {
                    PresenceStatus::Offline => row.last_seen,
                    _ => Some(now),
                };
                Presence {
                    status,
                    last_seen: last_seen.map(Timestamp),
                }
            })
            .collect()
    }

    /// Tells the user's co-members (and their other devices) of a change.
    /// A failure to find the audience is logged, not returned: the
    /// connection's own state has changed either way and must be kept in
    /// step (an error here once left a connection slot taken for good).
    async fn announce_presence(&self, user_id: &str, change: PresenceChange, now: i64) {
        if !change.changed() {
            return;
        }
        let mut audience = match self
            .store
            .co_members(user_id, PRESENCE_MAX_CHAT_MEMBERS)
            .await
        {
            Ok(audience) => audience,
            Err(error) => {
                tracing::warn!(%user_id, %error, "presence not announced: its audience is unknown");
                return;
            }
        };
        audience.push(user_id.to_owned());
        let envelope = Envelope::to_user(
            user_id,
            &ServerEvent::Presence {
                user_id: user_id.to_owned(),
                status: change.after,
                last_seen: Some(Timestamp(now)),
            },
        );
        // Encoded once, addressed to each member of the audience.
        for member in audience {
            self.bus
                .publish(envelope.readdressed(Subject::User(member)));
        }
    }
}
