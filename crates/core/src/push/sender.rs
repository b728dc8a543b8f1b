//! The task that drains the push queue on this node: it plans claimed
//! jobs into deliveries, and posts claimed deliveries to their push
//! services, at most `push.concurrency` deliveries held at once. The
//! deliveries of one subscription go one after another, in queue order
//! ([`Lanes`]): pushes of one chat share a `Topic`, and the push service
//! keeps the last one it got, so sending them side by side could let an
//! older push replace a newer one. What a service answers decides the
//! rest: taken -> done; 404/410 -> the subscription is dropped; 429/5xx or
//! no answer -> tried again after `Retry-After` or a growing backoff,
//! until the push's TTL runs out; any other refusal -> dropped and logged.
//!
//! Metrics: `natter_push_sent_total{result}` (accepted, gone, retry,
//! expired, rejected), `natter_push_latency_seconds` (store -> push
//! service answer, for accepted pushes), `natter_push_queue_jobs` and
//! `natter_push_queue_deliveries`.

use super::Pusher;
use crate::{Core, now_ms};
use natter_push::{PushOptions, SendOutcome, Target, Urgency};
use natter_store::{DeliveryRow, PushJob};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// How often the queue is looked at when nothing rang: work queued by
/// other nodes, retries coming due.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Jobs planned per claim.
const JOBS_PER_CLAIM: u32 = 64;
/// How long a claimed job is this node's to plan.
const JOB_LEASE_MS: i64 = 30_000;
/// How long a claimed delivery is this node's beyond the request timeout.
const DELIVERY_LEASE_MARGIN_MS: i64 = 10_000;
/// How often the queue-depth gauges are refreshed.
const DEPTH_EVERY: Duration = Duration::from_secs(5);
/// First retry delay; doubled per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl Core {
    /// Drains the push queue until the task is aborted (a send cut short
    /// stays leased and is sent again once its lease ends: at least
    /// once; aborting drops the sends in flight with it). Returns at once
    /// if push is off.
    pub async fn run_push_queue(self: Arc<Self>) {
        let Some(pusher) = self.push.as_ref() else {
            return;
        };
        let slots = Arc::new(Semaphore::new(pusher.settings.concurrency.max(1)));
        let lanes = Arc::new(Lanes::default());
        let mut sending = JoinSet::new();
        let delivery_lease_ms = i64::try_from(pusher.settings.request_timeout_ms)
            .unwrap_or(i64::MAX / 4)
            .saturating_add(DELIVERY_LEASE_MARGIN_MS);
        let mut depth_at = tokio::time::Instant::now();
        loop {
            while sending.try_join_next().is_some() {}
            let planned = self.plan_claimed_jobs(pusher).await;
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                let now = now_ms();
                match self
                    .store
                    .claim_deliveries(now, now.saturating_add(delivery_lease_ms), free as u32)
                    .await
                {
                    Ok(deliveries) => {
                        claimed = deliveries.len();
                        for delivery in deliveries {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let subscription_id = delivery.subscription.id.clone();
                            if lanes.push(delivery, slot) {
                                sending
                                    .spawn(self.clone().drain_lane(lanes.clone(), subscription_id));
                            }
                        }
                    }
                    Err(error) => tracing::warn!(?error, "claiming push deliveries failed"),
                }
            }
            if depth_at.elapsed() >= DEPTH_EVERY {
                depth_at = tokio::time::Instant::now();
                self.record_queue_depth().await;
            }
            // Busy: go round again at once, unless every slot is taken.
            if (planned > 0 || claimed > 0) && slots.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                () = pusher.wake.notified() => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }

    /// Sends one subscription's deliveries in order until its lane is
    /// empty; each frees its slot when done.
    async fn drain_lane(self: Arc<Self>, lanes: Arc<Lanes>, subscription_id: String) {
        while let Some((delivery, slot)) = lanes.next(&subscription_id) {
            self.deliver(delivery).await;
            drop(slot);
            if let Some(pusher) = self.push.as_ref() {
                pusher.ring();
            }
        }
    }

    /// Plans the jobs this node can claim now; returns how many.
    async fn plan_claimed_jobs(&self, pusher: &Pusher) -> usize {
        let now = now_ms();
        let jobs: Vec<PushJob> = match self
            .store
            .claim_jobs(now, now.saturating_add(JOB_LEASE_MS), JOBS_PER_CLAIM)
            .await
        {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::warn!(?error, "claiming push jobs failed");
                return 0;
            }
        };
        // Planned side by side: each is a few reads and one write, which
        // the store runs on its pool and commits together. A job that
        // fails stays leased and is planned again later.
        let plans = jobs.iter().map(|job| async move {
            if let Err(error) = self.plan_push(pusher, job).await {
                tracing::warn!(message_id = %job.message_id, ?error, "planning pushes failed");
            }
        });
        futures_util::future::join_all(plans).await;
        jobs.len()
    }

    /// Sends one delivery and records what came of it.
    async fn deliver(&self, delivery: DeliveryRow) {
        let Some(pusher) = self.push.as_ref() else {
            return;
        };
        let now = now_ms();
        // Rounded up: a push with 0.3 s left still goes, with TTL 1.
        let remaining_secs = u64::try_from((delivery.expires_at - now + 999) / 1000).unwrap_or(0);
        let result = if remaining_secs == 0 {
            "expired"
        } else {
            let outcome = pusher
                .client
                .send(
                    &Target {
                        endpoint: &delivery.subscription.endpoint,
                        p256dh: &delivery.subscription.p256dh,
                        auth: &delivery.subscription.auth,
                    },
                    &delivery.payload,
                    &PushOptions {
                        ttl_secs: remaining_secs,
                        urgency: delivery.urgency.parse().unwrap_or(Urgency::Normal),
                        topic: delivery.topic.as_deref(),
                    },
                )
                .await;
            self.settle(&delivery, outcome).await
        };
        if result == "expired"
            && let Err(error) = self.store.finish_delivery(&delivery.id).await
        {
            tracing::warn!(?error, "dropping an expired push failed");
        }
        metrics::counter!("natter_push_sent_total", "result" => result).increment(1);
    }

    /// Acts on a push service's answer; returns the result label.
    async fn settle(&self, delivery: &DeliveryRow, outcome: SendOutcome) -> &'static str {
        let now = now_ms();
        let (result, done) = match outcome {
            SendOutcome::Accepted => {
                let latency = (now - delivery.created_at).max(0) as f64 / 1000.0;
                metrics::histogram!("natter_push_latency_seconds").record(latency);
                ("accepted", self.store.finish_delivery(&delivery.id).await)
            }
            SendOutcome::Gone => (
                "gone",
                self.store
                    .drop_subscription(&delivery.subscription.id)
                    .await,
            ),
            SendOutcome::RetryLater { after } => {
                let delay = after
                    .unwrap_or_else(|| backoff(delivery.attempts))
                    .max(FIRST_BACKOFF);
                let at = now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                if at >= delivery.expires_at {
                    return "expired";
                }
                ("retry", self.store.retry_delivery(&delivery.id, at).await)
            }
            SendOutcome::Rejected { status, reason } => {
                tracing::warn!(
                    ?status,
                    %reason,
                    subscription_id = %delivery.subscription.id,
                    "a push service refused a push; it is dropped"
                );
                ("rejected", self.store.finish_delivery(&delivery.id).await)
            }
        };
        if let Err(error) = done {
            // The lease runs out and the delivery is tried again.
            tracing::warn!(?error, result, "recording a push's outcome failed");
        }
        result
    }

    async fn record_queue_depth(&self) {
        match self.store.queue_depth().await {
            Ok((jobs, deliveries)) => {
                metrics::gauge!("natter_push_queue_jobs").set(jobs as f64);
                metrics::gauge!("natter_push_queue_deliveries").set(deliveries as f64);
            }
            Err(error) => tracing::debug!(?error, "reading the push queue's depth failed"),
        }
    }
}

