//! Presence: who is online, cluster-wide in principle. A user is `online`
//! while any of their connections is open and not away, `away` when every
//! open connection asked for it, `offline` when none is open. Nodes tell
//! the presence service about their connections; anyone asks it about
//! users, many at a time.
//!
//! [`LocalPresence`] counts the connections of this process (embedded
//! mode); a cluster implementation keeps heartbeated entries with a time
//! to live instead, so that a dead node's users go offline by themselves,
//! and reports those changes (and any other change no local connection
//! caused) through [`Presence::departures`].

use async_trait::async_trait;
use natter_proto::users::PresenceStatus;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use tokio::sync::mpsc::UnboundedReceiver;

/// A user's status before and after a change of their connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceChange {
    pub before: PresenceStatus,
    pub after: PresenceStatus,
}

impl PresenceChange {
    /// True if the status changed (and is worth announcing).
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// Who is online.
#[async_trait]
pub trait Presence: Send + Sync + 'static {
    /// A connection of `user_id` opened (online, not away).
    async fn connected(&self, user_id: &str) -> PresenceChange;
    /// A connection of `user_id` closed; `away` is what it had asked for.
    async fn disconnected(&self, user_id: &str, away: bool) -> PresenceChange;
    /// One open connection of `user_id` switched to away or back.
    async fn set_away(&self, user_id: &str, away: bool) -> PresenceChange;
    /// The status of each of `user_ids`, in the same order: one call for
    /// a page of users, however many.
    async fn statuses(&self, user_ids: &[String]) -> Vec<PresenceStatus>;
    /// Every change of status that no local connection caused, as
    /// `(user_id, change)`; despite the name, not only departures. In a
    /// cluster: the users of a node that died (or left) whose
    /// cluster-wide status changed once its entries expired, and the
    /// users of such a node that came back afterwards (paused or cut off
    /// that long) whose status its return changed, `after` online or
    /// away. Each such change is reported by exactly one live node, so
    /// the caller announces it and writes `last_seen` (when `after` is
    /// offline) as it does for [`disconnected`](Presence::disconnected),
    /// once for the cluster.
    ///
    /// Handed out once: the first call may return the receiver, every
    /// later call returns `None`. `None` also means there are no such
    /// changes (one process: every change is a local connection's), which
    /// is what implementations that do not override this return.
    fn departures(&self) -> Option<UnboundedReceiver<(String, PresenceChange)>> {
        None
    }
}

/// One user's open connections on one node, and what they add up to:
/// the counting every presence implementation shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connections {
    online: u32,
    away: u32,
}

impl Connections {
    /// `online` if any connection is, `away` if every open one asked for
    /// it, `offline` if none is open.
    pub fn status(self) -> PresenceStatus {
        if self.online > 0 {
            PresenceStatus::Online
        } else if self.away > 0 {
            PresenceStatus::Away
        } else {
            PresenceStatus::Offline
        }
    }

    /// A connection opened (online, not away).
    pub fn opened(&mut self) {
        self.online += 1;
    }

    /// A connection closed; `away` is what it had asked for.
    pub fn closed(&mut self, away: bool) {
        let count = if away {
            &mut self.away
        } else {
            &mut self.online
        };
        *count = count.saturating_sub(1);
    }

    /// One open connection switched to away or back.
    pub fn switched(&mut self, away: bool) {
        let (from, to) = if away {
            (&mut self.online, &mut self.away)
        } else {
            (&mut self.away, &mut self.online)
        };
        if *from > 0 {
            *from -= 1;
            *to += 1;
        }
    }
}

/// Open connections per user in this process.
#[derive(Default)]
pub struct LocalPresence {
    users: Mutex<HashMap<String, Connections>>,
}

impl LocalPresence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `change` to a user's counts.
    fn update(&self, user_id: &str, change: impl FnOnce(&mut Connections)) -> PresenceChange {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = users.entry(user_id.to_owned()).or_default();
        let before = entry.status();
        change(entry);
        let after = entry.status();
        if after == PresenceStatus::Offline {
            users.remove(user_id);
        }
        PresenceChange { before, after }
    }
}

#[async_trait]
impl Presence for LocalPresence {
    async fn connected(&self, user_id: &str) -> PresenceChange {
        self.update(user_id, Connections::opened)
    }

    async fn disconnected(&self, user_id: &str, away: bool) -> PresenceChange {
        self.update(user_id, |counts| counts.closed(away))
    }

    async fn set_away(&self, user_id: &str, away: bool) -> PresenceChange {
        self.update(user_id, |counts| counts.switched(away))
    }

    async fn statuses(&self, user_ids: &[String]) -> Vec<PresenceStatus> {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        user_ids
            .iter()
            .map(|id| users.get(id).copied().unwrap_or_default().status())
            .collect()
    }
}
