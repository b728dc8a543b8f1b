//! A write job as the writer task sees it: its SQL (a closure), how it is
//! isolated, its outcome, and the channel its caller waits on. Types are
//! erased behind [`Pending`] so one queue carries jobs of every result
//! type.

use super::Isolation;
use crate::store::sqlite::error::classify;
use crate::store::{StoreError, StoreResult};
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;
use tokio::sync::oneshot;

/// What running a job did.
pub(super) enum Ran {
    Done,
    /// The job failed; `undone` if its failure left nothing behind on its
    /// own (a rejected statement), else `reason` says what went wrong.
    Failed {
        undone: bool,
        reason: String,
    },
}

/// A queued job with its types erased, so one queue carries them all.
pub(super) trait Pending: Send {
    fn isolation(&self) -> Isolation;
    /// Runs the job's SQL and keeps its outcome.
    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, Ran>;
    /// Answers the caller: the job's own outcome if the batch committed,
    /// otherwise the batch's error.
    fn answer(self: Box<Self>, batch: Result<(), StoreError>);
}

pub(super) struct Job<F, T> {
    isolation: Isolation,
    work: Option<F>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<F, T> Job<F, T> {
    pub(super) fn new(
        isolation: Isolation,
        work: F,
        reply: oneshot::Sender<StoreResult<T>>,
    ) -> Self {
        Job {
            isolation,
            work: Some(work),
            outcome: None,
            reply,
        }
    }
}

impl<T, F> Pending for Job<F, T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn isolation(&self) -> Isolation {
        self.isolation
    }

    fn run<'a>(&'a mut self, conn: &'a mut SqliteConnection) -> BoxFuture<'a, Ran> {
        Box::pin(async move {
            let outcome = match self.work.take() {
                Some(work) => work(conn).await.map_err(classify),
                None => Err(StoreError::Closed),
            };
            let ran = match &outcome {
                Ok(_) => Ran::Done,
                Err(err) => Ran::Failed {
                    undone: matches!(err, StoreError::Conflict(_) | StoreError::NotFound),
                    reason: err.to_string(),
                },
            };
            self.outcome = Some(outcome);
            ran
        })
    }

    fn answer(self: Box<Self>, batch: Result<(), StoreError>) {
        let reply = match (batch, self.outcome) {
            (Err(err), _) => Err(err),
            (Ok(()), Some(outcome)) => outcome,
            // Answered without having run: only if the batch failed first.
            (Ok(()), None) => Err(StoreError::Closed),
        };
        // The caller may have gone away (its request was cancelled); the
        // write stays committed either way.
        let _ = self.reply.send(reply);
    }
}
