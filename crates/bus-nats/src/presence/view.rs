//! The merged presence view, as pure logic: this node's own connections
//! per user, and every other node's per-user status as it replicated
//! them. A user's cluster-wide status is the best of all nodes' (online,
//! then away, then offline). A node's entries live as long as the node:
//! once liveness loses it they count for the grace, then go, and the
//! users whose status that changed are returned (departures).
//!
//! A node whose entries went can come back (it was paused, or cut off
//! from NATS, for longer than its death and grace): the view remembers
//! the nodes it expired, and what such a node says until its next full
//! snapshot changes statuses that clients were told had departed, so
//! those changes are returned too (returns).

use natter_bus::{Connections, PresenceChange};
use natter_proto::users::PresenceStatus;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How many expired nodes the view remembers (ids are never reused, so
/// the oldest are forgotten): a node that comes back after more nodes
/// than this expired is taken for a new one, its users back silently.
const EXPIRED_REMEMBERED: usize = 1_024;

/// A user and the change of their cluster-wide status.
pub type StatusChange = (String, PresenceChange);

/// One user's open connections on this node.
fn rank(status: PresenceStatus) -> u8 {
    match status {
        PresenceStatus::Offline => 0,
        PresenceStatus::Away => 1,
        PresenceStatus::Online => 2,
    }
}

fn best(a: PresenceStatus, b: PresenceStatus) -> PresenceStatus {
    if rank(b) > rank(a) { b } else { a }
}

/// One part of a node's full presence: parts `0..parts` of one `round`,
/// sent one after the other, replace that node's entries once all came.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPart {
    pub round: u64,
    pub part: u32,
    pub parts: u32,
    pub users: Vec<(String, PresenceStatus)>,
}

/// What a local connection change did.
#[derive(Debug, PartialEq)]
pub struct LocalChange {
    /// The user's cluster-wide status before and after.
    pub cluster: PresenceChange,
    /// The user's new status on this node, if it changed (to replicate).
    pub node_status: Option<PresenceStatus>,
}

#[derive(Default)]
struct RemoteNode {
    users: HashMap<String, PresenceStatus>,
    /// Since when liveness has lost this node.
    gone_since: Option<Instant>,
    /// A snapshot still arriving: its round, next part, users so far.
    incoming: Option<(u64, u32, HashMap<String, PresenceStatus>)>,
    /// It came back after its entries expired here: until its next
    /// complete snapshot, the changes it makes are returned.
    returning: bool,
}

#[derive(Default)]
pub struct PresenceView {
    local: HashMap<String, Connections>,
    nodes: HashMap<String, RemoteNode>,
    /// The nodes whose entries expired here, oldest first.
    expired: VecDeque<String>,
}

impl PresenceView {
    /// `user_id`'s status cluster-wide.
    pub fn status(&self, user_id: &str) -> PresenceStatus {
        let local = self.local_status(user_id);
        self.nodes
            .values()
            .filter_map(|node| node.users.get(user_id).copied())
            .fold(local, best)
    }

    fn local_status(&self, user_id: &str) -> PresenceStatus {
        self.local
            .get(user_id)
            .copied()
            .unwrap_or_default()
            .status()
    }

    pub fn connected(&mut self, user_id: &str) -> LocalChange {
        self.change_local(user_id, Connections::opened)
    }

    pub fn disconnected(&mut self, user_id: &str, away: bool) -> LocalChange {
        self.change_local(user_id, |counts| counts.closed(away))
    }

    pub fn set_away(&mut self, user_id: &str, away: bool) -> LocalChange {
        self.change_local(user_id, |counts| counts.switched(away))
    }

    fn change_local(
        &mut self,
        user_id: &str,
        change: impl FnOnce(&mut Connections),
    ) -> LocalChange {
        let before = self.status(user_id);
        let node_before = self.local_status(user_id);
        let counts = self.local.entry(user_id.to_owned()).or_default();
        change(counts);
        let node_after = counts.status();
        if node_after == PresenceStatus::Offline {
            self.local.remove(user_id);
        }
        LocalChange {
            cluster: PresenceChange {
                before,
                after: self.status(user_id),
            },
            node_status: (node_after != node_before).then_some(node_after),
        }
    }

    /// This node's users that are not offline, for a snapshot.
    pub fn local_statuses(&self) -> Vec<(String, PresenceStatus)> {
        self.local
            .iter()
            .map(|(user_id, counts)| (user_id.clone(), counts.status()))
            .collect()
    }

