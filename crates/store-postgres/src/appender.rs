//! The appender: every append of this store goes through one task that
//! stores the waiting ones together, in one transaction (group commit),
//! and then answers them and reports the new messages to the commit sink.
//!
//! Why: a commit waits for PostgreSQL to flush its write-ahead log, which
//! costs far more than an append's SQL; one commit for a batch of appends
//! makes the throughput grow with the load instead of being capped by
//! flushes per second. And a batch is a few round trips whatever its size
//! (see `batch`), where appends one by one would pay them each.
//!
//! Order: appends are stored in the order they were queued (one queue,
//! one task, one batch at a time, each batch's messages taking their
//! chat's seqs in queue order), so appends queued one after the other by
//! one caller keep their order; each chat's new messages are reported in
//! seq order, after their commit, whether or not their caller still
//! waits. A batch whose COMMIT failed is looked up before it is answered
//! (`settle`): if it committed all the same, it is answered and reported
//! as if the COMMIT had answered.
//!
//! Batching: the task takes the first waiting append and everything
//! queued behind it, up to `max_batch`. While appends arrive concurrently
//! (the previous batch held more than one) it lingers up to
//! `batch_linger` for more, so a busy store commits full batches; a lone
//! send is stored at once.

mod answer;
mod batch;
mod decide;
mod pushes;
mod settle;

use crate::PgSettings;
use crate::error::closed;
use natter_store::{Appended, CommitSink, NewMessage, StoreResult};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, timeout_at};

/// An append waiting for its batch.
pub(crate) struct Draft {
    pub(crate) message: NewMessage,
    /// The message's metadata as JSON, encoded by the caller (so that an
    /// encoding error is the caller's, not the batch's).
    pub(crate) metadata: String,
}

struct Job {
    draft: Draft,
    reply: oneshot::Sender<StoreResult<Appended>>,
}

// Nearly every request is an append: boxing it would cost an allocation
// each to save room in a rare `Close`.
#[allow(clippy::large_enum_variant)]
enum Request {
    Append(Job),
    /// Stop accepting appends, store the queued ones, close.
    Close,
}

/// Handle to the appender task; one per store.
pub(crate) struct Appender {
    queue: mpsc::Sender<Request>,
    /// Becomes true when the task has finished (queue drained,
    /// connections closed).
    done: watch::Receiver<bool>,
}

/// The task's settings.
#[derive(Clone, Copy)]
struct Batching {
    max_batch: usize,
    linger: Duration,
}

impl Appender {
    /// Starts the task on `pool` (its own connections); new messages go
    /// to `commits`.
    pub(crate) fn spawn(pool: PgPool, commits: CommitSink, settings: &PgSettings) -> Appender {
        let batching = Batching {
            max_batch: settings.max_batch.max(1),
            linger: settings.batch_linger,
        };
        // Two batches' worth: the next batch fills up while one commits.
        // When full, callers wait in `queue_append` (backpressure) instead
        // of a slow database letting the queue, and memory, grow without
        // bound.
        let (queue, requests) = mpsc::channel(batching.max_batch * 2);
        let (finished, done) = watch::channel(false);
        tokio::spawn(async move {
            run(&pool, &commits, requests, batching).await;
            pool.close().await;
            let _ = finished.send(true);
        });
        Appender { queue, done }
    }

    /// Queues an append and returns once it is queued, with the receiver
    /// of its outcome; `Unavailable` once the store is closing.
    pub(crate) async fn append(
        &self,
        draft: Draft,
    ) -> StoreResult<oneshot::Receiver<StoreResult<Appended>>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Request::Append(Job { draft, reply }))
            .await
            .map_err(|_| closed())?;
        Ok(answer)
    }

    /// Stops accepting appends and waits until the queued ones are
    /// stored and the task's connections closed. Idempotent.
    pub(crate) async fn close(&self) {
        // Fails only if the task is already closing or gone: fine.
        let _ = self.queue.send(Request::Close).await;
        let mut done = self.done.clone();
        // An error means the task is gone (it panicked): nothing to wait for.
        let _ = done.wait_for(|finished| *finished).await;
    }
}

/// The task: one batch at a time until the queue is closed and empty.
async fn run(
    pool: &PgPool,
    commits: &CommitSink,
    mut requests: mpsc::Receiver<Request>,
    batching: Batching,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(batching.max_batch);
    let mut concurrent = false;
    while let Some(first) = requests.recv().await {
        take(first, &mut jobs, &mut requests);
        while jobs.len() < batching.max_batch {
            match requests.try_recv() {
                Ok(request) => take(request, &mut jobs, &mut requests),
                Err(_) => break,
            }
        }
        if concurrent && !batching.linger.is_zero() {
            let deadline = Instant::now() + batching.linger;
            while jobs.len() < batching.max_batch {
                match timeout_at(deadline, requests.recv()).await {
                    Ok(Some(request)) => take(request, &mut jobs, &mut requests),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        if jobs.is_empty() {
            continue;
        }
        concurrent = jobs.len() > 1;
        let drafts: Vec<&Draft> = jobs.iter().map(|job| &job.draft).collect();
        let outcomes = batch::store(pool, &drafts).await;
        tracing::trace!(size = jobs.len(), "stored an append batch");
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            if let Ok(Appended::New(row)) = &outcome {
                commits.committed(row.clone());
            }
            // The caller may have gone away (it hung up); the message
            // stays stored and reported either way.
            let _ = job.reply.send(outcome);
        }
    }
}

fn take(request: Request, jobs: &mut Vec<Job>, requests: &mut mpsc::Receiver<Request>) {
    match request {
        Request::Append(job) => jobs.push(job),
        // Refuse new appends; those already queued are still received.
        Request::Close => requests.close(),
    }
}
