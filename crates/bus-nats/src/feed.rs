//! The node's [`Feed`]: the envelopes of every subscription, merged, and
//! a [`Received::Lost`] for every incident since the last one reported
//! (reconnection, slow subscription, dead peer, a peer's own losses, and
//! the rest [`crate::losses`] lists) or when its reader fell behind the
//! channel.

use natter_bus::{Envelope, Feed, Received};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

pub struct NatsFeed {
    envelopes: broadcast::Receiver<Envelope>,
    incidents: watch::Receiver<u64>,
    /// The incident count already reported.
    reported: u64,
    /// The node is gone: only the envelopes left are read.
    incidents_ended: bool,
}

impl NatsFeed {
    pub fn new(envelopes: broadcast::Receiver<Envelope>, incidents: watch::Receiver<u64>) -> Self {
        let reported = *incidents.borrow();
        NatsFeed {
            envelopes,
            incidents,
            reported,
            incidents_ended: false,
        }
    }

    fn lost(count: u64) -> Received {
        metrics::counter!("natter_bus_envelopes_lost_total").increment(count);
        Received::Lost(count)
    }
}

#[async_trait::async_trait]
impl Feed for NatsFeed {
    async fn recv(&mut self) -> Option<Received> {
        loop {
            tokio::select! {
                // A loss first: the reader repairs from the store anyway.
                biased;
                changed = self.incidents.changed(), if !self.incidents_ended => {
                    if changed.is_err() {
                        self.incidents_ended = true;
                        continue;
                    }
                    let count = *self.incidents.borrow_and_update();
                    if count > self.reported {
                        let lost = count - self.reported;
                        self.reported = count;
                        return Some(Self::lost(lost));
                    }
                }
                received = self.envelopes.recv() => {
                    return match received {
                        Ok(envelope) => Some(Received::Envelope(envelope)),
                        Err(RecvError::Lagged(lost)) => Some(Self::lost(lost)),
                        Err(RecvError::Closed) => None,
                    };
                }
            }
        }
    }
}
