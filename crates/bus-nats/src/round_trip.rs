//! Server round trips: proof that NATS has processed everything this node
//! sent before (a subscription, an unsubscription). async-nats's `flush`
//! only empties the socket's buffer, so the node publishes a numbered
//! probe to a subject only it listens to: the server handles a
//! connection's commands in order, so once the probe comes back every
//! earlier command is in force.

use crate::subjects;
use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// Hands out round trips (cheap to clone).
#[derive(Clone)]
pub struct RoundTrip(Arc<Inner>);

struct Inner {
    client: Client,
    subject: String,
    next_probe: AtomicU64,
    /// Probes on their way, by number. Probes come back in order, so one
    /// that returns answers every lower one too (lost ones included).
    waiting: Mutex<Vec<(u64, oneshot::Sender<()>)>>,
}

impl RoundTrip {
    /// Subscribes to this node's probe subject; the returned task (the
    /// caller spawns it) answers the probes as they come back.
    pub async fn start(
        client: Client,
        node_id: &str,
    ) -> anyhow::Result<(RoundTrip, impl Future<Output = ()> + Send + 'static)> {
        let subject = subjects::round_trip(node_id);
        let probes = client.subscribe(subject.clone()).await?;
        let round_trip = RoundTrip(Arc::new(Inner {
            client,
            subject,
            next_probe: AtomicU64::new(0),
            waiting: Mutex::new(Vec::new()),
        }));
        let task = round_trip.clone().answer(probes);
        Ok((round_trip, task))
    }

    /// Completes once the server has processed every command this node
    /// sent before the call. Waits for a reconnection if NATS is away:
    /// callers bound it with a timeout.
    pub async fn complete(&self) {
        let (answered, answer) = oneshot::channel();
        let probe = self.0.next_probe.fetch_add(1, Ordering::Relaxed);
        {
            let mut waiting = self
                .0
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Callers that gave up leave closed senders behind.
            waiting.retain(|(_, sender)| !sender.is_closed());
            waiting.push((probe, answered));
        }
        let payload = probe.to_string().into();
        if self
            .0
            .client
            .publish(self.0.subject.clone(), payload)
            .await
            .is_err()
        {
            return;
        }
        let _ = answer.await;
    }

    async fn answer(self, mut probes: Subscriber) {
        while let Some(message) = probes.next().await {
            let Some(probe) = std::str::from_utf8(&message.payload)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
            else {
                continue;
            };
            let mut waiting = self
                .0
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (answered, still_waiting) = std::mem::take(&mut *waiting)
                .into_iter()
                .partition(|(number, _)| *number <= probe);
            *waiting = still_waiting;
            drop(waiting);
            for (_, sender) in answered {
                let _ = sender.send(());
            }
        }
    }
}
