//! Node liveness: each node heartbeats on `natter.node.heartbeat` and
//! listens to the others'; a peer silent for `missed_heartbeats` of its
//! own intervals is declared dead (an incident: the feed reports a loss,
//! and presence expires the peer's users after the grace). A node that
//! stops cleanly says goodbye and is gone at once, with nothing lost.
//!
//! Heartbeats also carry how many of the sender's publications may have
//! been lost (its queue overflowed, its connection dropped, it stopped
//! with some still queued): a peer whose count grows is an incident too,
//! goodbye included, so a publication that vanished on the way out of
//! one node is repaired on every other.
//!
//! The tick also follows this node's own connection ([`Link`]: whether
//! to beat, whether peers' silence is theirs) and raises the incidents
//! deferred since the last tick.

mod peers;

use crate::connection::{Change, Link};
use crate::losses::{Cause, Losses};
use crate::options::NatsOptions;
use crate::subjects;
use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use peers::{Beat, PeerTable};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A heartbeat (or, with `bye`, a goodbye) on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Heartbeat {
    node: String,
    interval_ms: u64,
    lost: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    bye: bool,
}

/// This node's view of the live nodes, shared with presence.
pub struct Liveness {
    node_id: String,
    options: NatsOptions,
    table: Mutex<PeerTable>,
    /// Set by a clean stop: no more heartbeats after the goodbye.
    stopped: watch::Sender<bool>,
}

impl Liveness {
    pub fn new(node_id: String, options: NatsOptions) -> Self {
        Liveness {
            node_id,
            options,
            table: Mutex::new(PeerTable::new(Instant::now())),
            stopped: watch::channel(false).0,
        }
    }

