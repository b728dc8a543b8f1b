//! What a run against several nodes adds: which node each connection
//! goes to, and per step the figures node by node (CPU, RSS, deliveries
//! and CPU per 1,000 deliveries) plus the send -> delivered latency split
//! into same-node and cross-node deliveries. A one-node run uses none of
//! it, so its results read exactly as before.
//!
//! A delivery is same-node when the receiving connection is on the node
//! its sender's connection is on (a sender's own echo always is); the
//! sender's node travels in the message content (see `frames`).

use crate::protocol::StepReport;
use crate::report::StepResult;
use crate::stats::{Latency, Summary};
use crate::usage::NodeUsage;
use serde::Serialize;
use std::fmt::Write as _;

/// The node of user `user`'s connection: users are spread over the nodes
/// in turn (user i on node i mod N). Every layout numbers a chat's
/// members consecutively, so a chat of N or more members has members on
/// every node, and a member's neighbour in the chat (in a pair, the other
/// sender) is on the next node.
pub fn node_of(user: usize, nodes: usize) -> usize {
    user % nodes.max(1)
}

/// Which node a REST call with this index goes to (round robin). Setup
/// calls may go to any node; spreading them keeps one node from doing
/// all the registration work.
pub fn rest_node(call: usize, nodes: usize) -> usize {
    call % nodes.max(1)
}

/// One node's figures in one step.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeStep {
    /// Index into the run's `nodes`.
    pub node: usize,
    #[serde(flatten)]
    pub usage: NodeUsage,
    /// `message.new` frames received by this node's connections during
    /// the sending phase, per second.
    pub deliveries_per_s: f64,
    /// This node's CPU time per 1,000 of those deliveries, in ms (target
    /// SO8); `None` without a pid or without deliveries.
    pub cpu_ms_per_1000_deliveries: Option<f64>,
}

/// send -> `message.new` received, by whether both ends were on one node.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeliverySplit {
    pub same_node: Summary,
    pub cross_node: Summary,
    /// Cross-node p99 over same-node p99 of this step (target SO4: at
    /// most 1.5); `None` when either side has no deliveries.
    pub cross_over_same_p99: Option<f64>,
}

/// CPU ms per 1,000 deliveries from a CPU share (percent of one core)
/// and a delivery rate.
fn cpu_ms_per_1000(cpu_pct: Option<f64>, deliveries_per_s: f64) -> Option<f64> {
    (deliveries_per_s > 0.0).then_some(cpu_pct? * 10_000.0 / deliveries_per_s)
}

