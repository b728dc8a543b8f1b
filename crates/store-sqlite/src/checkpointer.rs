//! Checkpoints of the write-ahead log, off the writer's path.
//!
//! In WAL mode SQLite folds the log back into the database file (a
//! checkpoint) by default inside the COMMIT that takes the log past 1,000
//! pages: the writer then stops committing while it copies pages and
//! fsyncs the database file, and every caller waiting on that batch waits
//! with it (a profile of a durable send load showed a quarter of the
//! writer's time there). So the writer turns automatic checkpoints off and
//! this thread, on its own connection, runs a `PASSIVE` checkpoint every
//! [`INTERVAL`]: passive checkpoints copy what readers no longer need
//! without blocking the writer or the readers, and the writer restarts the
//! log from the beginning once it has all been copied.
//!
//! Passive checkpoints alone do not bound the log: SQLite writes from the
//! start of the log again only once every frame is copied *and* no reader
//! still reads from it, which under steady writes with readers around may
//! never happen (a 60 s load once left a 1.2 GiB log beside a 62 MiB
//! database). So the writer itself empties the log (a `TRUNCATE`
//! checkpoint) between two batches once the file is past
//! `store.wal_max_bytes` (see `writer`): from its own connection nothing
//! competes for the write lock, and the readers of old snapshots finish
//! within a query; from this thread the checkpoint would wait for a gap
//! between the writer's batches that under load never comes. This thread
//! reports the log's size as the `natter_sqlite_wal_bytes` gauge.
//!
//! The writer's own final checkpoint at shutdown (`TRUNCATE`) still
//! empties the log, so a clean stop leaves a database file alone.

use crate::error::Db;
use crate::health::RepeatedFailure;
use natter_store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How often the log is checkpointed. At tens of thousands of messages/s
/// the log grows by a few MiB in this time.
const INTERVAL: Duration = Duration::from_millis(200);

/// Stops the checkpointer thread when dropped (and waits for it, so the
/// writer's final checkpoint does not race the last passive one).
pub(crate) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode),
    /// reporting the size of its log `wal`.
    pub(super) fn spawn(
        path: &Path,
        wal: PathBuf,
        busy_timeout: Duration,
    ) -> StoreResult<Checkpointer> {
        let conn = Connection::open(path).db()?;
        conn.busy_timeout(busy_timeout).db()?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("natter-sqlite-checkpoint".into())
            .spawn(move || run(conn, &wal, stopped))
            .map_err(|err| StoreError::Backend(Box::new(err)))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// The size of the log file `wal` now (0 while it does not exist).
pub(crate) fn log_size(wal: &Path) -> u64 {
    std::fs::metadata(wal).map_or(0, |meta| meta.len())
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: Connection, wal: &Path, stopped: mpsc::Receiver<()>) {
    let mut failures = RepeatedFailure::new("WAL checkpoint");
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        // The row says whether the checkpoint was blocked and how far it
        // got; a blocked one is simply tried again next time.
        failures.record(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())));
        metrics::gauge!("natter_sqlite_wal_bytes").set(log_size(wal) as f64);
    }
}
