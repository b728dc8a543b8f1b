//! What a worker's connection tasks share: counters, the two latency
//! histograms and the step schedule, plus the worker's clock.
//!
//! A worker runs on one thread (a current-thread runtime), so the mutexes
//! here are never contended; they only satisfy `Send` for `tokio::spawn`.

use crate::protocol::StepReport;
use crate::stats::Latency;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unix time in microseconds, read from one `SystemTime` reading plus a
/// monotonic offset: never goes backwards within a process, and agrees
/// with the other processes of the run to within microseconds (same
/// machine, same clock).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base: Instant,
    base_us: u64,
}

impl Clock {
    pub fn new() -> Clock {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Clock {
            base: Instant::now(),
            base_us: since_epoch.as_micros() as u64,
        }
    }

    pub fn now_us(&self) -> u64 {
        self.base_us + self.base.elapsed().as_micros() as u64
    }

    /// The instant at unix time `us` (now, if that is past).
    pub fn instant_at(&self, us: u64) -> Instant {
        self.base + Duration::from_micros(us.saturating_sub(self.base_us))
    }
}

#[derive(Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub acked_in_window: AtomicU64,
    pub send_errors: AtomicU64,
    pub delivered: AtomicU64,
    pub delivered_in_window: AtomicU64,
    pub typing_received: AtomicU64,
    pub receipts_received: AtomicU64,
    pub other_received: AtomicU64,
    pub control_sent: AtomicU64,
}

/// State shared by every connection of a worker.
pub struct Shared {
    pub worker: usize,
    pub clock: Clock,
    pub counters: Counters,
    pub ack_latency: Mutex<Latency>,
    pub delivery_latency: Mutex<Latency>,
    /// Cluster runs only: deliveries on the sender's node, on another.
    pub delivery_same_node: Mutex<Latency>,
    pub delivery_cross_node: Mutex<Latency>,
    /// Cluster runs only: in-window deliveries by the receiver's node.
    pub delivered_in_window_by_node: Mutex<Vec<u64>>,
    pub closed_by_server: Mutex<BTreeMap<u16, u64>>,
    pub first_error: Mutex<Option<String>>,
    pub open: AtomicU64,
    /// End of the current step's sending phase (unix µs).
    pub step_end_us: AtomicU64,
    /// When any frame last arrived (unix µs), to see that traffic settled.
    pub last_frame_us: AtomicU64,
}

