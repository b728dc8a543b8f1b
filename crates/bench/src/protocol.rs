//! The coordinator <-> worker protocol: one JSON object per line, the
//! coordinator writing to a worker's stdin and reading its stdout.
//!
//! A worker is told to open connections (possibly in several rounds),
//! then runs steps (a send rate for a duration) one at a time and answers
//! each with a [`StepReport`]; `Close` ends it.

use serde::{Deserialize, Serialize};

/// One connection a worker opens: whose token, and where it sends.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConnPlan {
    /// Access token of the connection's user (sent on the upgrade).
    pub token: String,
    /// Chats this connection sends into, each with a weight (its share of
    /// this connection's messages); empty for a receive-only connection.
    #[serde(default)]
    pub chats: Vec<(String, u32)>,
    /// Which node (an index into `Connect`'s `ws_urls`) it connects to.
    #[serde(default)]
    pub node: usize,
}

/// One measured step: every sending connection sends for `duration_ms`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepPlan {
    /// Unix time (µs) at which every worker starts sending, so that all
    /// processes begin together.
    pub start_at_us: u64,
    pub duration_ms: u64,
    /// Messages per second per sending connection; 0 sends as fast as
    /// `window` allows (closed loop).
    pub rate_per_sender: f64,
    /// Most sends a connection has waiting for `send.ok`.
    pub window: u32,
    /// Most messages one connection sends in the step (0: no limit).
    pub max_per_sender: u64,
    /// Bytes of content per message.
    pub content_bytes: usize,
    /// Send `typing` before every n-th message (0: never).
    pub typing_every: u32,
    /// Answer every `message.new` with an `ack` (delivered receipt).
    pub ack: bool,
    /// Send a `read` marker after every n-th received message (0: never).
    pub read_every: u32,
    /// After sending stops, how long to wait at most for answers and
    /// deliveries still under way.
    pub drain_ms: u64,
}

/// Coordinator -> worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum ToWorker {
    /// Opens these connections (in addition to those already open).
    Connect {
        /// The WebSocket URL of every node, in node order; with more than
        /// one, messages carry their sender's node (see `frames`).
        ws_urls: Vec<String>,
        conns: Vec<ConnPlan>,
        /// Handshakes in flight at once.
        concurrency: usize,
    },
    Step {
        plan: StepPlan,
    },
    /// Closes every connection and exits.
    Close,
}

/// Worker -> coordinator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FromWorker {
    /// The answer to `Connect`: how many are open now (and ready).
    Connected {
        opened: u64,
        failed: u64,
        open_now: u64,
        first_error: Option<String>,
    },
    /// Boxed: a report is far larger than the other answers.
    StepDone {
        report: Box<StepReport>,
    },
    Failed {
        error: String,
    },
}

/// What one worker saw during one step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StepReport {
    /// Wall time the sending phase lasted, as this worker measured it.
    pub elapsed_ms: u64,
    pub sent: u64,
    /// `send.ok` answers (each one a durably stored message).
    pub acked: u64,
    /// `send.ok` answers that arrived before the sending phase ended.
    pub acked_in_window: u64,
    /// `error` answers to sends.
    pub send_errors: u64,
    /// `message.new` frames received (all connections).
    pub delivered: u64,
    pub delivered_in_window: u64,
    pub typing_received: u64,
    pub receipts_received: u64,
    pub other_received: u64,
    /// Control frames written besides sends (typing, ack, read).
    pub control_sent: u64,
    /// Connections the server closed, by close code.
    pub closed_by_server: Vec<(u16, u64)>,
    pub open_at_end: u64,
    /// send -> `send.ok` latency buckets (µs, count).
    pub ack_latency: Vec<(u64, u64)>,
    /// send -> `message.new` received latency buckets (µs, count).
    pub delivery_latency: Vec<(u64, u64)>,
    /// Of those, deliveries on the sender's node and on another node
    /// (recorded only when there are several nodes).
    #[serde(default)]
    pub delivery_latency_same_node: Vec<(u64, u64)>,
    #[serde(default)]
    pub delivery_latency_cross_node: Vec<(u64, u64)>,
    /// `delivered_in_window` by the node the receiving connection is on
    /// (index = node; empty when there is one node).
    #[serde(default)]
    pub delivered_in_window_by_node: Vec<u64>,
    pub first_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_tagged_json_lines() {
        let line = serde_json::to_string(&ToWorker::Close).unwrap();
        assert_eq!(line, r#"{"cmd":"close"}"#);
        let event: FromWorker = serde_json::from_str(
            r#"{"event":"connected","opened":2,"failed":0,"open_now":2,"first_error":null}"#,
        )
        .unwrap();
        assert!(matches!(event, FromWorker::Connected { opened: 2, .. }));
    }
}
