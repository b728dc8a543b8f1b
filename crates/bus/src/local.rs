//! The in-process bus of the embedded mode: one broadcast channel to the
//! node's feed, filtered by the subjects the node is interested in.

use crate::{Bus, Confirmation, Envelope, Feed, Received, Subject};
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// How many envelopes the feed's reader may fall behind before it loses
/// some (and learns it as [`Received::Lost`]). The reader is the gateway
/// router, which never blocks, so this only has to absorb bursts (a
/// 5,000-member group's worth of receipts, say).
const CAPACITY: usize = 65_536;

/// A bus that never leaves the process.
pub struct LocalBus {
    sender: broadcast::Sender<Envelope>,
    /// The subjects with interest; others are not even queued.
    interest: Mutex<HashSet<Subject>>,
}

impl LocalBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        LocalBus {
            sender,
            interest: Mutex::new(HashSet::new()),
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        let interested = self
            .interest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&envelope.subject);
        if interested {
            // An error only means no feed is open: nothing to deliver.
            let _ = self.sender.send(envelope);
        }
    }

    fn feed(&self) -> Box<dyn Feed> {
        Box::new(LocalFeed(self.sender.subscribe()))
    }

    fn interest(&self, subject: &Subject, on: bool) -> Confirmation {
        let mut interest = self.interest.lock().unwrap_or_else(PoisonError::into_inner);
        if on {
            interest.insert(subject.clone());
        } else {
            interest.remove(subject);
        }
        Box::pin(std::future::ready(()))
    }

    fn is_ready(&self) -> bool {
        true
    }
}

struct LocalFeed(broadcast::Receiver<Envelope>);

#[async_trait::async_trait]
impl Feed for LocalFeed {
    async fn recv(&mut self) -> Option<Received> {
        match self.0.recv().await {
            Ok(envelope) => Some(Received::Envelope(envelope)),
            Err(RecvError::Lagged(lost)) => Some(Received::Lost(lost)),
            Err(RecvError::Closed) => None,
        }
    }
}
