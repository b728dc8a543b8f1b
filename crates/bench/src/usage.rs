//! CPU and memory of the server (every node of it), of the load
//! generator and of the whole machine over an interval: a [`Snapshot`]
//! at each end, plus a sampler that keeps the server's peak RSS in
//! between. Server figures are totals over the nodes; [`Watch::node_usage`]
//! gives them node by node.

use crate::procstat;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the peak RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

#[derive(Clone, Debug)]
pub struct Snapshot {
    at: Instant,
    /// One per node, `None` where the pid is unknown or gone.
    servers: Vec<Option<procstat::ProcSample>>,
    clients_ticks: u64,
    machine: Option<(u64, u64)>,
}

/// Who is measured.
#[derive(Clone, Debug)]
pub struct Watch {
    /// Each node's process id, where known, in node order.
    pub servers: Vec<Option<u32>>,
    /// This process and its workers.
    pub clients: Vec<u32>,
    pub ticks_per_second: u64,
}

/// The sum over every node, or `None` unless every node has a value
/// (a total that silently leaves a node out would mislead).
fn total(values: impl IntoIterator<Item = Option<u64>>) -> Option<u64> {
    let mut sum = None;
    for value in values {
        sum = Some(sum.unwrap_or(0) + value?);
    }
    sum
}

impl Watch {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            servers: self.sample_servers(),
            clients_ticks: self
                .clients
                .iter()
                .filter_map(|&pid| procstat::sample(pid))
                .map(|sample| sample.cpu_ticks)
                .sum(),
            machine: procstat::machine(),
        }
    }

    fn sample_servers(&self) -> Vec<Option<procstat::ProcSample>> {
        self.servers
            .iter()
            .map(|pid| pid.and_then(procstat::sample))
            .collect()
    }

    /// The server's RSS now (all nodes together), in KiB.
    pub fn server_rss_kib(&self) -> Option<u64> {
        total(self.sample_servers().iter().map(|s| s.map(|s| s.rss_kib)))
    }

    /// Starts sampling the server's RSS; the returned peak resets with
    /// [`Peak::reset`].
    pub fn peak_sampler(&self) -> Peak {
        let peak = Peak(Arc::new(PeakKib {
            total: AtomicU64::new(0),
            nodes: self.servers.iter().map(|_| AtomicU64::new(0)).collect(),
        }));
        if self.servers.iter().any(Option::is_some) {
            let shared = peak.0.clone();
            let watch = self.clone();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(SAMPLE_EVERY);
                while Arc::strong_count(&shared) > 1 {
                    ticks.tick().await;
                    let samples = watch.sample_servers();
                    for (peak, sample) in shared.nodes.iter().zip(&samples) {
                        if let Some(sample) = sample {
                            peak.fetch_max(sample.rss_kib, Ordering::Relaxed);
                        }
                    }
                    if let Some(sum) = total(samples.iter().map(|s| s.map(|s| s.rss_kib))) {
                        shared.total.fetch_max(sum, Ordering::Relaxed);
                    }
                }
            });
        }
        peak
    }

    /// CPU time between two readings as percent of one core.
    fn cpu_pct(&self, from: &Snapshot, to: &Snapshot, ticks: u64) -> f64 {
        let secs = to.at.duration_since(from.at).as_secs_f64().max(1e-6);
        ticks as f64 / self.ticks_per_second.max(1) as f64 / secs * 100.0
    }

    /// Each node's CPU ticks between two snapshots (`None` where unknown).
    fn node_ticks(from: &Snapshot, to: &Snapshot) -> Vec<Option<u64>> {
        from.servers
            .iter()
            .zip(&to.servers)
            .map(|pair| match pair {
                (Some(a), Some(b)) => Some(b.cpu_ticks.saturating_sub(a.cpu_ticks)),
                _ => None,
            })
            .collect()
    }

    /// Usage between two snapshots, server figures summed over the nodes.
    pub fn usage(&self, from: &Snapshot, to: &Snapshot, peak: &Peak) -> Usage {
        let server_ticks = total(Self::node_ticks(from, to));
        let server_rss = total(to.servers.iter().map(|s| s.map(|s| s.rss_kib)));
        let machine_busy_pct = match (from.machine, to.machine) {
            (Some((busy_a, total_a)), Some((busy_b, total_b))) if total_b > total_a => {
                Some((busy_b - busy_a) as f64 / (total_b - total_a) as f64 * 100.0)
            }
            _ => None,
        };
        Usage {
            server_cpu_pct: server_ticks.map(|ticks| self.cpu_pct(from, to, ticks)),
            server_rss_mib: server_rss.map(|kib| kib as f64 / 1024.0),
            server_rss_peak_mib: server_rss
                .map(|kib| peak.0.total.load(Ordering::Relaxed).max(kib) as f64 / 1024.0),
            clients_cpu_pct: self.cpu_pct(
                from,
                to,
                to.clients_ticks.saturating_sub(from.clients_ticks),
            ),
            machine_busy_pct,
        }
    }

    /// Usage of each node between two snapshots, in node order.
    pub fn node_usage(&self, from: &Snapshot, to: &Snapshot, peak: &Peak) -> Vec<NodeUsage> {
        Self::node_ticks(from, to)
            .into_iter()
            .zip(&to.servers)
            .zip(&peak.0.nodes)
            .map(|((ticks, sample), node_peak)| NodeUsage {
                cpu_pct: ticks.map(|ticks| self.cpu_pct(from, to, ticks)),
                rss_mib: sample.map(|s| s.rss_kib as f64 / 1024.0),
                rss_peak_mib: sample
                    .map(|s| node_peak.load(Ordering::Relaxed).max(s.rss_kib) as f64 / 1024.0),
            })
            .collect()
    }
}

