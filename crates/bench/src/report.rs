//! Results: one [`StepResult`] per measured step (merged from every
//! worker's report), the idle-memory figure, the printed tables and the
//! JSON file.

use crate::cluster::{DeliverySplit, NodeStep, nodes_table};
use crate::protocol::StepReport;
use crate::stats::{Latency, Summary};
use crate::usage::Usage;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One step, all workers together.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StepResult {
    pub label: String,
    /// Messages per second asked for (0: as fast as possible).
    pub target_rate: f64,
    pub duration_s: f64,
    pub sending_connections: u64,
    pub sent: u64,
    pub sent_per_s: f64,
    /// `send.ok` answers: durably stored messages.
    pub persisted: u64,
    /// `send.ok` answers received during the sending phase, per second.
    pub persisted_per_s: f64,
    pub send_errors: u64,
    pub deliveries: u64,
    /// `message.new` frames received during the sending phase, per second.
    pub deliveries_per_s: f64,
    pub send_to_ack: Summary,
    pub send_to_delivery: Summary,
    /// Cluster runs: `send_to_delivery` split into same-node and
    /// cross-node deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_to_delivery_split: Option<DeliverySplit>,
    pub typing_received: u64,
    pub receipts_received: u64,
    pub control_sent: u64,
    pub closed_by_server: BTreeMap<u16, u64>,
    pub open_at_end: u64,
    pub first_error: Option<String>,
    pub usage: Usage,
    /// Cluster runs: each node's usage and deliveries (`usage` has the
    /// totals).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeStep>,
}

impl StepResult {
    /// Merges the workers' reports of one step.
    pub fn merge(
        label: String,
        target_rate: f64,
        senders: u64,
        reports: &[StepReport],
        usage: Usage,
    ) -> StepResult {
        let mut ack = Latency::default();
        let mut delivery = Latency::default();
        let mut result = StepResult {
            label,
            target_rate,
            sending_connections: senders,
            usage,
            ..StepResult::default()
        };
        let mut elapsed_ms = 0;
        let mut persisted_in_window = 0;
        let mut delivered_in_window = 0;
        for report in reports {
            elapsed_ms = elapsed_ms.max(report.elapsed_ms);
            result.sent += report.sent;
            result.persisted += report.acked;
            persisted_in_window += report.acked_in_window;
            result.send_errors += report.send_errors;
            result.deliveries += report.delivered;
            delivered_in_window += report.delivered_in_window;
            result.typing_received += report.typing_received;
            result.receipts_received += report.receipts_received;
            result.control_sent += report.control_sent;
            result.open_at_end += report.open_at_end;
            for &(code, count) in &report.closed_by_server {
                *result.closed_by_server.entry(code).or_default() += count;
            }
            if result.first_error.is_none() {
                result.first_error.clone_from(&report.first_error);
            }
            ack.add_pairs(&report.ack_latency);
            delivery.add_pairs(&report.delivery_latency);
        }
        let secs = (elapsed_ms as f64 / 1000.0).max(1e-3);
        result.duration_s = secs;
        result.sent_per_s = result.sent as f64 / secs;
        result.persisted_per_s = persisted_in_window as f64 / secs;
        result.deliveries_per_s = delivered_in_window as f64 / secs;
        result.send_to_ack = ack.summary();
        result.send_to_delivery = delivery.summary();
        result
    }
}

/// The `idle` scenario's figure.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IdleResult {
    pub connections: u64,
    pub failed: u64,
    pub rss_before_kib: u64,
    pub rss_half_kib: u64,
    pub rss_after_kib: u64,
    /// (after - before) / connections.
    pub bytes_per_connection: f64,
    /// (after - half) / (connections opened in the second half): the
    /// marginal cost, free of one-off warm-up growth.
    pub marginal_bytes_per_connection: f64,
    pub server_cpu_pct_idle: Option<f64>,
    pub closed_during_hold: BTreeMap<u16, u64>,
    pub open_at_end: u64,
    /// Cluster runs: each node's CPU and RSS over the hold (the figures
    /// above are totals over the nodes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeStep>,
}

/// A number with thousands separators, for reading large rates.
pub fn thousands(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if rounded < 0 {
        out.insert(0, '-');
    }
    out
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The steps as two aligned tables: rates and usage, then latencies.
pub fn steps_table(steps: &[StepResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:>9} {:>10} {:>10} {:>11} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "step",
        "target/s",
        "sent/s",
        "persist/s",
        "deliver/s",
        "errors",
        "srv cpu%",
        "srv MiB",
        "gen cpu%",
        "machine%",
        "closed"
    );
    for step in steps {
        let closed: u64 = step.closed_by_server.values().sum();
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>10} {:>10} {:>11} {:>6} {:>8} {:>8} {:>8.0} {:>8} {:>7}",
            step.label,
            if step.target_rate > 0.0 {
                thousands(step.target_rate)
            } else {
                "max".to_owned()
            },
            thousands(step.sent_per_s),
            thousands(step.persisted_per_s),
            thousands(step.deliveries_per_s),
            step.send_errors,
            opt(step.usage.server_cpu_pct, 0),
            opt(step.usage.server_rss_mib, 0),
            step.usage.clients_cpu_pct,
            opt(step.usage.machine_busy_pct, 0),
            closed,
        );
    }
    let _ = writeln!(out, "\nlatency in ms: p50 / p90 / p99 / p99.9 / max");
    let _ = writeln!(
        out,
        "{:<14} {:<38} {:<38}",
        "step", "send -> send.ok", "send -> message.new received"
    );
    for step in steps {
        let _ = writeln!(
            out,
            "{:<14} {:<38} {:<38}",
            step.label,
            step.send_to_ack.millis_row(),
            step.send_to_delivery.millis_row()
        );
    }
    out.push_str(&nodes_table(steps));
    out
}