    fn table(&self) -> MutexGuard<'_, PeerTable> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn is_alive(&self, node_id: &str) -> bool {
        node_id == self.node_id || self.table().is_alive(node_id)
    }

    /// The other live nodes.
    pub fn peers(&self) -> Vec<String> {
        self.table().alive()
    }

    /// The live node that speaks for the cluster (the one with the
    /// smallest id; ids are UUIDv7, so the oldest node, which has the
    /// longest view): true if it is this one.
    pub fn speaks_for_the_cluster(&self) -> bool {
        self.speaks_for_the_cluster_but(None)
    }

    /// As [`speaks_for_the_cluster`](Self::speaks_for_the_cluster), with
    /// `absent` left out: the node that speaks about `absent` itself (it
    /// returned after its users were expired, and only the others know
    /// they were).
    pub fn speaks_for_the_cluster_but(&self, absent: Option<&str>) -> bool {
        self.table()
            .alive()
            .iter()
            .filter(|peer| Some(peer.as_str()) != absent)
            .all(|peer| peer.as_str() > self.node_id.as_str())
    }

    /// Connected, and for long enough to have heard every live peer.
    pub fn knows_everyone(&self) -> bool {
        let window = self
            .options
            .silence_allowed(self.options.heartbeat_interval);
        self.table().knows_everyone(Instant::now(), window)
    }

    /// Since when this node is connected, to notice reconnections.
    pub fn connected_since(&self) -> Option<Instant> {
        self.table().connected_since()
    }

    /// Subscribes to heartbeats; the returned task (the caller spawns it)
    /// follows `link`, beats and judges until the node stops.
    pub async fn start(
        self: &Arc<Self>,
        client: Client,
        link: Link,
        losses: Losses,
    ) -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
        let heartbeats = client.subscribe(subjects::HEARTBEAT).await?;
        Ok(self.clone().run(client, link, heartbeats, losses))
    }

    /// A clean stop: no more heartbeats, and a goodbye (carrying this
    /// node's losses, so the caller counts what never went out first) so
    /// that peers need not wait for the silence. Bounded as a heartbeat:
    /// async-nats takes no command while reconnecting.
    pub async fn say_goodbye(&self, client: &Client, losses: &Losses) {
        self.stopped.send_replace(true);
        let goodbye = client.publish(subjects::HEARTBEAT, self.heartbeat(losses, true));
        match tokio::time::timeout(self.options.heartbeat_interval, goodbye).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "goodbye not sent"),
            Err(_) => tracing::warn!("goodbye not sent: NATS is away"),
        }
    }

    fn heartbeat(&self, losses: &Losses, bye: bool) -> bytes::Bytes {
        let heartbeat = Heartbeat {
            node: self.node_id.clone(),
            interval_ms: u64::try_from(self.options.heartbeat_interval.as_millis())
                .unwrap_or(u64::MAX),
            lost: losses.own_publications(),
            bye,
        };
        serde_json::to_vec(&heartbeat).unwrap_or_default().into()
    }

    async fn run(
        self: Arc<Self>,
        client: Client,
        link: Link,
        mut heartbeats: Subscriber,
        losses: Losses,
    ) {
        let mut stopped = self.stopped.subscribe();
        let mut ticker = tokio::time::interval(self.options.heartbeat_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    self.follow(&link);
                    losses.flush();
                    self.beat_and_judge(&client, &losses).await;
                }
                () = link.nudged() => self.follow(&link),
                heartbeat = heartbeats.next() => match heartbeat {
                    Some(message) => self.hear(&message.payload, &losses),
                    None => break,
                },
                () = async { drop(stopped.wait_for(|stopped| *stopped).await) } => break,
            }
        }
    }

    /// Takes this node's connection state from the client itself.
    fn follow(&self, link: &Link) {
        match link.look() {
            Some(Change::CutOff) => self.table().disconnected(),
            Some(Change::Back) => self.table().connected(Instant::now()),
            None => {}
        }
    }

    async fn beat_and_judge(&self, client: &Client, losses: &Losses) {
        if self.table().is_connected() {
            // Bounded: async-nats takes no command while reconnecting.
            let beat = client.publish(subjects::HEARTBEAT, self.heartbeat(losses, false));
            let _ = tokio::time::timeout(self.options.heartbeat_interval, beat).await;
        }
        let dead = self.table().expire(Instant::now(), |interval| {
            self.options.silence_allowed(interval)
        });
        for node_id in dead {
            tracing::warn!(%node_id, "peer node declared dead: its heartbeats stopped");
            losses.incident(Cause::PeerDied);
        }
        self.report_peers();
    }

    fn hear(&self, payload: &[u8], losses: &Losses) {
        let heartbeat: Heartbeat = match serde_json::from_slice(payload) {
            Ok(heartbeat) => heartbeat,
            Err(error) => {
                tracing::warn!(%error, "unreadable heartbeat");
                return;
            }
        };
        if heartbeat.node == self.node_id {
            return;
        }
        if heartbeat.bye {
            // Checked like a heartbeat's: what it could not send before
            // leaving is lost all the same.
            let left = self.table().left(&heartbeat.node, heartbeat.lost);
            if let Some(newly_lost) = left {
                tracing::info!(node_id = %heartbeat.node, newly_lost, "peer node left");
                self.report_peers();
                if newly_lost > 0 {
                    losses.incident(Cause::PeerLostPublications);
                }
            }
            return;
        }
        let beat = Beat {
            interval: Duration::from_millis(heartbeat.interval_ms.max(1)),
            lost_publications: heartbeat.lost,
        };
        let heard = self.table().heard(&heartbeat.node, beat, Instant::now());
        if heard.joined {
            tracing::info!(node_id = %heartbeat.node, "peer node alive");
            self.report_peers();
        }
        if heard.newly_lost > 0 {
            losses.incident(Cause::PeerLostPublications);
        }
    }

    fn report_peers(&self) {
        let alive = self.table().alive().len();
        metrics::gauge!("natter_bus_peers_alive").set(alive as f64);
    }
}