/// Adds the per-node figures and the latency split to a merged step.
pub fn add_nodes(result: &mut StepResult, reports: &[StepReport], usage: Vec<NodeUsage>) {
    let mut delivered = vec![0u64; usage.len()];
    let (mut same, mut cross) = (Latency::default(), Latency::default());
    for report in reports {
        for (node, count) in report.delivered_in_window_by_node.iter().enumerate() {
            if let Some(total) = delivered.get_mut(node) {
                *total += count;
            }
        }
        same.add_pairs(&report.delivery_latency_same_node);
        cross.add_pairs(&report.delivery_latency_cross_node);
    }
    let secs = result.duration_s.max(1e-3);
    result.nodes = usage
        .into_iter()
        .zip(delivered)
        .enumerate()
        .map(|(node, (usage, delivered))| {
            let deliveries_per_s = delivered as f64 / secs;
            NodeStep {
                node,
                cpu_ms_per_1000_deliveries: cpu_ms_per_1000(usage.cpu_pct, deliveries_per_s),
                usage,
                deliveries_per_s,
            }
        })
        .collect();
    let (same_node, cross_node) = (same.summary(), cross.summary());
    let cross_over_same_p99 = (same_node.count > 0 && cross_node.count > 0)
        .then(|| cross_node.p99_us as f64 / same_node.p99_us.max(1) as f64);
    result.send_to_delivery_split = Some(DeliverySplit {
        same_node,
        cross_node,
        cross_over_same_p99,
    });
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The per-node tables of the steps; empty for a one-node run.
pub fn nodes_table(steps: &[StepResult]) -> String {
    let mut out = String::new();
    if steps.iter().all(|step| step.nodes.is_empty()) {
        return out;
    }
    let _ = writeln!(out, "\nper node (CPU ms per 1,000 deliveries: target SO8)");
    let _ = writeln!(
        out,
        "{:<14} {:>5} {:>8} {:>8} {:>11} {:>12}",
        "step", "node", "srv cpu%", "srv MiB", "deliver/s", "cpu ms/1000"
    );
    for step in steps {
        let rows = step.nodes.iter().map(|node| {
            let usage = &node.usage;
            (
                node.node.to_string(),
                usage.cpu_pct,
                usage.rss_mib,
                node.deliveries_per_s,
            )
        });
        let all = (
            "all".to_owned(),
            step.usage.server_cpu_pct,
            step.usage.server_rss_mib,
            step.deliveries_per_s,
        );
        for (node, cpu, rss, deliveries) in rows.chain([all]) {
            let _ = writeln!(
                out,
                "{:<14} {:>5} {:>8} {:>8} {:>11} {:>12}",
                step.label,
                node,
                opt(cpu, 0),
                opt(rss, 0),
                crate::report::thousands(deliveries),
                opt(cpu_ms_per_1000(cpu, deliveries), 2),
            );
        }
    }
    let _ = writeln!(
        out,
        "\nsend -> message.new received, ms: p50 / p90 / p99 / p99.9 / max (SO4: cross p99 <= 1.5 x same p99)"
    );
    let _ = writeln!(
        out,
        "{:<14} {:<38} {:<38} {:>10}",
        "step", "same node", "cross node", "cross/same"
    );
    for step in steps {
        let Some(split) = &step.send_to_delivery_split else {
            continue;
        };
        let _ = writeln!(
            out,
            "{:<14} {:<38} {:<38} {:>10}",
            step.label,
            split.same_node.millis_row(),
            split.cross_node.millis_row(),
            opt(split.cross_over_same_p99, 2),
        );
    }
    out
}

/// The run's nodes as one line, `0 http://... 1 http://...`.
pub fn nodes_line(urls: &[String]) -> String {
    let named: Vec<String> = urls
        .iter()
        .enumerate()
        .map(|(node, url)| format!("{node} {url}"))
        .collect();
    format!("nodes: {}", named.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;

    #[test]
    fn users_take_the_nodes_in_turn() {
        let nodes: Vec<usize> = (0..7).map(|user| node_of(user, 3)).collect();
        assert_eq!(nodes, [0, 1, 2, 0, 1, 2, 0]);
        assert!((0..50).all(|user| node_of(user, 1) == 0));
        assert_eq!(rest_node(4, 3), 1);
        assert_eq!(rest_node(4, 1), 0);
    }

    fn report(by_node: Vec<u64>, same_us: u64, cross_us: u64) -> StepReport {
        let (mut same, mut cross) = (Latency::default(), Latency::default());
        same.record(same_us);
        cross.record(cross_us);
        StepReport {
            elapsed_ms: 2_000,
            delivered_in_window_by_node: by_node,
            delivery_latency_same_node: same.to_pairs(),
            delivery_latency_cross_node: cross.to_pairs(),
            ..StepReport::default()
        }
    }

    #[test]
    fn nodes_get_their_deliveries_cpu_and_the_latency_split() {
        let reports = [
            report(vec![1_000, 3_000], 2_000, 3_000),
            report(vec![1_000], 2_000, 3_000),
        ];
        let mut step = StepResult::merge("max".into(), 0.0, 4, &reports, Usage::default());
        let usage = vec![
            NodeUsage {
                cpu_pct: Some(50.0),
                rss_mib: Some(100.0),
                rss_peak_mib: Some(110.0),
            },
            NodeUsage::default(),
        ];
        add_nodes(&mut step, &reports, usage);
        assert_eq!(step.nodes.len(), 2);
        // 2,000 deliveries over 2 s at half a core: 500 ms per 1,000.
        assert_eq!(step.nodes[0].deliveries_per_s, 1_000.0);
        assert_eq!(step.nodes[0].cpu_ms_per_1000_deliveries, Some(500.0));
        assert_eq!(step.nodes[1].deliveries_per_s, 1_500.0);
        assert_eq!(step.nodes[1].cpu_ms_per_1000_deliveries, None);
        let split = step.send_to_delivery_split.clone().unwrap();
        assert_eq!((split.same_node.count, split.cross_node.count), (2, 2));
        let ratio = split.cross_over_same_p99.unwrap();
        assert!((1.49..1.51).contains(&ratio), "{ratio}");
        let table = nodes_table(std::slice::from_ref(&step));
        assert!(table.contains("cross node"), "{table}");
        assert!(
            table
                .lines()
                .any(|line| line.starts_with("max") && line.contains(" all "))
        );
        assert!(table.contains("500.00"), "{table}");
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["nodes"][0]["cpu_pct"], 50.0);
        assert_eq!(json["send_to_delivery_split"]["cross_node"]["count"], 2);
    }

    #[test]
    fn a_one_node_step_reads_as_before() {
        let step = StepResult::merge("max".into(), 0.0, 4, &[], Usage::default());
        assert_eq!(nodes_table(std::slice::from_ref(&step)), "");
        let json = serde_json::to_value(&step).unwrap();
        assert!(json.get("nodes").is_none());
        assert!(json.get("send_to_delivery_split").is_none());
        assert_eq!(
            nodes_line(&["http://127.0.0.1:1".into(), "http://127.0.0.1:2".into()]),
            "nodes: 0 http://127.0.0.1:1, 1 http://127.0.0.1:2"
        );
    }
}