    /// The entries of `node_id`, made if it had none; a node made again
    /// after it expired here is returning.
    fn node(&mut self, node_id: &str) -> &mut RemoteNode {
        let expired = &mut self.expired;
        self.nodes.entry(node_id.to_owned()).or_insert_with(|| {
            let at = expired.iter().position(|expired| expired == node_id);
            RemoteNode {
                returning: at.and_then(|at| expired.remove(at)).is_some(),
                ..RemoteNode::default()
            }
        })
    }

    /// Another node's user changed status there. Returns the user's
    /// cluster-wide change if the node is returning (see the module).
    pub fn remote_change(
        &mut self,
        node_id: &str,
        user_id: &str,
        status: PresenceStatus,
    ) -> Option<StatusChange> {
        let before = self.status(user_id);
        let node = self.node(node_id);
        // Parts of one snapshot are sent back to back: a change between
        // them means some were lost, so that snapshot is incomplete.
        node.incoming = None;
        if status == PresenceStatus::Offline {
            node.users.remove(user_id);
        } else {
            node.users.insert(user_id.to_owned(), status);
        }
        if !node.returning {
            return None;
        }
        let change = PresenceChange {
            before,
            after: self.status(user_id),
        };
        change.changed().then(|| (user_id.to_owned(), change))
    }

    /// A part of another node's snapshot; the last one replaces its
    /// entries. A part out of sequence abandons the snapshot (the next
    /// round will do). Returns the users whose cluster-wide status the
    /// replacement changed, if the node is returning (see the module).
    pub fn snapshot_part(&mut self, node_id: &str, part: SnapshotPart) -> Vec<StatusChange> {
        let node = self.node(node_id);
        let mut users = match node.incoming.take() {
            _ if part.part == 0 => HashMap::new(),
            Some((round, next, users)) if round == part.round && next == part.part => users,
            _ => return Vec::new(),
        };
        users.extend(
            part.users
                .into_iter()
                .filter(|(_, status)| *status != PresenceStatus::Offline),
        );
        if part.part + 1 < part.parts {
            node.incoming = Some((part.round, part.part + 1, users));
            return Vec::new();
        }
        if !std::mem::replace(&mut node.returning, false) {
            node.users = users;
            return Vec::new();
        }
        let mut touched: Vec<String> = users.keys().chain(node.users.keys()).cloned().collect();
        touched.sort_unstable();
        touched.dedup();
        let before: Vec<PresenceStatus> = touched.iter().map(|user| self.status(user)).collect();
        self.node(node_id).users = users;
        self.changes_since(touched.into_iter().zip(before))
    }

    /// The users of `before` whose cluster-wide status is another now.
    fn changes_since(
        &self,
        before: impl IntoIterator<Item = (String, PresenceStatus)>,
    ) -> Vec<StatusChange> {
        before
            .into_iter()
            .filter_map(|(user_id, before)| {
                let change = PresenceChange {
                    before,
                    after: self.status(&user_id),
                };
                change.changed().then_some((user_id, change))
            })
            .collect()
    }

    /// Starts the grace of the nodes liveness has lost, and ends it for
    /// those it has found again.
    pub fn follow_liveness(&mut self, is_alive: impl Fn(&str) -> bool, now: Instant) {
        for (node_id, node) in &mut self.nodes {
            if is_alive(node_id) {
                node.gone_since = None;
            } else {
                node.gone_since.get_or_insert(now);
            }
        }
    }

    /// Forgets the nodes lost for longer than `grace` (remembering that
    /// they expired); returns the users whose cluster-wide status that
    /// changed.
    pub fn expire(&mut self, now: Instant, grace: Duration) -> Vec<StatusChange> {
        let expired: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, node)| {
                node.gone_since
                    .is_some_and(|since| now.duration_since(since) >= grace)
            })
            .map(|(node_id, _)| node_id.clone())
            .collect();
        let mut departures = Vec::new();
        for node_id in expired {
            let Some(node) = self.nodes.get(&node_id) else {
                continue;
            };
            let before: Vec<(String, PresenceStatus)> = node
                .users
                .keys()
                .map(|user_id| (user_id.clone(), self.status(user_id)))
                .collect();
            self.nodes.remove(&node_id);
            if self.expired.len() >= EXPIRED_REMEMBERED {
                self.expired.pop_front();
            }
            self.expired.push_back(node_id);
            departures.extend(self.changes_since(before));
        }
        departures
    }
}

#[cfg(test)]
mod tests;
