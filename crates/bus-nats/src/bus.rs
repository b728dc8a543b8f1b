//! [`NatsBus`]: natter's [`Bus`] on core NATS. Envelopes go out as they
//! are (the payload is the frame, the meta a header) to
//! `natter.chat.<id>` / `natter.user.<id>`; the node subscribes only to
//! the subjects it declared interest in, and its feed merges them.

use crate::feed::NatsFeed;
use crate::node::Node;
use crate::options::NatsOptions;
use crate::presence::NatsPresence;
use crate::publisher::Outgoing;
use crate::{meta_header, subjects};
use async_nats::connection::State;
use natter_bus::{Bus, Confirmation, Envelope, Feed, Subject};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A node's bus on NATS (cheap to clone: clones share the node).
///
/// Delivery is at most once: an envelope published while NATS is away,
/// or dropped because the queue to NATS is full, is gone, and every feed
/// that may have missed something is told (`Received::Lost`): on a
/// reconnection, a slow subscription, a peer's death, or a peer's own
/// dropped publications (carried by its heartbeats).
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

    /// Leaves the cluster cleanly: queued envelopes go out, peers hear a
    /// goodbye, the connection closes. Without it, dropping the last
    /// handle looks like a crash to peers (they wait for the silence).
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
    /// after it. Bounded by `confirm_timeout`: with NATS away it
    /// completes anyway, and the reconnection is reported as a loss.
    fn interest(&self, subject: &Subject, on: bool) -> Confirmation {
        let sent = self.node.interest.change(subject, on);
        let round_trip = self.node.round_trip.clone();
        let limit = self.node.options.confirm_timeout;
        let subject = subject.clone();
        Box::pin(async move {
            let confirmed = async {
                let _ = sent.await;
                round_trip.complete().await;
            };
            if tokio::time::timeout(limit, confirmed).await.is_err() {
                tracing::warn!(%subject, on, "interest not confirmed by NATS in time");
            }
        })
    }

    fn is_ready(&self) -> bool {
        !self.node.stopped.load(Ordering::Relaxed)
            && self.node.client.connection_state() == State::Connected
    }
}
