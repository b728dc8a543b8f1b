//! CPU and memory of the server, of the load generator and of the whole
//! machine over an interval: a [`Snapshot`] at each end, plus a sampler
//! that keeps the server's peak RSS in between.

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
    server: Option<procstat::ProcSample>,
    clients_ticks: u64,
    machine: Option<(u64, u64)>,
}

/// Who is measured.
#[derive(Clone, Debug)]
pub struct Watch {
    pub server: Option<u32>,
    /// This process and its workers.
    pub clients: Vec<u32>,
    pub ticks_per_second: u64,
}

impl Watch {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            server: self.server.and_then(procstat::sample),
            clients_ticks: self
                .clients
                .iter()
                .filter_map(|&pid| procstat::sample(pid))
                .map(|sample| sample.cpu_ticks)
                .sum(),
            machine: procstat::machine(),
        }
    }

    /// The server's RSS now, in KiB.
    pub fn server_rss_kib(&self) -> Option<u64> {
        procstat::sample(self.server?).map(|sample| sample.rss_kib)
    }

    /// Starts sampling the server's RSS; the returned peak resets with
    /// [`Peak::reset`].
    pub fn peak_sampler(&self) -> Peak {
        let peak = Peak(Arc::new(AtomicU64::new(0)));
        if let Some(pid) = self.server {
            let shared = peak.0.clone();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(SAMPLE_EVERY);
                while Arc::strong_count(&shared) > 1 {
                    ticks.tick().await;
                    if let Some(sample) = procstat::sample(pid) {
                        shared.fetch_max(sample.rss_kib, Ordering::Relaxed);
                    }
                }
            });
        }
        peak
    }

    /// Usage between two snapshots.
    pub fn usage(&self, from: &Snapshot, to: &Snapshot, peak: &Peak) -> Usage {
        let secs = to.at.duration_since(from.at).as_secs_f64().max(1e-6);
        let per_second = self.ticks_per_second.max(1) as f64;
        let pct = |ticks: u64| ticks as f64 / per_second / secs * 100.0;
        let server_cpu_pct = match (from.server, to.server) {
            (Some(a), Some(b)) => Some(pct(b.cpu_ticks.saturating_sub(a.cpu_ticks))),
            _ => None,
        };
        let machine_busy_pct = match (from.machine, to.machine) {
            (Some((busy_a, total_a)), Some((busy_b, total_b))) if total_b > total_a => {
                Some((busy_b - busy_a) as f64 / (total_b - total_a) as f64 * 100.0)
            }
            _ => None,
        };
        Usage {
            server_cpu_pct,
            server_rss_mib: to.server.map(|s| s.rss_kib as f64 / 1024.0),
            server_rss_peak_mib: to.server.map(|s| peak.get().max(s.rss_kib) as f64 / 1024.0),
            clients_cpu_pct: pct(to.clients_ticks.saturating_sub(from.clients_ticks)),
            machine_busy_pct,
        }
    }
}

/// The highest server RSS seen since the last reset (KiB).
pub struct Peak(Arc<AtomicU64>);

impl Peak {
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
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
