//! Node liveness: a silent peer is declared dead (a loss for the feed), a
//! peer that says goodbye is gone at once with nothing lost.

use crate::support::{NatsServer, eventually, next, node, nothing};
use natter_bus::{Bus, Received};

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