/// Adds one to a counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Shared {
    pub fn new(worker: usize) -> Shared {
        Shared {
            worker,
            clock: Clock::new(),
            counters: Counters::default(),
            ack_latency: Mutex::new(Latency::default()),
            delivery_latency: Mutex::new(Latency::default()),
            delivery_same_node: Mutex::new(Latency::default()),
            delivery_cross_node: Mutex::new(Latency::default()),
            delivered_in_window_by_node: Mutex::new(Vec::new()),
            closed_by_server: Mutex::new(BTreeMap::new()),
            first_error: Mutex::new(None),
            open: AtomicU64::new(0),
            step_end_us: AtomicU64::new(0),
            last_frame_us: AtomicU64::new(0),
        }
    }

    pub fn in_window(&self, now_us: u64) -> bool {
        now_us < self.step_end_us.load(Ordering::Relaxed)
    }

    pub fn record_ack(&self, latency_us: u64) {
        lock(&self.ack_latency).record(latency_us);
    }

    pub fn record_delivery(&self, latency_us: u64) {
        lock(&self.delivery_latency).record(latency_us);
    }

    /// A delivery between two nodes' connections (or on one node), on
    /// top of [`Shared::record_delivery`].
    pub fn record_delivery_between(&self, latency_us: u64, same_node: bool) {
        let histogram = if same_node {
            &self.delivery_same_node
        } else {
            &self.delivery_cross_node
        };
        lock(histogram).record(latency_us);
    }

    /// An in-window delivery to a connection on `node`.
    pub fn count_delivery_on_node(&self, node: usize) {
        let mut counts = lock(&self.delivered_in_window_by_node);
        if counts.len() <= node {
            counts.resize(node + 1, 0);
        }
        counts[node] += 1;
    }

    pub fn record_close(&self, code: u16) {
        *lock(&self.closed_by_server).entry(code).or_default() += 1;
    }

    /// Keeps the first error seen (later ones are usually the same).
    pub fn record_error(&self, error: impl FnOnce() -> String) {
        let mut first = lock(&self.first_error);
        if first.is_none() {
            *first = Some(error());
        }
    }

    /// Sends waiting for an answer, summed over the connections.
    pub fn outstanding(&self) -> u64 {
        let c = &self.counters;
        let answered = c.acked.load(Ordering::Relaxed) + c.send_errors.load(Ordering::Relaxed);
        c.sent.load(Ordering::Relaxed).saturating_sub(answered)
    }

    /// Everything counted since the last take, which starts a new count.
    pub fn take(&self, elapsed_ms: u64) -> StepReport {
        let c = &self.counters;
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed);
        let mut ack = lock(&self.ack_latency);
        let mut delivery = lock(&self.delivery_latency);
        let mut same_node = lock(&self.delivery_same_node);
        let mut cross_node = lock(&self.delivery_cross_node);
        let report = StepReport {
            elapsed_ms,
            sent: take(&c.sent),
            acked: take(&c.acked),
            acked_in_window: take(&c.acked_in_window),
            send_errors: take(&c.send_errors),
            delivered: take(&c.delivered),
            delivered_in_window: take(&c.delivered_in_window),
            typing_received: take(&c.typing_received),
            receipts_received: take(&c.receipts_received),
            other_received: take(&c.other_received),
            control_sent: take(&c.control_sent),
            closed_by_server: std::mem::take(&mut *lock(&self.closed_by_server))
                .into_iter()
                .collect(),
            open_at_end: self.open.load(Ordering::Relaxed),
            ack_latency: ack.to_pairs(),
            delivery_latency: delivery.to_pairs(),
            delivery_latency_same_node: same_node.to_pairs(),
            delivery_latency_cross_node: cross_node.to_pairs(),
            delivered_in_window_by_node: std::mem::take(&mut *lock(
                &self.delivered_in_window_by_node,
            )),
            first_error: lock(&self.first_error).take(),
        };
        ack.reset();
        delivery.reset();
        same_node.reset();
        cross_node.reset();
        report
    }
}

/// Locks, ignoring poisoning (a panicked task cannot leave these
/// counters half-updated in a way that matters).
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_monotonic_and_maps_back_to_instants() {
        let clock = Clock::new();
        let a = clock.now_us();
        let b = clock.now_us();
        assert!(b >= a);
        let later = clock.instant_at(a + 1_000_000);
        assert!(later > Instant::now());
        assert!(clock.instant_at(0) <= Instant::now());
    }

    #[test]
    fn take_reports_and_resets() {
        let shared = Shared::new(0);
        bump(&shared.counters.sent);
        bump(&shared.counters.sent);
        bump(&shared.counters.acked);
        shared.record_ack(1500);
        shared.record_close(1013);
        assert_eq!(shared.outstanding(), 1);
        let report = shared.take(1000);
        assert_eq!((report.sent, report.acked), (2, 1));
        assert_eq!(report.closed_by_server, vec![(1013, 1)]);
        assert_eq!(report.ack_latency.len(), 1);
        let again = shared.take(1000);
        assert_eq!((again.sent, again.ack_latency.len()), (0, 0));
    }

    #[test]
    fn cluster_deliveries_are_split_and_counted_by_node() {
        let shared = Shared::new(0);
        shared.record_delivery_between(1_000, true);
        shared.record_delivery_between(2_000, false);
        shared.record_delivery_between(3_000, false);
        shared.count_delivery_on_node(2);
        shared.count_delivery_on_node(0);
        shared.count_delivery_on_node(2);
        let report = shared.take(1000);
        let count = |pairs: &[(u64, u64)]| pairs.iter().map(|&(_, n)| n).sum::<u64>();
        assert_eq!(count(&report.delivery_latency_same_node), 1);
        assert_eq!(count(&report.delivery_latency_cross_node), 2);
        assert_eq!(report.delivered_in_window_by_node, [1, 0, 2]);
        let again = shared.take(1000);
        assert!(again.delivery_latency_cross_node.is_empty());
        assert!(again.delivered_in_window_by_node.is_empty());
    }
}
