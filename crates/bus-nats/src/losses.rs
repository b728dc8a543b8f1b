//! The node's account of what may have been lost: incidents that the feed
//! reports as [`Lost`](natter_bus::Received::Lost) (a reconnection, a slow
//! subscription, a peer's death, a peer's own losses), and this node's
//! publications that may not have gone out (told to peers in heartbeats,
//! so that their feeds report it too).
//!
//! Incidents are a cumulative count in a `watch`: a feed remembers the
//! count it last reported and reports the difference, so an incident is
//! never missed however late the feed looks, and nothing queues up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// Why envelopes may have been lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The connection to NATS dropped and came back: whatever was
    /// published meanwhile is gone.
    Reconnected,
    /// async-nats dropped messages of a subscription that was not drained
    /// fast enough.
    SlowConsumer,
    /// A peer stopped heartbeating: what it published last may be gone.
    PeerDied,
    /// A peer reported that some of its publications did not go out.
    PeerLostPublications,
}

impl Cause {
    fn label(self) -> &'static str {
        match self {
            Cause::Reconnected => "reconnected",
            Cause::SlowConsumer => "slow_consumer",
            Cause::PeerDied => "peer_died",
            Cause::PeerLostPublications => "peer_lost_publications",
        }
    }
}

/// Shared by the node's tasks (cheap to clone).
#[derive(Clone)]
pub struct Losses(Arc<Inner>);

struct Inner {
    incidents: watch::Sender<u64>,
    own_publications: AtomicU64,
}

impl Losses {
    pub fn new() -> Self {
        let (incidents, _) = watch::channel(0);
        Losses(Arc::new(Inner {
            incidents,
            own_publications: AtomicU64::new(0),
        }))
    }

    /// Records an incident: every feed will report a loss.
    pub fn incident(&self, cause: Cause) {
        // The causes log themselves where they are rare; this may be
        // called once per message (a slow subscription).
        tracing::debug!(cause = cause.label(), "bus envelopes may have been lost");
        metrics::counter!("natter_bus_loss_incidents_total", "cause" => cause.label()).increment(1);
        self.0.incidents.send_modify(|count| *count += 1);
    }

    /// The incidents from now on, for a new feed.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.0.incidents.subscribe()
    }

    /// Records that `count` of this node's publications may not have gone
    /// out (dropped while the queue was full, or lost in a reconnection).
    pub fn own_publications_lost(&self, count: u64) {
        self.0.own_publications.fetch_add(count, Ordering::Relaxed);
    }

    /// How many of this node's publications may have been lost so far
    /// (carried by its heartbeats).
    pub fn own_publications(&self) -> u64 {
        self.0.own_publications.load(Ordering::Relaxed)
    }
}
