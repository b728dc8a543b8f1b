//! One natter node on NATS: its id, its connection, and the tasks that
//! serve the bus and presence through it. Owns their life cycle: they
//! start together in [`Node::connect`] and are aborted together when the
//! last handle ([`NatsBus`](crate::NatsBus) or
//! [`NatsPresence`](crate::NatsPresence)) goes, which to peers looks like
//! a crash (heartbeats stop); [`Node::stop`] is the clean way out.

use crate::connection::{self, Link};
use crate::interest::Interest;
use crate::liveness::Liveness;
use crate::losses::Losses;
use crate::options::NatsOptions;
use crate::presence::Replica;
use crate::publisher::Publisher;
use crate::round_trip::RoundTrip;
use async_nats::Client;
use natter_bus::Envelope;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

pub struct Node {
    pub client: Client,
    pub options: NatsOptions,
    pub losses: Losses,
    pub publisher: Publisher,
    pub round_trip: RoundTrip,
    pub interest: Interest,
    pub liveness: Arc<Liveness>,
    pub presence: Arc<Replica>,
    /// Every subscription's envelopes, for the feeds.
    pub envelopes: broadcast::Sender<Envelope>,
    pub stopped: AtomicBool,
    tasks: Vec<AbortHandle>,
}

impl Node {
    /// Connects, subscribes to the cluster's own subjects, and starts the
    /// node's tasks under a fresh id (a UUIDv7).
    pub async fn connect(urls: &str, options: NatsOptions) -> anyhow::Result<Node> {
        options.validate()?;
        let uuid = uuid::Uuid::now_v7();
        let node_id = uuid.to_string();
        // The random low half of the id tells this node's publications
        // apart in the receivers' merge.
        let publisher_key = uuid.as_u64_pair().1;
        let losses = Losses::new();
        let (client, nudge) = connection::open(urls, &options, losses.clone()).await?;
        let (publisher, publishing) = Publisher::new(
            client.clone(),
            options.publish_queue,
            publisher_key,
            losses.clone(),
        );
        let (round_trip, answering) = RoundTrip::start(client.clone(), &node_id).await?;
        let link = Link::new(
            client.clone(),
            nudge,
            round_trip.clone(),
            losses.clone(),
            options.confirm_timeout,
        );
        let liveness = Arc::new(Liveness::new(node_id.clone(), options.clone()));
        let beating = liveness.start(client.clone(), link, losses.clone()).await?;
        let presence = Arc::new(Replica::new(node_id.clone(), publisher.clone()));
        let replicating = presence.start(&client, liveness.clone(), &options).await?;
        let (envelopes, _) = broadcast::channel(options.feed_capacity);
        let (interest, subscribing) = Interest::new(
            client.clone(),
            publisher.handed(),
            envelopes.clone(),
            losses.clone(),
        );
        let tasks = vec![
            tokio::spawn(publishing).abort_handle(),
            tokio::spawn(answering).abort_handle(),
            tokio::spawn(beating).abort_handle(),
            tokio::spawn(replicating).abort_handle(),
            tokio::spawn(subscribing).abort_handle(),
        ];
        tracing::info!(%node_id, "connected to NATS");
        Ok(Node {
            client,
            options,
            losses,
            publisher,
            round_trip,
            interest,
            liveness,
            presence,
            envelopes,
            stopped: AtomicBool::new(false),
            tasks,
        })
    }

    /// A clean stop: what is queued goes out (for up to
    /// `confirm_timeout`; what is still queued then counts as lost, and
    /// the goodbye tells peers so), peers hear a goodbye (so they need not
    /// wait for the silence), and the connection is drained and closed.
    /// Each step is bounded. The bus is not ready afterwards.
    pub async fn stop(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let limit = self.options.confirm_timeout;
        let deadline = Instant::now() + limit;
        while !self.publisher.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let never_sent = self.publisher.unhanded();
        if never_sent > 0 {
            tracing::warn!(never_sent, "leaving with publications still queued");
            self.losses.own_publications_lost(never_sent);
        }
        self.liveness.say_goodbye(&self.client, &self.losses).await;
        let _ = tokio::time::timeout(limit, self.round_trip.complete()).await;
        match tokio::time::timeout(limit, self.client.drain()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "draining the NATS connection failed"),
            Err(_) => tracing::warn!("draining the NATS connection timed out"),
        }
        tracing::info!(node_id = %self.liveness.node_id(), "left the cluster");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
