//! Cluster-wide presence ([`NatsPresence`]): each node counts its own
//! connections per user and replicates each user's status on it (online,
//! away, offline) to every node on `natter.presence`: a message per
//! change, plus a full snapshot from each node every
//! `presence_snapshot_interval` (and at once when a peer appears or this
//! node reconnects), so a node that started late or missed changes
//! converges. Lookups answer from the merged view, with no round trip.
//!
//! A node's entries live as long as liveness keeps the node: once it is
//! lost (dead or gone), they still count for `presence_grace` (a client
//! moving to another node does not flicker offline), then expire. The
//! users whose status that changed are reported on
//! [`Presence::departures`] by one node only, the one that
//! [speaks for the cluster](crate::liveness::Liveness::speaks_for_the_cluster),
//! and only once it has listened long enough to know every live node.
//!
//! A node that comes back after its entries expired (it was paused or
//! cut off that long) would put its users back online silently, and
//! clients would keep showing them offline: the users whose status its
//! messages change, until its next full snapshot, are reported on the
//! same channel, by the node that speaks for the cluster leaving the
//! returning one out (it does not know it was expired).

mod view;
mod wire;

use crate::liveness::Liveness;
use crate::node::Node;
use crate::publisher::{Outgoing, Publisher};
use crate::subjects;
use async_nats::Subscriber;
use futures_util::StreamExt;
use natter_bus::{Presence, PresenceChange};
use natter_proto::users::PresenceStatus;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use view::{LocalChange, PresenceView, SnapshotPart, StatusChange};
use wire::PresenceMessage;

/// Users per snapshot message: about 50 bytes each, so a part stays far
/// below NATS's 1 MB payload limit however many users a node holds.
const SNAPSHOT_PART_USERS: usize = 1_000;

/// This node's replica of the cluster's presence.
pub struct Replica {
    node_id: String,
    view: Mutex<PresenceView>,
    publisher: Publisher,
    next_round: AtomicU64,
    // Unbounded: at most one entry per user of a dead (or returning)
    // node, and read by core as they come.
    departures: mpsc::UnboundedSender<StatusChange>,
    departures_reader: Mutex<Option<mpsc::UnboundedReceiver<StatusChange>>>,
}

impl Replica {
    pub fn new(node_id: String, publisher: Publisher) -> Self {
        let (departures, reader) = mpsc::unbounded_channel();
        Replica {
            node_id,
            view: Mutex::new(PresenceView::default()),
            publisher,
            next_round: AtomicU64::new(0),
            departures,
            departures_reader: Mutex::new(Some(reader)),
        }
    }

    fn view(&self) -> MutexGuard<'_, PresenceView> {
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a local connection change and replicates it. The message is
    /// queued under the view's lock, so changes and snapshots go out in
    /// the order they happened here.
    fn local(
        &self,
        change: impl FnOnce(&mut PresenceView) -> LocalChange,
        user_id: &str,
    ) -> PresenceChange {
        let mut view = self.view();
        let LocalChange {
            cluster,
            node_status,
        } = change(&mut view);
        if let Some(status) = node_status {
            self.send(&PresenceMessage::Change {
                node: self.node_id.clone(),
                user: user_id.to_owned(),
                status,
            });
        }
        cluster
    }

    fn send(&self, message: &PresenceMessage) {
        // A dropped message is repaired by the next snapshot.
        self.publisher.send(Outgoing {
            subject: subjects::PRESENCE.into(),
            headers: None,
            payload: message.encode(),
            envelope: false,
        });
    }

    /// Sends this node's full presence, in parts.
    fn send_snapshot(&self, view: &PresenceView) {
        let users = view.local_statuses();
        let round = self.next_round.fetch_add(1, Ordering::Relaxed);
        let chunks: Vec<&[(String, PresenceStatus)]> = if users.is_empty() {
            vec![&[]]
        } else {
            users.chunks(SNAPSHOT_PART_USERS).collect()
        };
        let parts = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
        for (part, chunk) in (0..).zip(chunks) {
            let part = SnapshotPart {
                round,
                part,
                parts,
                users: chunk.to_vec(),
            };
            self.send(&PresenceMessage::snapshot(&self.node_id, part));
        }
    }

