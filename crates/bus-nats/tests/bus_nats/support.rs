//! Test helpers: real `nats-server` processes on free ports (killed on
//! drop), fast node options, and bounded waits.

use natter_bus::{Envelope, Feed, Received};
use natter_bus_nats::{NatsBus, NatsOptions};
pub use natter_test_services::{NatsServer, start_cluster, start_cluster_with};
use std::future::Future;
use std::time::{Duration, Instant};

pub use natter_bus::contract::{PATIENCE, SILENCE};

/// Fast timings for tests: 100 ms heartbeats, a 1 s grace.
pub fn options(name: &str) -> NatsOptions {
    NatsOptions {
        connection_name: name.to_owned(),
        heartbeat_interval: Duration::from_millis(100),
        missed_heartbeats: 3,
        presence_grace: Duration::from_secs(1),
        presence_snapshot_interval: Duration::from_millis(500),
        max_reconnect_delay: Duration::from_millis(200),
        ..NatsOptions::default()
    }
}

pub async fn node(server: &NatsServer, name: &str) -> NatsBus {
    NatsBus::connect(&server.url(), options(name))
        .await
        .expect("a node connects")
}

/// Waits until `check` holds; fails the test after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next thing the feed yields, within [`PATIENCE`].
pub async fn next(feed: &mut dyn Feed) -> Received {
    match tokio::time::timeout(PATIENCE, feed.recv()).await {
        Ok(Some(received)) => received,
        Ok(None) => panic!("the feed ended"),
        Err(_) => panic!("nothing on the feed within {PATIENCE:?}"),
    }
}

/// The next envelope, past any losses reported before it.
pub async fn next_envelope(feed: &mut dyn Feed) -> Envelope {
    loop {
        if let Received::Envelope(envelope) = next(feed).await {
            return envelope;
        }
    }
}

/// Fails if the feed yields anything within [`SILENCE`].
pub async fn nothing(feed: &mut dyn Feed) {
    if let Ok(received) = tokio::time::timeout(SILENCE, feed.recv()).await {
        panic!("expected nothing, got {received:?}");
    }
}