/// The claimed deliveries waiting or in flight, one queue per
/// subscription; a subscription has a queue exactly while a task drains
/// it.
#[derive(Default)]
struct Lanes {
    queues: Mutex<HashMap<String, VecDeque<(DeliveryRow, OwnedSemaphorePermit)>>>,
}

impl Lanes {
    /// Queues a delivery behind its subscription's others; true if that
    /// lane was idle (the caller starts a task to drain it).
    fn push(&self, delivery: DeliveryRow, slot: OwnedSemaphorePermit) -> bool {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        match queues.get_mut(&delivery.subscription.id) {
            Some(queue) => {
                queue.push_back((delivery, slot));
                false
            }
            None => {
                let key = delivery.subscription.id.clone();
                queues.insert(key, VecDeque::from([(delivery, slot)]));
                true
            }
        }
    }

    /// The lane's next delivery; `None` once it is empty, and then the
    /// lane is gone (the next push starts a new task).
    fn next(&self, subscription_id: &str) -> Option<(DeliveryRow, OwnedSemaphorePermit)> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let next = queues.get_mut(subscription_id)?.pop_front();
        if next.is_none() {
            queues.remove(subscription_id);
        }
        next
    }
}

/// The delay before retry number `attempts + 1` when the service named
/// none: 1 s, 2 s, 4 s ... up to 5 minutes.
fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempts.min(20)))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