/// The idle figure as a few lines.
pub fn idle_table(idle: &IdleResult) -> String {
    let mut out = format!(
        "idle connections: {} open ({} failed, {} open at end)\n\
         server RSS: {:.1} MiB before, {:.1} MiB at half, {:.1} MiB after\n\
         memory per connection: {:.0} bytes ({:.2} KiB); marginal (second half): {:.0} bytes ({:.2} KiB)\n",
        idle.connections,
        idle.failed,
        idle.open_at_end,
        idle.rss_before_kib as f64 / 1024.0,
        idle.rss_half_kib as f64 / 1024.0,
        idle.rss_after_kib as f64 / 1024.0,
        idle.bytes_per_connection,
        idle.bytes_per_connection / 1024.0,
        idle.marginal_bytes_per_connection,
        idle.marginal_bytes_per_connection / 1024.0,
    );
    for node in &idle.nodes {
        let usage = &node.usage;
        let _ = writeln!(
            out,
            "node {}: {} MiB RSS, {} % CPU during the hold",
            node.node,
            opt(usage.rss_mib, 1),
            opt(usage.cpu_pct, 1)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(152_345.6), "152,346");
        assert_eq!(thousands(-1234.0), "-1,234");
    }

    #[test]
    fn reports_merge_into_rates_and_latencies() {
        let mut latency = Latency::default();
        latency.record(2_000);
        let report = StepReport {
            elapsed_ms: 2_000,
            sent: 100,
            acked: 100,
            acked_in_window: 90,
            delivered: 400,
            delivered_in_window: 380,
            closed_by_server: vec![(1013, 1)],
            ack_latency: latency.to_pairs(),
            ..StepReport::default()
        };
        let step = StepResult::merge(
            "x".into(),
            100.0,
            5,
            &[report.clone(), report],
            Usage::default(),
        );
        assert_eq!(step.sent, 200);
        assert_eq!(step.persisted_per_s, 90.0);
        assert_eq!(step.deliveries_per_s, 380.0);
        assert_eq!(step.closed_by_server.get(&1013), Some(&2));
        assert_eq!(step.send_to_ack.count, 2);
        let table = steps_table(&[step]);
        assert!(table.contains("send -> send.ok"));
        assert!(table.lines().nth(1).unwrap().starts_with("x "));
        assert!(table.contains("2.00 / 2.00"));
    }

    #[test]
    fn the_idle_figure_reads_in_kib() {
        let idle = IdleResult {
            connections: 10_000,
            bytes_per_connection: 6_144.0,
            ..IdleResult::default()
        };
        assert!(idle_table(&idle).contains("6144 bytes (6.00 KiB)"));
    }
}

/// What the `push` scenario measured.
#[derive(Clone, Debug, Serialize)]
pub struct PushResult {
    pub messages_sent: u64,
    /// Pushes owed: each message times its group's recipients.
    pub pushes_expected: u64,
    /// Pushes the local push service accepted within the drain time.
    pub pushes_received: u64,
    /// Accepted pushes per second, first send to last push.
    pub pushes_per_sec: f64,
    /// From the client starting a send to the push service taking the
    /// push (includes the send's own store time).
    pub send_to_push: Summary,
    /// The server's own `natter_push_latency_seconds` quantiles (message
    /// stored -> push service answered), in milliseconds, by quantile.
    pub server_store_to_push_ms: Vec<(String, f64)>,
    pub server_cpu_pct: Option<f64>,
}

/// The `push` scenario's figures as text.
pub fn push_table(push: &PushResult) -> String {
    let server: Vec<String> = push
        .server_store_to_push_ms
        .iter()
        .map(|(quantile, ms)| format!("p{quantile} {ms:.2} ms"))
        .collect();
    format!(
        "messages sent: {}; pushes expected {}, received {}; {} pushes/s\n\
         send -> push p50/p90/p99/p999/max (ms): {}\n\
         server, store -> push service: {}\n\
         server CPU: {}\n",
        push.messages_sent,
        push.pushes_expected,
        push.pushes_received,
        thousands(push.pushes_per_sec),
        push.send_to_push.millis_row(),
        server.join(", "),
        push.server_cpu_pct
            .map_or_else(|| "-".to_owned(), |pct| format!("{pct:.0} %")),
    )
}
