//! A NATS cluster of three servers: envelopes cross servers, and a node
//! whose server dies moves to another one and carries on.

use crate::support::{PATIENCE, eventually, next, node, start_cluster};
use bytes::Bytes;
use natter_bus::{Bus, Envelope, Feed, Meta, Received, Subject};
use natter_bus_nats::NatsBus;
use std::time::{Duration, Instant};

/// Publishes `envelope` on `from` until `feed` yields it: interest
/// travels between servers a moment after it is confirmed.
async fn arrives(from: &NatsBus, feed: &mut dyn Feed, envelope: &Envelope) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        from.publish(envelope.clone());
        match tokio::time::timeout(Duration::from_millis(200), feed.recv()).await {
            Ok(Some(Received::Envelope(received))) if &received == envelope => return,
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("the feed ended"),
        }
        assert!(
            Instant::now() < deadline,
            "not delivered within {PATIENCE:?}"
        );
    }
}

#[tokio::test]
async fn envelopes_cross_a_nats_cluster_and_a_node_moves_when_its_server_dies() {
    let mut servers = start_cluster(3).await;
    let a = node(&servers[0], "a").await;
    let b = node(&servers[1], "b").await;
    eventually("A and B hear each other across servers", || async {
        a.peers() == [b.node_id().to_owned()]
    })
    .await;
    let chat = Subject::Chat("c1".into());
    let (mut a_feed, mut b_feed) = (a.feed(), b.feed());
    a.interest(&chat, true).await;
    b.interest(&chat, true).await;
    let envelope = |n: i64| Envelope {
        subject: chat.clone(),
        meta: Meta::MessageNew { seq: n },
        frame: Bytes::from(format!("{{\"n\":{n}}}")),
    };
    arrives(&a, b_feed.as_mut(), &envelope(1)).await;

    servers[0].kill();
    eventually("A leaves its dead server", || async { !a.is_ready() }).await;
    eventually("A reaches another server", || async { a.is_ready() }).await;
    loop {
        if let Received::Lost(_) = next(a_feed.as_mut()).await {
            break;
        }
    }
    arrives(&a, b_feed.as_mut(), &envelope(2)).await;
    arrives(&b, a_feed.as_mut(), &envelope(3)).await;
}
