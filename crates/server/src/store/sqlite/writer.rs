//! The single writer: every write of the SQLite store runs here, on one
//! connection owned by one task, and is committed together with whatever
//! other writes were waiting (group commit).
//!
//! Why:
//! - SQLite allows one writer at a time. Many connections taking turns
//!   would spin on `SQLITE_BUSY`; one task owning the only writing
//!   connection makes the order explicit and needs no lock retries.
//! - Durability: with `synchronous=FULL` every `COMMIT` waits for an
//!   fsync, which costs far more than the SQL itself. Committing a batch
//!   of writes in one transaction pays that fsync once for the batch, so
//!   throughput grows with load instead of being capped by fsyncs/s.
//! - A caller is answered only after the `COMMIT` that contains its write
//!   succeeded: an acknowledged write is on disk.
//!
//! Each write is a job (a closure running its SQL on the connection). The
//! task takes the first waiting job, then whatever else is already queued
//! (up to `max_batch`), runs `BEGIN IMMEDIATE`, then each job, isolated so
//! that a job that fails is undone alone and the others keep their
//! changes; then the store's end-of-batch SQL (`before_commit`), one
//! `COMMIT`, and only then it answers every job. If the batch as a whole
//! fails, every job gets the error and nothing of the batch is kept.
//!
//! Isolation ([`Isolation`]): a job runs inside its own `SAVEPOINT` and is
//! rolled back to it if it fails — unless it writes with one single SQL
//! statement, which SQLite already undoes by itself when it fails. Every
//! call into the connection is a round trip to SQLite's worker thread
//! (about 20 µs here, more than most statements cost), so the hot paths
//! (appending, markers) are single statements and skip the savepoint.
//!
//! Not here: what the jobs do (the other modules of the store).

mod job;

use super::error::batch_failed;
use crate::store::{StoreError, StoreResult};
use futures_util::future::BoxFuture;
use job::{Job, Pending, Ran};
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot, watch};

/// How a job's failure is kept from touching the rest of its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Isolation {
    /// The job runs in its own savepoint, rolled back if it fails. For any
    /// job with more than one writing statement.
    Savepoint,
    /// The job writes with exactly one SQL statement (reads around it are
    /// fine), so a failure (a constraint violation, reported as `Conflict`
    /// or `NotFound`) leaves nothing behind. Any other failure of such a
    /// job fails its whole batch, since nothing else could undo it. Such a
    /// job must not report `Conflict`/`NotFound` after its statement wrote.
    Statement,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Request>,
    /// Becomes true when the task has finished (queue drained, connection
    /// closed).
    done: watch::Receiver<bool>,
}

enum Request {
    Job(Box<dyn Pending>),
    /// Stop accepting jobs, finish the queued ones, checkpoint, close.
    Close,
}

impl Writer {
    /// Starts the writer task on `conn` (already migrated). `before_commit`
    /// runs once per batch, after its jobs and before its COMMIT; if it
    /// fails, so does the batch.
    pub(super) fn spawn(
        conn: SqliteConnection,
        max_batch: usize,
        before_commit: &'static str,
    ) -> Writer {
        let max_batch = max_batch.max(1);
        // Two batches' worth: the next batch fills up while one commits.
        // When full, callers wait in `write` (backpressure) instead of a
        // slow disk letting the queue, and memory, grow without bound.
        let (queue, requests) = mpsc::channel(max_batch * 2);
        let (finished, done) = watch::channel(false);
        tokio::spawn(async move {
            run(conn, requests, max_batch, before_commit).await;
            let _ = finished.send(true);
        });
        Writer { queue, done }
    }

    /// Runs `work` in its own savepoint in the next batch and answers once
    /// that batch is committed. Constraint violations come back as
    /// `Conflict` or `NotFound` (see [`classify`](super::error::classify));
    /// `Closed` once the store is closing. `work` must not commit or roll
    /// back.
    pub(super) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        // Spelled out (not a trait alias) so closures get their signature
        // inferred at the call sites.
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(Isolation::Savepoint, work).await
    }

    /// As [`write`](Self::write), for a job that writes with exactly one
    /// SQL statement (see [`Isolation::Statement`]): one round trip less.
    pub(super) async fn write_statement<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(Isolation::Statement, work).await
    }

    async fn submit<T, F>(&self, isolation: Isolation, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job::new(isolation, work, reply);
        self.queue
            .send(Request::Job(Box::new(job)))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops accepting jobs, waits until every queued job is committed,
    /// the WAL is checkpointed and the connection closed. Idempotent.
    pub(super) async fn close(&self) {
        // Fails only if the task is already gone or closing: fine either way.
        let _ = self.queue.send(Request::Close).await;
        let mut done = self.done.clone();
        // An error means the task is gone (it panicked): nothing to wait for.
        let _ = done.wait_for(|finished| *finished).await;
    }
}

