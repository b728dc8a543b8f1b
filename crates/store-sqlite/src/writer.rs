//! The single writer: every write of the SQLite store runs here, on one
//! connection owned by one thread, and is committed together with whatever
//! other writes were waiting (group commit).
//!
//! Why:
//! - SQLite allows one writer at a time. Many connections taking turns
//!   would spin on `SQLITE_BUSY`; one thread owning the only writing
//!   connection makes the order explicit and needs no lock retries.
//! - Durability: an fsync costs far more than the SQL of a write.
//!   Committing a batch of writes in one transaction pays one fsync for
//!   the batch, so throughput grows with load instead of being capped by
//!   fsyncs/s; and the fsync runs on a thread of its own (`syncer`) while
//!   this one runs the next batch.
//! - A caller is answered only after the `COMMIT` that contains its write
//!   succeeded and the log holding it was fsynced: an acknowledged write
//!   is on disk.
//! - Speed: the thread calls SQLite directly (rusqlite), so a job costs
//!   what its SQL costs (a few µs for an append). Through an async driver
//!   every statement was a hand-off to the driver's thread and back, ten
//!   times the SQL itself, and the whole batch waited on those hand-offs.
//!
//! Each write is a job (a closure running its SQL on the connection). The
//! thread takes the first waiting job, then whatever else is already queued
//! (up to `max_batch`), runs `BEGIN IMMEDIATE`, then each job, isolated so
//! that a job that fails is undone alone and the others keep their
//! changes; then the store's end-of-batch SQL (`before_commit`) and one
//! `COMMIT`; the syncer answers every job once the batch is on disk. If
//! the batch as a whole fails, every job gets the error and nothing of
//! the batch is kept.
//!
//! Isolation ([`Isolation`]): a job runs inside its own `SAVEPOINT` and is
//! rolled back to it if it fails — unless it writes with one single SQL
//! statement, which SQLite already undoes by itself when it fails; the hot
//! paths (appending, markers) are single statements and skip the savepoint.
//!
//! Not here: what the jobs do (the other modules of the store).

mod job;
mod syncer;

use crate::checkpointer::{Checkpointer, log_size};
use crate::error::{self, Failure, closed};
use crate::health::{RepeatedFailure, StorageHealth};
pub(crate) use job::OnCommit;
use job::{Job, Pending, Ran};
use natter_store::StoreResult;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Arc;
use syncer::Syncer;
use tokio::sync::{mpsc, oneshot, watch};

/// How a job's failure is kept from touching the rest of its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// The job runs in its own savepoint, rolled back if it fails. For any
    /// job with more than one writing statement.
    Savepoint,
    /// The job writes with exactly one SQL statement (reads around it are
    /// fine), so a failure (a constraint violation, reported as `Conflict`
    /// or `NotFound`) leaves nothing behind. Any other failure of such a
    /// job fails its whole batch, since nothing else could undo it. Such a
    /// job must not report `Conflict`/`NotFound` after its statement wrote.
    /// (An append that owes pushes writes its push job too, after its
    /// statement: that insert's failures are all of the second kind, so
    /// they fail the batch; see `messages::queue_push`.)
    Statement,
}

/// The database's write-ahead log and its bound (`store.wal_max_bytes`):
/// past it the writer empties the log between two batches.
pub(crate) struct Log {
    pub(crate) wal: PathBuf,
    pub(crate) max_bytes: u64,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Request>,
    /// Becomes true when the thread has finished (queue drained,
    /// connection closed).
    done: watch::Receiver<bool>,
    /// Whether the last write failed for want of space.
    health: Arc<StorageHealth>,
}

enum Request {
    Job(Box<dyn Pending>),
    /// Stop accepting jobs, finish the queued ones, checkpoint, close.
    Close,
}

