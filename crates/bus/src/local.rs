//! The in-process bus of the embedded mode: one broadcast channel.

use super::{Bus, Envelope, Subscription};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it lags.
/// Subscribers are gateway routers that never block, so this only has to
/// absorb bursts (a 5,000-member group's worth of receipts, say).
const CAPACITY: usize = 65_536;

/// A bus that never leaves the process.
pub struct LocalBus {
    sender: broadcast::Sender<Envelope>,
}

impl LocalBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        LocalBus { sender }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        // An error only means nobody listens right now: nothing to deliver.
        let _ = self.sender.send(envelope);
    }

    fn subscribe(&self) -> Subscription {
        self.sender.subscribe()
    }

    fn is_ready(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::events::ServerEvent;

    #[tokio::test]
    async fn subscribers_receive_what_is_published_after_they_subscribe() {
        let bus = LocalBus::new();
        bus.publish(Envelope::to_user("u1", ServerEvent::Pong));
        let mut subscription = bus.subscribe();
        bus.publish(Envelope::to_user("u2", ServerEvent::Pong));
        let received = subscription.recv().await.unwrap();
        assert_eq!(received.target, super::super::Target::User("u2".into()));
    }
}