/// The writer task: batches until the queue is closed and empty.
async fn run(
    mut conn: SqliteConnection,
    mut requests: mpsc::Receiver<Request>,
    max_batch: usize,
    before_commit: &'static str,
) {
    let mut batch: Vec<Box<dyn Pending>> = Vec::with_capacity(max_batch);
    while let Some(first) = requests.recv().await {
        take(first, &mut batch, &mut requests);
        while batch.len() < max_batch {
            match requests.try_recv() {
                Ok(request) => take(request, &mut batch, &mut requests),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, &mut batch, before_commit).await;
        }
    }
    shut_down(conn).await;
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
// starts (or the batch ends), so that both travel in one round trip;
// single-statement jobs in between simply run inside it, which is
// harmless: it is never rolled back once its own job is over. (SQLite
// stops a multi-statement string at its first error.)
const OPEN: &str = "SAVEPOINT job";
const RELEASE_AND_OPEN: &str = "RELEASE job; SAVEPOINT job";
const RELEASE: &str = "RELEASE job";
/// Undoes a failed job; its savepoint stays open (released later).
const UNDO_JOB: &str = "ROLLBACK TO job";

/// Runs one batch in one transaction and answers its jobs.
async fn commit_batch(
    conn: &mut SqliteConnection,
    batch: &mut Vec<Box<dyn Pending>>,
    before_commit: &'static str,
) {
    let outcome = run_batch(conn, batch, before_commit).await;
    if let Err(reason) = &outcome {
        tracing::error!(%reason, size = batch.len(), "a write batch failed; rolling back");
        // Whatever state the transaction is in (open, half-committed, or
        // already rolled back by SQLite), leave none behind.
        let _ = execute(conn, "ROLLBACK").await;
    } else {
        tracing::trace!(size = batch.len(), "committed a write batch");
    }
    for job in batch.drain(..) {
        job.answer(
            outcome
                .as_ref()
                .map(|_| ())
                .map_err(|reason| batch_failed(reason)),
        );
    }
}

/// `BEGIN`, the jobs (each isolated), `before_commit`, `COMMIT`. A job's
/// own failure is kept in the job; an error returned here is the batch's
/// (and nothing of the batch is committed).
async fn run_batch(
    conn: &mut SqliteConnection,
    batch: &mut [Box<dyn Pending>],
    before_commit: &'static str,
) -> Result<(), String> {
    let sql = |err: sqlx::Error| err.to_string();
    execute(conn, "BEGIN IMMEDIATE").await.map_err(sql)?;
    let mut savepoint_open = false;
    for job in batch.iter_mut() {
        match job.isolation() {
            Isolation::Savepoint => {
                let open = if savepoint_open {
                    RELEASE_AND_OPEN
                } else {
                    OPEN
                };
                execute(conn, open).await.map_err(sql)?;
                savepoint_open = true;
                if let Ran::Failed { .. } = job.run(conn).await {
                    // Fails if SQLite rolled back the whole transaction.
                    execute(conn, UNDO_JOB).await.map_err(sql)?;
                }
            }
            Isolation::Statement => {
                if let Ran::Failed {
                    undone: false,
                    reason,
                } = job.run(conn).await
                {
                    return Err(format!("a single-statement job failed: {reason}"));
                }
            }
        }
    }
    if savepoint_open {
        execute(conn, RELEASE).await.map_err(sql)?;
    }
    execute(conn, before_commit).await.map_err(sql)?;
    execute(conn, "COMMIT").await.map_err(sql)
}

/// After the last batch: fold the WAL into the database file (so the
/// next start does not replay it) and close the connection.
async fn shut_down(mut conn: SqliteConnection) {
    if let Err(err) = execute(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)").await {
        tracing::warn!(error = %err, "WAL checkpoint at shutdown failed");
    }
    if let Err(err) = conn.close().await {
        tracing::warn!(error = %err, "closing the SQLite writer failed");
    }
}

async fn execute(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}
