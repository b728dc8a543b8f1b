//! Presence: `online` while any connection of a user is open and not
//! away, `away` when every open connection asked for it, `offline` with
//! `last_seen` when the last one closes. Kept in memory only; `last_seen`
//! is written on disconnect. Changes go to everyone who shares a chat of
//! modest size with the user, and to the user's other devices.

use super::{Core, CoreError, CoreResult, now_ms};
use natter_bus::{Envelope, Target};
use natter_proto::Timestamp;
use natter_proto::events::ServerEvent;
use natter_proto::users::{Presence, PresenceStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Chats larger than this do not carry presence (a 5,000-member channel
/// would turn every login into 5,000 events for people who never look).
pub const PRESENCE_MAX_CHAT_MEMBERS: u32 = 256;

#[derive(Clone, Copy, Debug, Default)]
struct Connections {
    online: u32,
    away: u32,
}

impl Connections {
    fn status(self) -> PresenceStatus {
        if self.online > 0 {
            PresenceStatus::Online
        } else if self.away > 0 {
            PresenceStatus::Away
        } else {
            PresenceStatus::Offline
        }
    }
}

/// Open connections per user on this node.
#[derive(Default)]
pub struct PresenceTracker {
    users: Mutex<HashMap<String, Connections>>,
}

impl PresenceTracker {
    /// Applies `change` to a user's counts; returns (before, after).
    fn update(
        &self,
        user_id: &str,
        change: impl FnOnce(&mut Connections),
    ) -> (PresenceStatus, PresenceStatus) {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = users.entry(user_id.to_owned()).or_default();
        let before = entry.status();
        change(entry);
        let after = entry.status();
        if after == PresenceStatus::Offline {
            users.remove(user_id);
        }
        (before, after)
    }

    /// The live status of a user on this node.
    pub fn status(&self, user_id: &str) -> PresenceStatus {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        users.get(user_id).copied().unwrap_or_default().status()
    }

    fn connections(&self, user_id: &str) -> u32 {
        let users = self
            .users
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        users
            .get(user_id)
            .map_or(0, |counts| counts.online + counts.away)
    }
}

impl Core {
    /// A connection of `user_id` opened; refused beyond `max` connections.
    pub async fn connection_opened(&self, user_id: &str, max: usize) -> CoreResult<()> {
        if self.presence.connections(user_id) as usize >= max {
            return Err(CoreError::rejected(
                natter_proto::ErrorCode::RateLimited,
                "too many open connections for this user",
            ));
        }
        let (before, after) = self.presence.update(user_id, |counts| counts.online += 1);
        self.announce_presence(user_id, before, after, now_ms())
            .await
    }

    /// A connection closed; `away` says what that connection had asked.
    pub async fn connection_closed(&self, user_id: &str, away: bool) -> CoreResult<()> {
        let (before, after) = self.presence.update(user_id, |counts| {
            let count = if away {
                &mut counts.away
            } else {
                &mut counts.online
            };
            *count = count.saturating_sub(1);
        });
        let now = now_ms();
        if after == PresenceStatus::Offline {
            self.store.set_last_seen(user_id, now).await?;
        }
        self.announce_presence(user_id, before, after, now).await
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
        let (before, after) = self.presence.update(user_id, |counts| {
            if away {
                counts.online = counts.online.saturating_sub(1);
                counts.away += 1;
            } else {
                counts.away = counts.away.saturating_sub(1);
                counts.online += 1;
            }
        });
        self.announce_presence(user_id, before, after, now_ms())
            .await
    }

    /// Presence as shown in user objects: live status, and `last_seen`
    /// of now while connected.
    pub(crate) fn presence_of(&self, user_id: &str, stored_last_seen: Option<i64>) -> Presence {
        let status = self.presence.status(user_id);
        let last_seen = match status {
            PresenceStatus::Offline => stored_last_seen,
            _ => Some(now_ms()),
        };
        Presence {
            status,
            last_seen: last_seen.map(Timestamp),
        }
    }

    async fn announce_presence(
        &self,
        user_id: &str,
        before: PresenceStatus,
        after: PresenceStatus,
        now: i64,
    ) -> CoreResult<()> {
        if before == after {
            return Ok(());
        }
        let mut audience = self
            .store
            .co_members(user_id, PRESENCE_MAX_CHAT_MEMBERS)
            .await?;
        audience.push(user_id.to_owned());
        self.bus.publish(Envelope {
            target: Target::Users(Arc::from(audience)),
            event: Arc::new(ServerEvent::Presence {
                user_id: user_id.to_owned(),
                status: after,
                last_seen: Some(Timestamp(now)),
            }),
        });
        Ok(())
    }
}
