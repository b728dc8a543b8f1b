//! [`NatsBus`]: natter's [`Bus`] on core NATS. Envelopes go out as they
//! are (the payload is the frame, the meta a header) to
//! `natter.chat.<id>` / `natter.user.<id>`; the node subscribes only to
//! the subjects it declared interest in, and its feed merges them.

use crate::feed::NatsFeed;
use crate::losses::Cause;
use crate::node::Node;
use crate::options::NatsOptions;
use crate::presence::NatsPresence;
use crate::publisher::Outgoing;
use crate::{meta_header, subjects};
use async_nats::connection::State;
use natter_bus::{Bus, Confirmation, Envelope, Feed, Subject};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// How many `confirm_timeout`s an interest confirmed late is still
/// waited for before its loss is reported anyway. Bounded so a node
/// dropped during an outage leaves no task behind for good (the
/// reconnection, once there, is reported by itself).
const LATE_CONFIRMATION: u32 = 10;

/// A node's bus on NATS (cheap to clone: clones share the node).
///
/// Delivery is at most once: an envelope published while NATS is away,
/// or dropped because the queue to NATS is full, is gone, and every feed
/// that may have missed something is told (`Received::Lost`): on a
/// reconnection, a slow subscription, a peer's death, a peer's own
/// dropped publications (carried by its heartbeats and its goodbye), an
/// interest confirmed late, a subscription refused or ended, or a
/// message whose routing header could not be read. Causes that can
/// repeat many times over are told at most once per heartbeat interval.
///
/// In a NATS cluster, a subscription reaches the other servers a moment
/// after this node's server confirms it; an envelope published through
/// another server in that moment can be missed, and shows up as a gap
/// (or at the next position sync) instead.
#[derive(Clone)]
pub struct NatsBus {
    node: Arc<Node>,
}

impl NatsBus {
    /// Connects to NATS at `urls` (one or more comma-separated
    /// `nats://host:port` URLs of one NATS cluster) as a new node with a
    /// fresh id, and starts heartbeating and replicating presence. Fails
    /// if no server answers now; afterwards it reconnects by itself.
    pub async fn connect(urls: &str, options: NatsOptions) -> anyhow::Result<NatsBus> {
        let node = Node::connect(urls, options).await?;
        Ok(NatsBus {
            node: Arc::new(node),
        })
    }

    /// Cluster-wide presence through the same connection.
    pub fn presence(&self) -> NatsPresence {
        NatsPresence {
            node: self.node.clone(),
        }
    }

    /// This node's id (a UUID chosen at start).
    pub fn node_id(&self) -> &str {
        self.node.liveness.node_id()
    }

    /// The ids of the other nodes alive now.
    pub fn peers(&self) -> Vec<String> {
        self.node.liveness.peers()
    }

    /// Leaves the cluster cleanly: queued envelopes go out (waiting up to
    /// `confirm_timeout`; those still queued then count as lost, and
    /// peers' feeds report them), peers hear a goodbye, the connection
    /// closes. Without it, dropping the last handle looks like a crash to
    /// peers (they wait for the silence).
    pub async fn shutdown(&self) {
        self.node.stop().await;
    }
}

impl Bus for NatsBus {
    fn publish(&self, envelope: Envelope) {
        let Envelope {
            subject,
            meta,
            frame,
        } = envelope;
        self.node.publisher.send(Outgoing {
            subject: subjects::of(&subject).into(),
            headers: meta_header::encode(&meta),
            payload: frame,
            envelope: true,
        });
    }

    fn feed(&self) -> Box<dyn Feed> {
        Box::new(NatsFeed::new(
            self.node.envelopes.subscribe(),
            self.node.losses.watch(),
        ))
    }

    /// Completes once the server has the (un)subscription: a round trip
    /// after it. Bounded by `confirm_timeout`: past it (NATS slow or away)
    /// it completes anyway, and the feed is told `Lost` once the change
    /// is in force (or `LATE_CONFIRMATION` timeouts later still), so a
    /// reader that re-read the store at the early completion misses
    /// nothing.
    fn interest(&self, subject: &Subject, on: bool) -> Confirmation {
        let sent = self.node.interest.change(subject, on);
        let round_trip = self.node.round_trip.clone();
        let limit = self.node.options.confirm_timeout;
        let losses = self.node.losses.clone();
        let subject = subject.clone();
        Box::pin(async move {
            let mut confirmed = Box::pin(async move {
                let _ = sent.await;
                round_trip.complete().await;
            });
            if tokio::time::timeout(limit, &mut confirmed).await.is_ok() {
                return;
            }
            tracing::warn!(%subject, on, "interest not confirmed by NATS in time");
            tokio::spawn(async move {
                let late = limit.saturating_mul(LATE_CONFIRMATION);
                let _ = tokio::time::timeout(late, confirmed).await;
                losses.defer(Cause::Unconfirmed);
            });
        })
    }

    fn is_ready(&self) -> bool {
        !self.node.stopped.load(Ordering::Relaxed)
            && self.node.client.connection_state() == State::Connected
    }

    fn spans_nodes(&self) -> bool {
        true
    }
}
