//! Whether the store can write, as far as space goes: once a write fails
//! for want of space (a full disk, SQLite's `SQLITE_FULL` or an fsync's
//! `ENOSPC`) the store says so to every caller (`Unavailable(StorageFull)`,
//! and `ping` for `/readyz`) until a write is on disk again. Logged once
//! when an episode starts and once when it ends, never per request; the
//! `natter_storage_full` gauge is 1 meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug)]
pub(crate) struct StorageHealth {
    full: AtomicBool,
}

impl StorageHealth {
    pub(crate) fn new() -> StorageHealth {
        metrics::gauge!("natter_storage_full").set(0.0);
        StorageHealth {
            full: AtomicBool::new(false),
        }
    }

    /// A write failed for want of space.
    pub(crate) fn out_of_space(&self) {
        if !self.full.swap(true, Ordering::Relaxed) {
            tracing::error!("storage is full: writes fail until space is freed");
            metrics::gauge!("natter_storage_full").set(1.0);
        }
    }

    /// A write reached the disk.
    pub(crate) fn wrote(&self) {
        if self.full.swap(false, Ordering::Relaxed) {
            tracing::info!("storage has room again: writes succeed");
            metrics::gauge!("natter_storage_full").set(0.0);
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }
}

/// A failure that repeats on a timer (a checkpoint every 200 ms): logged
/// when it starts and when it ends, not each time.
pub(crate) struct RepeatedFailure {
    what: &'static str,
    failing: bool,
}

impl RepeatedFailure {
    /// `what` names the attempt in the log, e.g. "WAL checkpoint".
    pub(crate) fn new(what: &'static str) -> RepeatedFailure {
        RepeatedFailure {
            what,
            failing: false,
        }
    }

    pub(crate) fn record<E: std::fmt::Display>(&mut self, outcome: Result<(), E>) {
        match outcome {
            Err(error) if !self.failing => {
                self.failing = true;
                tracing::warn!(%error, "{} failed (logged again only once it works)", self.what);
            }
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("{} works again", self.what);
            }
            _ => {}
        }
    }
}