impl Writer {
    /// Starts the writer thread on `conn` (already migrated; durability is
    /// the syncer's, see `syncer`; `log` is the database's log file and
    /// its bound).
    /// `before_commit` (statements, each prepared once) runs once per
    /// batch, after its jobs and before its COMMIT; if it fails, so does
    /// the batch.
    pub(crate) fn spawn(
        conn: Connection,
        log: Log,
        checkpointer: Checkpointer,
        max_batch: usize,
        before_commit: &'static [&'static str],
    ) -> std::io::Result<Writer> {
        let max_batch = max_batch.max(1);
        // Two batches' worth: the next batch fills up while one commits.
        // When full, callers wait in `write` (backpressure) instead of a
        // slow disk letting the queue, and memory, grow without bound.
        let (queue, requests) = mpsc::channel(max_batch * 2);
        let (finished, done) = watch::channel(false);
        let health = Arc::new(StorageHealth::new());
        let syncer = Syncer::spawn(log.wal.clone(), health.clone())?;
        let thread_health = health.clone();
        std::thread::Builder::new()
            .name("natter-sqlite-writer".into())
            .spawn(move || {
                let context = Context {
                    syncer: &syncer,
                    health: &thread_health,
                    before_commit,
                };
                let conn = run(conn, &context, &log, requests, max_batch);
                syncer.finish();
                // Stopped before the final checkpoint, which must not
                // race a passive one.
                drop(checkpointer);
                shut_down(conn);
                let _ = finished.send(true);
            })?;
        Ok(Writer {
            queue,
            done,
            health,
        })
    }

    /// True from a write that failed for want of space until one reaches
    /// the disk again.
    pub(crate) fn storage_full(&self) -> bool {
        self.health.is_full()
    }

    /// Runs `work` in its own savepoint in the next batch and answers once
    /// that batch is committed and on disk. Constraint violations come back as
    /// `Conflict` or `NotFound` (see the `From<rusqlite::Error>` of
    /// `error`); `Unavailable` once the store is closing. `work` must not
    /// commit or roll back, and runs on the writer thread: it must not
    /// block on anything but SQLite.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<T> + Send + 'static,
    {
        self.submit(Isolation::Savepoint, work).await
    }

    /// As [`write`](Self::write), for a job that writes with exactly one
    /// SQL statement (see [`Isolation::Statement`]).
    pub(crate) async fn write_statement<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<T> + Send + 'static,
    {
        self.submit(Isolation::Statement, work).await
    }

    async fn submit<T, F>(&self, isolation: Isolation, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<T> + Send + 'static,
    {
        self.enqueue(isolation, work, None).await?.await
    }

    /// Queues `work` and returns as soon as it is queued, with the future
    /// of its answer: jobs queued one after the other run (and commit) in
    /// that order, so a caller can queue several before the first answer
    /// without reordering them.
    ///
    /// `on_commit`, if given, runs on the writer thread with the job's
    /// result once its batch has committed (not if the job or the batch
    /// failed), in the order of the jobs, and whether or not the caller
    /// still waits for the answer: what must follow every commit, in
    /// commit order (announcing a new message), goes there. It must be
    /// quick and must not block.
    pub(crate) async fn enqueue<T, F>(
        &self,
        isolation: Isolation,
        work: F,
        on_commit: Option<OnCommit<T>>,
    ) -> StoreResult<impl Future<Output = StoreResult<T>> + Send + 'static>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job::new(isolation, work, on_commit, reply);
        self.queue
            .send(Request::Job(Box::new(job)))
            .await
            .map_err(|_| closed())?;
        Ok(async move { answer.await.map_err(|_| closed())? })
    }

    /// Stops accepting jobs, waits until every queued job is committed,
    /// the WAL is checkpointed and the connection closed. Idempotent.
    pub(crate) async fn close(&self) {
        // Fails only if the thread is already gone or closing: fine either way.
        let _ = self.queue.send(Request::Close).await;
        let mut done = self.done.clone();
        // An error means the thread is gone (it panicked): nothing to wait for.
        let _ = done.wait_for(|finished| *finished).await;
    }
}

/// What committing a batch needs besides the connection and the batch.
struct Context<'a> {
    syncer: &'a Syncer,
    health: &'a StorageHealth,
    before_commit: &'static [&'static str],
}

/// The writer thread: batches until the queue is closed and empty, then
/// hands the connection back.
fn run(
    conn: Connection,
    context: &Context<'_>,
    log: &Log,
    mut requests: mpsc::Receiver<Request>,
    max_batch: usize,
) -> Connection {
    let mut batch: Vec<Box<dyn Pending>> = Vec::with_capacity(max_batch);
    let mut emptying = RepeatedFailure::new("emptying the write-ahead log");
    while let Some(first) = requests.blocking_recv() {
        take(first, &mut batch, &mut requests);
        while batch.len() < max_batch {
            match requests.try_recv() {
                Ok(request) => take(request, &mut batch, &mut requests),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, context, &mut batch);
        }
        // One stat per batch keeps the log within a batch of its bound.
        if log_size(&log.wal) > log.max_bytes {
            emptying.record(empty_log(&conn));
        }
    }
    conn
}

