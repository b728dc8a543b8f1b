//! Durability off the writer's path.
//!
//! With `synchronous=FULL` SQLite waits for an fsync of the log inside
//! every COMMIT, and the writer can do nothing else meanwhile: a profile of
//! a durable send load showed it idle about half the time, waiting for the
//! disk, while the next batch queued up. So the writer's connection runs
//! with `synchronous=NORMAL` (a COMMIT writes the log but does not wait for
//! the disk) and hands every committed batch to this thread, which fsyncs
//! the log and only then answers the batch's jobs and runs their
//! on-commit actions. The writer meanwhile runs the next batch, and hands
//! it over when this fsync is done (a rendezvous: at most one batch is
//! being synced while one is being written). Waiting there is what keeps
//! batches large under load, as waiting for its own fsync did before:
//! committing every few jobs would pay the per-commit page writes each
//! time.
//!
//! The guarantee is the one of `FULL`: a job is answered (and a new
//! message announced) only after an fsync that began after its COMMIT
//! wrote the log. A crash of the process loses nothing either way (the
//! log is in the kernel's cache); a power cut may lose batches that were
//! committed but not yet answered, which nobody was told are stored. Other
//! connections of this process may read such a batch for the millisecond
//! or two before its fsync. SQLite itself still syncs the log before every
//! checkpoint copies it into the database file.

use super::job::Pending;
use crate::error::Failure;
use crate::health::StorageHealth;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

/// Committed batches on their way to the disk.
pub(super) struct Syncer {
    batches: mpsc::SyncSender<Vec<Box<dyn Pending>>>,
    thread: JoinHandle<()>,
}

impl Syncer {
    /// Starts the thread that fsyncs `wal`, the database's log file, and
    /// tells `health` how each fsync went.
    pub(super) fn spawn(wal: PathBuf, health: Arc<StorageHealth>) -> std::io::Result<Syncer> {
        let (batches, committed) = mpsc::sync_channel(0);
        let thread = std::thread::Builder::new()
            .name("natter-sqlite-sync".into())
            .spawn(move || run(wal, &health, committed))?;
        Ok(Syncer { batches, thread })
    }

    /// Takes a committed batch, once the previous one is on disk; its jobs
    /// are answered once it is on disk too.
    pub(super) fn committed(&self, batch: Vec<Box<dyn Pending>>) {
        if let Err(mpsc::SendError(batch)) = self.batches.send(batch) {
            // The thread is gone (it panicked): nothing can vouch for the
            // disk any more.
            answer_all(
                batch,
                Err(Failure::new("the log syncer stopped".into(), false)),
            );
        }
    }

    /// Waits until every batch handed over is on disk and answered.
    pub(super) fn finish(self) {
        drop(self.batches);
        let _ = self.thread.join();
    }
}

fn run(wal: PathBuf, health: &StorageHealth, committed: mpsc::Receiver<Vec<Box<dyn Pending>>>) {
    let mut log: Option<File> = None;
    while let Ok(batch) = committed.recv() {
        let synced = sync(&mut log, &wal);
        match &synced {
            Ok(()) => health.wrote(),
            Err(failure) if failure.storage_full => health.out_of_space(),
            Err(failure) => tracing::error!(%failure, "syncing the SQLite log failed"),
        }
        if synced.is_err() {
            // Open it afresh next time.
            log = None;
        }
        answer_all(batch, synced);
    }
}

/// Flushes the log file (opened on first use: SQLite creates it with the
/// first write) to the disk.
fn sync(log: &mut Option<File>, wal: &PathBuf) -> Result<(), Failure> {
    let file = match log {
        Some(file) => file,
        None => log.insert(
            File::open(wal).map_err(|err| Failure::of_io(wal.display().to_string(), &err))?,
        ),
    };
    file.sync_data()
        .map_err(|err| Failure::of_io(format!("fsync of {}", wal.display()), &err))
}

fn answer_all(batch: Vec<Box<dyn Pending>>, synced: Result<(), Failure>) {
    for job in batch {
        job.answer(synced.as_ref().map_err(Failure::error).copied());
    }
}
