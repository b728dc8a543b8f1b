//! The node's account of what may have been lost: incidents that the feed
//! reports as [`Lost`](natter_bus::Received::Lost) (a reconnection, a slow
//! subscription, a peer's death, a peer's own losses, an interest not in
//! force in time, a subscription that failed or ended, a message that
//! could not be read), and this node's publications that may not have
//! gone out (told to peers in heartbeats, so that their feeds report it
//! too).
//!
//! Incidents are a cumulative count in a `watch`: a feed remembers the
//! count it last reported and reports the difference, so an incident is
//! never missed however late the feed looks, and nothing queues up.
//!
//! Causes that can repeat many times over (once per dropped message, per
//! timed-out confirmation) are [deferred](Losses::defer): marked with one
//! atomic bit, without awaiting, and raised as one incident per cause at
//! the next [`Losses::flush`] (the liveness tick), so a storm of them
//! costs readers one repair per tick, never a flood of `Lost`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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
    /// An interest change was not confirmed within `confirm_timeout`: what
    /// was published until it came into force may be missed.
    Unconfirmed,
    /// async-nats refused a subscription: the subject gets nothing.
    SubscribeFailed,
    /// A subscription ended by itself (the connection is closing).
    SubscriptionEnded,
    /// A bus message whose routing header could not be read was dropped.
    Undecodable,
}

impl Cause {
    const ALL: [Cause; 8] = [
        Cause::Reconnected,
        Cause::SlowConsumer,
        Cause::PeerDied,
        Cause::PeerLostPublications,
        Cause::Unconfirmed,
        Cause::SubscribeFailed,
        Cause::SubscriptionEnded,
        Cause::Undecodable,
    ];

    fn label(self) -> &'static str {
        match self {
            Cause::Reconnected => "reconnected",
            Cause::SlowConsumer => "slow_consumer",
            Cause::PeerDied => "peer_died",
            Cause::PeerLostPublications => "peer_lost_publications",
            Cause::Unconfirmed => "unconfirmed",
            Cause::SubscribeFailed => "subscribe_failed",
            Cause::SubscriptionEnded => "subscription_ended",
            Cause::Undecodable => "undecodable",
        }
    }

    /// This cause's bit among the deferred ones.
    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// Shared by the node's tasks (cheap to clone).
#[derive(Clone)]
pub struct Losses(Arc<Inner>);

struct Inner {
    incidents: watch::Sender<u64>,
    /// One bit per cause deferred since the last flush.
    deferred: AtomicU32,
    own_publications: AtomicU64,
}

impl Losses {
    pub fn new() -> Self {
        let (incidents, _) = watch::channel(0);
        Losses(Arc::new(Inner {
            incidents,
            deferred: AtomicU32::new(0),
            own_publications: AtomicU64::new(0),
        }))
    }

    /// Records an incident now: every feed will report a loss. For causes
    /// that are rare by nature; the others are [deferred](Losses::defer).
    pub fn incident(&self, cause: Cause) {
        tracing::debug!(cause = cause.label(), "bus envelopes may have been lost");
        metrics::counter!("natter_bus_loss_incidents_total", "cause" => cause.label()).increment(1);
        self.0.incidents.send_modify(|count| *count += 1);
    }

    /// Records that `cause` happened (once or many times): one incident at
    /// the next [`flush`](Losses::flush). Never blocks (async-nats's
    /// event callback calls it once per dropped message).
    pub fn defer(&self, cause: Cause) {
        self.0.deferred.fetch_or(cause.bit(), Ordering::AcqRel);
    }

    /// Raises one incident per cause deferred since the last flush.
    pub fn flush(&self) {
        let deferred = self.0.deferred.swap(0, Ordering::AcqRel);
        for cause in Cause::ALL {
            if deferred & cause.bit() != 0 {
                tracing::warn!(cause = cause.label(), "bus envelopes may have been lost");
                self.incident(cause);
            }
        }
    }

    /// The incidents from now on, for a new feed.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.0.incidents.subscribe()
    }

    /// Records that `count` of this node's publications may not have gone
    /// out (dropped while the queue was full, lost in a reconnection, or
    /// still queued when the node stopped).
    pub fn own_publications_lost(&self, count: u64) {
        self.0.own_publications.fetch_add(count, Ordering::Relaxed);
    }

    /// How many of this node's publications may have been lost so far
    /// (carried by its heartbeats).
    pub fn own_publications(&self) -> u64 {
        self.0.own_publications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_of_one_cause_is_one_incident_per_flush() {
        let losses = Losses::new();
        let incidents = losses.watch();
        for _ in 0..1_000 {
            losses.defer(Cause::SlowConsumer);
        }
        losses.defer(Cause::Undecodable);
        assert_eq!(*incidents.borrow(), 0, "nothing before the flush");
        losses.flush();
        assert_eq!(*incidents.borrow(), 2, "one per cause");
        losses.flush();
        assert_eq!(*incidents.borrow(), 2, "nothing deferred since");
        losses.defer(Cause::SlowConsumer);
        losses.flush();
        assert_eq!(*incidents.borrow(), 3, "a later one is reported again");
    }
}