    fn receive(&self, payload: &[u8], liveness: &Liveness) {
        let message: PresenceMessage = match serde_json::from_slice(payload) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "unreadable presence message");
                return;
            }
        };
        if message.node() == self.node_id {
            return;
        }
        let mut view = self.view();
        let (node, returns) = match message {
            PresenceMessage::Change { node, user, status } => {
                let returns = view.remote_change(&node, &user, status);
                (node, returns.into_iter().collect())
            }
            PresenceMessage::Snapshot {
                node,
                round,
                part,
                parts,
                users,
            } => {
                let part = SnapshotPart {
                    round,
                    part,
                    parts,
                    users,
                };
                let returns = view.snapshot_part(&node, part);
                (node, returns)
            }
        };
        drop(view);
        if !returns.is_empty() && liveness.speaks_for_the_cluster_but(Some(&node)) {
            tracing::info!(node_id = %node, "presence: a node whose users expired is back");
            metrics::counter!("natter_presence_returns_total").increment(returns.len() as u64);
            self.announce(returns, "back with a returning node");
        }
    }

    /// Subscribes to presence; the returned task (the caller spawns it)
    /// keeps the replica in step with the cluster.
    pub async fn start(
        self: &Arc<Self>,
        client: &async_nats::Client,
        liveness: Arc<Liveness>,
        options: &crate::NatsOptions,
    ) -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
        let messages = client.subscribe(subjects::PRESENCE).await?;
        let timing = Timing {
            tick: options
                .heartbeat_interval
                .min(options.presence_grace / 4)
                .max(Duration::from_millis(10)),
            grace: options.presence_grace,
            snapshot_every: options.presence_snapshot_interval,
        };
        Ok(self.clone().run(messages, liveness, timing))
    }

    async fn run(
        self: Arc<Self>,
        mut messages: Subscriber,
        liveness: Arc<Liveness>,
        timing: Timing,
    ) {
        let mut ticker = tokio::time::interval(timing.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut known = Known::default();
        let mut next_snapshot = Instant::now();
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(message) => self.receive(&message.payload, &liveness),
                    None => break,
                },
                _ = ticker.tick() => {
                    let now = Instant::now();
                    let news = known.update(&liveness);
                    let mut view = self.view();
                    view.follow_liveness(|node_id| liveness.is_alive(node_id), now);
                    if liveness.knows_everyone() {
                        let departed = view.expire(now, timing.grace);
                        if !departed.is_empty() && liveness.speaks_for_the_cluster() {
                            metrics::counter!("natter_presence_departures_total")
                                .increment(departed.len() as u64);
                            self.announce(departed, "departed with a lost node");
                        }
                    }
                    if liveness.connected_since().is_some() && (news || now >= next_snapshot) {
                        self.send_snapshot(&view);
                        next_snapshot = now + timing.snapshot_every;
                    }
                }
            }
        }
    }

    /// Hands changes no local connection caused to core, which
    /// announces them (on the `departures` channel, for every such cause).
    fn announce(&self, changes: Vec<StatusChange>, why: &'static str) {
        for change in changes {
            let (user_id, presence) = &change;
            tracing::debug!(%user_id, ?presence, why, "presence");
            // An error only means nobody took the receiver.
            let _ = self.departures.send(change);
        }
    }
}

struct Timing {
    tick: Duration,
    grace: Duration,
    snapshot_every: Duration,
}

/// What the presence task last saw of liveness, to notice what calls for
/// a snapshot at once: a new peer (it knows nothing of this node yet),
/// or a reconnection of this node (peers may have expired it).
#[derive(Default)]
struct Known {
    peers: HashSet<String>,
    connected_since: Option<Instant>,
}

impl Known {
    fn update(&mut self, liveness: &Liveness) -> bool {
        let peers: HashSet<String> = liveness.peers().into_iter().collect();
        let connected_since = liveness.connected_since();
        let newcomer = peers.iter().any(|peer| !self.peers.contains(peer));
        let reconnected = connected_since.is_some() && connected_since != self.connected_since;
        self.peers = peers;
        self.connected_since = connected_since;
        newcomer || reconnected
    }
}

/// Cluster-wide presence on NATS (see the module documentation). Made by
/// [`NatsBus::presence`](crate::NatsBus::presence); shares the bus's
/// connection and liveness.
#[derive(Clone)]
pub struct NatsPresence {
    pub(crate) node: Arc<Node>,
}

#[async_trait::async_trait]
impl Presence for NatsPresence {
    async fn connected(&self, user_id: &str) -> PresenceChange {
        self.node
            .presence
            .local(|view| view.connected(user_id), user_id)
    }

    async fn disconnected(&self, user_id: &str, away: bool) -> PresenceChange {
        self.node
            .presence
            .local(|view| view.disconnected(user_id, away), user_id)
    }

    async fn set_away(&self, user_id: &str, away: bool) -> PresenceChange {
        self.node
            .presence
            .local(|view| view.set_away(user_id, away), user_id)
    }

    async fn statuses(&self, user_ids: &[String]) -> Vec<PresenceStatus> {
        let view = self.node.presence.view();
        user_ids
            .iter()
            .map(|user_id| view.status(user_id))
            .collect()
    }

    fn departures(&self) -> Option<mpsc::UnboundedReceiver<StatusChange>> {
        self.node
            .presence
            .departures_reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