/// Folds the whole log into the database file and truncates it (see
/// `checkpointer`). Writes wait meanwhile: this thread is the writer. The
/// checkpoint syncs the log before copying it, so batches the syncer has
/// not answered yet are as durable as it would have made them.
fn empty_log(conn: &Connection) -> Result<(), String> {
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(0) => {
            tracing::debug!("emptied the write-ahead log");
            Ok(())
        }
        // Busy: a reader held an old snapshot past the busy timeout; the
        // next batch asks again.
        Ok(_) => Err("readers were busy".into()),
        Err(err) => Err(err.to_string()),
    }
}

fn take(
    request: Request,
    batch: &mut Vec<Box<dyn Pending>>,
    requests: &mut mpsc::Receiver<Request>,
) {
    match request {
        Request::Job(job) => batch.push(job),
        // Refuse new jobs; those already queued are still received.
        Request::Close => requests.close(),
    }
}

// Savepoint statements. A savepoint is released only when the next one
// starts (or the batch ends); single-statement jobs in between simply run
// inside it, which is harmless: it is never rolled back once its own job
// is over.
const OPEN: &str = "SAVEPOINT job";
const RELEASE: &str = "RELEASE job";
/// Undoes a failed job; its savepoint stays open (released later).
const UNDO_JOB: &str = "ROLLBACK TO job";

/// Runs one batch in one transaction; a committed batch goes to the
/// syncer (answered once on disk), a failed one is answered at once.
fn commit_batch(conn: &Connection, context: &Context<'_>, batch: &mut Vec<Box<dyn Pending>>) {
    match run_batch(conn, batch, context.before_commit) {
        Ok(()) => {
            tracing::trace!(size = batch.len(), "committed a write batch");
            let capacity = batch.capacity();
            context
                .syncer
                .committed(std::mem::replace(batch, Vec::with_capacity(capacity)));
        }
        Err(failure) => {
            if failure.storage_full {
                context.health.out_of_space();
            } else {
                tracing::error!(%failure, size = batch.len(), "a write batch failed; rolling back");
            }
            // Whatever state the transaction is in (open, half-committed,
            // or already rolled back by SQLite), leave none behind.
            if !conn.is_autocommit() {
                let _ = execute(conn, "ROLLBACK");
            }
            for job in batch.drain(..) {
                job.answer(Err(failure.error()));
            }
        }
    }
}

/// `BEGIN`, the jobs (each isolated), `before_commit`, `COMMIT`. A job's
/// own failure is kept in the job; an error returned here is the batch's
/// (and nothing of the batch is committed).
fn run_batch(
    conn: &Connection,
    batch: &mut [Box<dyn Pending>],
    before_commit: &'static [&'static str],
) -> Result<(), Failure> {
    let sql = |err: rusqlite::Error| Failure::of_sqlite(&err);
    execute(conn, "BEGIN IMMEDIATE").map_err(sql)?;
    let mut savepoint_open = false;
    for job in batch.iter_mut() {
        match job.isolation() {
            Isolation::Savepoint => {
                if savepoint_open {
                    execute(conn, RELEASE).map_err(sql)?;
                }
                execute(conn, OPEN).map_err(sql)?;
                savepoint_open = true;
                if let Ran::Failed { .. } = job.run(conn) {
                    // Fails if SQLite rolled back the whole transaction.
                    execute(conn, UNDO_JOB).map_err(sql)?;
                }
            }
            Isolation::Statement => {
                if let Ran::Failed {
                    undone: false,
                    failure,
                } = job.run(conn)
                {
                    return Err(Failure::new(
                        format!("a single-statement job failed: {failure}"),
                        failure.storage_full,
                    ));
                }
            }
        }
    }
    if savepoint_open {
        execute(conn, RELEASE).map_err(sql)?;
    }
    for statement in before_commit {
        execute(conn, statement).map_err(sql)?;
    }
    execute(conn, "COMMIT").map_err(sql)
}

/// After the last batch: fold the WAL into the database file (so the
/// next start does not replay it) and close the connection.
fn shut_down(conn: Connection) {
    // The checkpoint answers with a row (busy, log and checkpointed pages).
    if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %err, "WAL checkpoint at shutdown failed");
    }
    if let Err((_, err)) = conn.close() {
        tracing::warn!(error = %err, "closing the SQLite writer failed");
    }
}

/// Runs one of the writer's own fixed statements (prepared once).
fn execute(conn: &Connection, sql: &'static str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
