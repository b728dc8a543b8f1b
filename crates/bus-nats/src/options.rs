//! The knobs of a NATS node: timings of liveness and presence, and the
//! sizes of its bounded queues. Plain values with production defaults;
//! the binary fills them from its settings, tests shorten the timings.

use std::time::Duration;

/// How a node connects and behaves in the cluster.
#[derive(Clone, Debug)]
pub struct NatsOptions {
    /// The connection's name as NATS monitoring shows it (`/connz`).
    pub connection_name: String,
    /// How often this node says it is alive on `natter.node.heartbeat`.
    pub heartbeat_interval: Duration,
    /// A peer silent for this many of its own intervals is declared dead.
    pub missed_heartbeats: u32,
    /// How long a dead node's users still count as connected, so that a
    /// client moving to another node does not flicker offline.
    pub presence_grace: Duration,
    /// How often each node sends its full presence (a node that started
    /// late or missed changes converges within one interval).
    pub presence_snapshot_interval: Duration,
    /// Envelopes (and presence messages) waiting for the connection. Full
    /// during a long NATS outage: further publications are dropped and
    /// counted, never buffered without bound.
    pub publish_queue: usize,
    /// Envelopes the feed's reader may fall behind before it is told
    /// [`Lost`](natter_bus::Received::Lost).
    pub feed_capacity: usize,
    /// Messages async-nats buffers per subscription before it reports a
    /// slow consumer (each subscription is drained by its own task).
    pub subscription_capacity: usize,
    /// The longest an interest confirmation waits for the server; past it
    /// (NATS slow or unreachable) it completes anyway, and the feed is
    /// told `Lost` once the change is in force. Also how long a clean
    /// stop waits for queued publications (the rest count as lost).
    pub confirm_timeout: Duration,
    /// The longest pause between two reconnection attempts.
    pub max_reconnect_delay: Duration,
}

impl Default for NatsOptions {
    fn default() -> Self {
        NatsOptions {
            connection_name: "natter".to_owned(),
            heartbeat_interval: Duration::from_secs(1),
            missed_heartbeats: 3,
            presence_grace: Duration::from_secs(5),
            presence_snapshot_interval: Duration::from_secs(10),
            publish_queue: 8_192,
            // As the in-process bus: bursts of a large group's receipts.
            feed_capacity: 65_536,
            subscription_capacity: 4_096,
            confirm_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
        }
    }
}

impl NatsOptions {
    /// How long a peer that sends every `interval` may stay silent.
    pub(crate) fn silence_allowed(&self, interval: Duration) -> Duration {
        interval * self.missed_heartbeats.max(1)
    }

    /// Refuses values that would make a node misbehave rather than fail.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.heartbeat_interval.is_zero(),
            "heartbeat interval must be positive"
        );
        anyhow::ensure!(
            !self.presence_snapshot_interval.is_zero(),
            "presence snapshot interval must be positive"
        );
        anyhow::ensure!(
            self.publish_queue > 0 && self.feed_capacity > 0 && self.subscription_capacity > 0,
            "queue capacities must be positive"
        );
        Ok(())
    }
}
