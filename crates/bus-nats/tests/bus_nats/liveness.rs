//! Node liveness: a silent peer is declared dead (a loss for the feed), a
//! peer that says goodbye is gone at once with nothing lost, unless its
//! goodbye says some of its publications never went out.

use crate::support::{NatsServer, eventually, next, node, nothing, options};
use natter_bus::{Bus, Envelope, Meta, Received, Subject};
use natter_bus_nats::{NatsBus, NatsOptions};
use std::time::Duration;

#[tokio::test]
async fn a_silent_peer_is_declared_dead_and_the_feed_reports_a_loss() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let b_id = b.node_id().to_owned();
    eventually("A hears B", || async { a.peers() == [b_id.clone()] }).await;
    eventually("B hears A", || async {
        b.peers() == [a.node_id().to_owned()]
    })
    .await;
    let mut a_feed = a.feed();

    // Dropped without a goodbye: to A, a crash.
    drop(b);
    assert!(matches!(next(a_feed.as_mut()).await, Received::Lost(lost) if lost >= 1));
    assert!(a.peers().is_empty());
}

#[tokio::test]
async fn a_peer_that_says_goodbye_is_gone_with_nothing_lost() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let b_id = b.node_id().to_owned();
    eventually("A hears B", || async { a.peers() == [b_id.clone()] }).await;
    let mut a_feed = a.feed();

    b.shutdown().await;
    assert!(!b.is_ready());
    eventually("A forgets B", || async { a.peers().is_empty() }).await;
    nothing(a_feed.as_mut()).await;
    assert!(a.is_ready());
}

/// A node that beats once at start, then not for the length of a test:
/// whatever it lost can only reach peers in its goodbye.
async fn quiet_node(server: &NatsServer, tweak: NatsOptions) -> NatsBus {
    let options = NatsOptions {
        heartbeat_interval: Duration::from_secs(60),
        presence_snapshot_interval: Duration::from_secs(60),
        ..tweak
    };
    NatsBus::connect(&server.url(), options)
        .await
        .expect("a node connects")
}

/// Publishes `count` envelopes on a chat nobody listens to.
fn publish_many(bus: &NatsBus, count: i64) {
    let chat = Subject::Chat("nobody".into());
    for seq in 0..count {
        bus.publish(Envelope::control(chat.clone(), Meta::MessageNew { seq }));
    }
}

#[tokio::test]
async fn a_goodbye_that_says_publications_were_dropped_costs_a_loss() {
    let server = NatsServer::start().await;
    let a = node(&server, "a").await;
    let tiny_queue = NatsOptions {
        publish_queue: 1,
        ..options("b")
    };
    let b = quiet_node(&server, tiny_queue).await;
    let b_id = b.node_id().to_owned();
    eventually("A hears B", || async { a.peers() == [b_id.clone()] }).await;
    let mut a_feed = a.feed();

    // No await in between: the queue of one overflows.
    publish_many(&b, 100);
    b.shutdown().await;
    eventually("A forgets B", || async { a.peers().is_empty() }).await;
    assert!(matches!(next(a_feed.as_mut()).await, Received::Lost(lost) if lost >= 1));
}

#[tokio::test]
async fn a_node_that_leaves_with_publications_still_queued_costs_its_peers_a_loss() {
    let server = NatsServer::start().await;
    let a = node(&server, "a").await;
    let no_wait = NatsOptions {
        // Stopping waits for nothing: what is queued is left behind.
        confirm_timeout: Duration::ZERO,
        ..options("b")
    };
    let b = quiet_node(&server, no_wait).await;
    let b_id = b.node_id().to_owned();
    eventually("A hears B", || async { a.peers() == [b_id.clone()] }).await;
    let mut a_feed = a.feed();

    // Well within the queue (nothing dropped), and not yet handed to
    // NATS: this test runs on one thread and nothing awaits in between.
    publish_many(&b, 1_000);
    b.shutdown().await;
    eventually("A forgets B", || async { a.peers().is_empty() }).await;
    assert!(matches!(next(a_feed.as_mut()).await, Received::Lost(lost) if lost >= 1));
}