struct PeakKib {
    /// Highest sum over the nodes seen at one sampling.
    total: AtomicU64,
    nodes: Vec<AtomicU64>,
}

/// The highest server RSS seen since the last reset (KiB), in total and
/// per node.
pub struct Peak(Arc<PeakKib>);

impl Peak {
    pub fn reset(&self) {
        self.0.total.store(0, Ordering::Relaxed);
        for node in &self.0.nodes {
            node.store(0, Ordering::Relaxed);
        }
    }
}

/// CPU is in percent of one core (200 % is both cores of this machine);
/// the machine's busy share is of all cores.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Usage {
    pub server_cpu_pct: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub server_rss_peak_mib: Option<f64>,
    pub clients_cpu_pct: f64,
    pub machine_busy_pct: Option<f64>,
}

/// One node's share of [`Usage`]'s server figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeUsage {
    pub cpu_pct: Option<f64>,
    pub rss_mib: Option<f64>,
    pub rss_peak_mib: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_need_every_node() {
        assert_eq!(total([Some(1), Some(2), Some(3)]), Some(6));
        assert_eq!(total([Some(1), None]), None);
        assert_eq!(total([]), None);
    }

    #[tokio::test]
    async fn every_node_is_measured_and_summed() {
        let me = std::process::id();
        let watch = Watch {
            servers: vec![Some(me), Some(me)],
            clients: vec![],
            ticks_per_second: 100,
        };
        let peak = watch.peak_sampler();
        let from = watch.snapshot();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let to = watch.snapshot();
        let nodes = watch.node_usage(&from, &to, &peak);
        assert_eq!(nodes.len(), 2);
        let one = nodes[0].rss_mib.unwrap();
        let both = watch.usage(&from, &to, &peak).server_rss_mib.unwrap();
        assert!(both >= 1.9 * one && both <= 2.1 * one, "{both} vs {one}");
        let unknown = Watch {
            servers: vec![Some(me), None],
            ..watch
        };
        assert!(unknown.server_rss_kib().is_none());
        let nodes = unknown.node_usage(&from, &unknown.snapshot(), &peak);
        assert_eq!(nodes[1], NodeUsage::default());
    }
}
