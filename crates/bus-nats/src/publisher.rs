//! The way out: [`Publisher::send`] never blocks its caller; one task
//! hands the queued messages to async-nats in order (so a presence change
//! queued after a snapshot is seen after it), numbering each for the
//! receivers' merge (see [`crate::merge`]).
//!
//! The queue is bounded: during a NATS outage async-nats stops taking
//! commands, the task waits, the queue fills, and further messages are
//! dropped and counted (and told to peers as this node's losses) rather
//! than held in memory without limit.

use crate::losses::Losses;
use crate::merge::{ORDER, order_header};
use async_nats::{Client, HeaderMap, Subject};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, watch};

/// One message for NATS.
pub struct Outgoing {
    pub subject: Subject,
    pub headers: Option<HeaderMap>,
    pub payload: Bytes,
    /// An envelope of the bus (counted as such), or the cluster's own.
    pub envelope: bool,
}

/// How far the queue has got: messages accepted, and messages handed to
/// async-nats (sent or failed), so that an interest change can wait for
/// the publications asked for before it.
#[derive(Clone)]
pub struct Handed {
    accepted: Arc<AtomicU64>,
    handed: watch::Sender<u64>,
}

impl Handed {
    fn new() -> Self {
        Handed {
            accepted: Arc::new(AtomicU64::new(0)),
            handed: watch::channel(0).0,
        }
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Acquire)
    }

    /// Completes once `count` messages have been handed to async-nats.
    pub async fn wait_for(&self, count: u64) {
        let mut handed = self.handed.subscribe();
        // An error means the publisher is gone: nothing to wait for.
        let _ = handed.wait_for(|handed| *handed >= count).await;
    }
}

/// The sending half of the queue (cheap to clone).
#[derive(Clone)]
pub struct Publisher {
    queue: mpsc::Sender<Outgoing>,
    losses: Losses,
    handed: Handed,
}

impl Publisher {
    /// A publisher with a queue of `capacity` and the task that drains it
    /// into `client` (the caller spawns it). `key` tells this publisher's
    /// messages apart from other nodes' in the receivers' merge.
    pub fn new(
        client: Client,
        capacity: usize,
        key: u64,
        losses: Losses,
    ) -> (Publisher, impl Future<Output = ()> + Send + 'static) {
        let (queue, messages) = mpsc::channel(capacity);
        let handed = Handed::new();
        let task = drain(client, messages, key, losses.clone(), handed.clone());
        let publisher = Publisher {
            queue,
            losses,
            handed,
        };
        (publisher, task)
    }

    /// Queues `message`; false if it was dropped (queue full or closed).
    pub fn send(&self, message: Outgoing) -> bool {
        let envelope = message.envelope;
        match self.queue.try_send(message) {
            Ok(()) => {
                self.handed.accepted.fetch_add(1, Ordering::AcqRel);
                true
            }
            Err(_) => {
                dropped(&self.losses, envelope);
                false
            }
        }
    }

    pub fn handed(&self) -> Handed {
        self.handed.clone()
    }

    /// True once every queued message was handed to async-nats.
    pub fn is_empty(&self) -> bool {
        self.unhanded() == 0
    }

    /// Messages accepted but not yet handed to async-nats (still queued,
    /// or being handed now).
    pub fn unhanded(&self) -> u64 {
        self.handed
            .accepted()
            .saturating_sub(*self.handed.handed.borrow())
    }
}

fn dropped(losses: &Losses, envelope: bool) {
    losses.own_publications_lost(1);
    if envelope {
        metrics::counter!("natter_bus_envelopes_dropped_total").increment(1);
    }
}

async fn drain(
    client: Client,
    mut messages: mpsc::Receiver<Outgoing>,
    key: u64,
    losses: Losses,
    handed: Handed,
) {
    let mut counter: u64 = 0;
    while let Some(message) = messages.recv().await {
        let Outgoing {
            subject,
            headers,
            payload,
            envelope,
        } = message;
        counter += 1;
        let mut headers = headers.unwrap_or_default();
        headers.insert(ORDER, order_header(key, counter));
        let result = client.publish_with_headers(subject, headers, payload).await;
        handed.handed.send_modify(|handed| *handed += 1);
        match result {
            Ok(()) if envelope => {
                metrics::counter!("natter_bus_envelopes_published_total").increment(1);
            }
            Ok(()) => {}
            Err(error) => {
                // Too large for the server, or the client is closing.
                tracing::warn!(%error, "a bus message could not be published");
                dropped(&losses, envelope);
            }
        }
    }
}
