//! A write job as the writer thread sees it: its SQL (a closure), how it
//! is isolated, its outcome, and the channel its caller waits on. Types
//! are erased behind [`Pending`] so one queue carries jobs of every result
//! type.

use super::Isolation;
use crate::error::{self, Failure, closed};
use natter_store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

/// What running a job did.
pub(super) enum Ran {
    Done,
    /// The job failed; `undone` if its failure left nothing behind on its
    /// own (a rejected statement), else `failure` says what went wrong.
    Failed {
        undone: bool,
        failure: Failure,
    },
}

/// A queued job with its types erased, so one queue carries them all.
pub(super) trait Pending: Send {
    fn isolation(&self) -> Isolation;
    /// Runs the job's SQL and keeps its outcome.
    fn run(&mut self, conn: &Connection) -> Ran;
    /// Answers the caller: the job's own outcome if the batch committed,
    /// otherwise the batch's error.
    fn answer(self: Box<Self>, batch: Result<(), StoreError>);
}

/// Runs on the writer thread once the job's batch has committed, with the
/// job's result, before its caller is answered (see `Writer::enqueue`).
pub(crate) type OnCommit<T> = Box<dyn FnOnce(&T) + Send>;

pub(super) struct Job<F, T> {
    isolation: Isolation,
    work: Option<F>,
    outcome: Option<error::Result<T>>,
    on_commit: Option<OnCommit<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<F, T> Job<F, T> {
    pub(super) fn new(
        isolation: Isolation,
        work: F,
        on_commit: Option<OnCommit<T>>,
        reply: oneshot::Sender<StoreResult<T>>,
    ) -> Self {
        Job {
            isolation,
            work: Some(work),
            outcome: None,
            on_commit,
            reply,
        }
    }
}

impl<T, F> Pending for Job<F, T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> error::Result<T> + Send + 'static,
{
    fn isolation(&self) -> Isolation {
        self.isolation
    }

    fn run(&mut self, conn: &Connection) -> Ran {
        let outcome = match self.work.take() {
            Some(work) => work(conn),
            None => Err(closed().into()),
        };
        let ran = match &outcome {
            Ok(_) => Ran::Done,
            Err(err) => Ran::Failed {
                undone: err.undone(),
                failure: Failure::new(err.to_string(), err.storage_full()),
            },
        };
        self.outcome = Some(outcome);
        ran
    }

    fn answer(self: Box<Self>, batch: Result<(), StoreError>) {
        let reply = match (batch, self.outcome) {
            (Err(err), _) => Err(err),
            (Ok(()), Some(outcome)) => {
                if let (Ok(result), Some(on_commit)) = (&outcome, self.on_commit) {
                    on_commit(result);
                }
                outcome.map_err(StoreError::from)
            }
            // Answered without having run: only if the batch failed first.
            (Ok(()), None) => Err(closed()),
        };
        // The caller may have gone away (its request was cancelled); the
        // write stays committed either way.
        let _ = self.reply.send(reply);
    }
}
