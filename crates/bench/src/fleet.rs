//! The coordinator's side of the workers: spawns `natter-bench worker`
//! children of this very binary, hands each its share of connections,
//! runs steps on all of them at once and collects their reports.
//!
//! Every wait on a worker is bounded, so a stuck worker fails the run
//! instead of hanging it.

use crate::protocol::{ConnPlan, FromWorker, StepPlan, StepReport, ToWorker};
use anyhow::{Context, bail};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Longest a connect round may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(600);
/// Slack on top of a step's own duration and drain.
const STEP_SLACK: Duration = Duration::from_secs(60);

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    async fn tell(&mut self, command: &ToWorker) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(command)?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn hear(&mut self, deadline: Duration) -> anyhow::Result<FromWorker> {
        let line = tokio::time::timeout(deadline, self.stdout.next_line())
            .await
            .context("a worker did not answer in time")??
            .context("a worker exited")?;
        Ok(serde_json::from_str(&line)?)
    }
}

/// What a connect round achieved, summed over the workers.
#[derive(Debug, Default)]
pub struct Connected {
    pub opened: u64,
    pub failed: u64,
    pub open_now: u64,
    pub first_error: Option<String>,
}

/// The running workers.
pub struct Fleet {
    workers: Vec<Worker>,
}

impl Fleet {
    /// Starts `count` workers.
    pub fn spawn(count: usize) -> anyhow::Result<Fleet> {
        let exe = std::env::current_exe().context("finding natter-bench itself")?;
        let mut workers = Vec::with_capacity(count);
        for index in 0..count {
            let mut child = Command::new(&exe)
                .args(["worker", "--index", &index.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a worker")?;
            let stdin = child.stdin.take().context("worker stdin")?;
            let stdout = BufReader::new(child.stdout.take().context("worker stdout")?).lines();
            workers.push(Worker {
                child,
                stdin,
                stdout,
            });
        }
        Ok(Fleet { workers })
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Process ids of the workers (for their CPU time).
    pub fn pids(&self) -> Vec<u32> {
        self.workers.iter().filter_map(|w| w.child.id()).collect()
    }

    /// Opens `shares[i]` on worker i, all workers at once; each
    /// connection goes to `ws_urls[plan.node]`.
    pub async fn connect(
        &mut self,
        ws_urls: &[String],
        shares: Vec<Vec<ConnPlan>>,
        concurrency: usize,
    ) -> anyhow::Result<Connected> {
        if shares.len() > self.workers.len() {
            bail!("more shares than workers");
        }
        for (worker, conns) in self.workers.iter_mut().zip(shares) {
            let command = ToWorker::Connect {
                ws_urls: ws_urls.to_vec(),
                conns,
                concurrency,
            };
            worker.tell(&command).await?;
        }
        let mut total = Connected::default();
        for worker in &mut self.workers {
            match worker.hear(CONNECT_DEADLINE).await? {
                FromWorker::Connected {
                    opened,
                    failed,
                    open_now,
                    first_error,
                } => {
                    total.opened += opened;
                    total.failed += failed;
                    total.open_now += open_now;
                    if total.first_error.is_none() {
                        total.first_error = first_error;
                    }
                }
                FromWorker::Failed { error } => bail!("worker failed: {error}"),
                other => bail!("unexpected worker answer {other:?}"),
            }
        }
        Ok(total)
    }

    /// Runs one step on every worker; one report per worker.
    pub async fn step(&mut self, plan: &StepPlan) -> anyhow::Result<Vec<StepReport>> {
        for worker in &mut self.workers {
            worker.tell(&ToWorker::Step { plan: plan.clone() }).await?;
        }
        let wait = Duration::from_millis(plan.duration_ms + plan.drain_ms) + STEP_SLACK;
        let mut reports = Vec::with_capacity(self.workers.len());
        for worker in &mut self.workers {
            match worker.hear(wait).await? {
                FromWorker::StepDone { report } => reports.push(*report),
                FromWorker::Failed { error } => bail!("worker failed: {error}"),
                other => bail!("unexpected worker answer {other:?}"),
            }
        }
        Ok(reports)
    }

    /// Closes every connection and waits for the workers to exit.
    pub async fn close(mut self) {
        for worker in &mut self.workers {
            let _ = worker.tell(&ToWorker::Close).await;
        }
        for worker in &mut self.workers {
            if tokio::time::timeout(Duration::from_secs(10), worker.child.wait())
                .await
                .is_err()
            {
                let _ = worker.child.start_kill();
            }
        }
    }
}

/// Splits `items` into `parts` nearly equal shares, in order.
pub fn split<T>(items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let parts = parts.max(1);
    let len = items.len();
    let mut shares: Vec<Vec<T>> = (0..parts).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        shares[index * parts / len.max(1)].push(item);
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_even_and_keep_every_item() {
        let shares = split((0..10).collect(), 3);
        assert_eq!(shares, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
        let shares = split((0..2).collect::<Vec<i32>>(), 4);
        assert_eq!(shares.iter().map(Vec::len).sum::<usize>(), 2);
        assert_eq!(shares.len(), 4);
    }
}
