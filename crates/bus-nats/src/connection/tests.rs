//! [`Seen`] as pure logic, and [`Link`] against a real `nats-server`
//! (`NATS_SERVER`, else `nats-server` on `PATH`, else
//! `/usr/sbin/nats-server`, as in the integration tests).

use super::*;
use natter_test_services::NatsServer;
use std::time::Instant;

fn connected_once() -> Seen {
    Seen {
        cut_off: false,
        connects: 1,
    }
}

#[test]
fn a_drop_and_a_return_are_each_seen_once() {
    let mut seen = connected_once();
    assert_eq!(seen.observe(true, 1), None);
    assert_eq!(seen.observe(false, 1), Some(Change::CutOff));
    assert_eq!(seen.observe(false, 1), None);
    assert_eq!(seen.observe(true, 2), Some(Change::Back));
    assert_eq!(seen.observe(true, 2), None);
}

#[test]
fn a_reconnection_between_two_looks_is_seen_by_the_count() {
    let mut seen = connected_once();
    assert_eq!(seen.observe(true, 2), Some(Change::Back));
    assert_eq!(seen.observe(true, 2), None);
}

#[test]
fn a_state_that_lags_the_count_is_back_once_it_catches_up() {
    let mut seen = connected_once();
    assert_eq!(seen.observe(false, 1), Some(Change::CutOff));
    assert_eq!(seen.observe(false, 2), None, "counted, not yet connected");
    assert_eq!(seen.observe(true, 2), Some(Change::Back));
}

#[test]
fn a_reconnection_cut_off_again_is_reported_by_the_next_return() {
    let mut seen = connected_once();
    assert_eq!(seen.observe(false, 2), Some(Change::CutOff));
    assert_eq!(seen.observe(true, 3), Some(Change::Back));
    assert_eq!(seen.observe(true, 3), None);
}

/// Every wait of these tests is bounded by this.
const PATIENCE: Duration = Duration::from_secs(10);

/// Looks until `link` reports `expected`, within [`PATIENCE`].
async fn until_seen(link: &Link, expected: Change) {
    let deadline = Instant::now() + PATIENCE;
    while link.look() != Some(expected) {
        assert!(
            Instant::now() < deadline,
            "{expected:?} not seen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_restart_is_seen_and_reported_with_every_event_dropped() {
    let mut server = NatsServer::start().await;
    let url = server.url();
    let deadline = Instant::now() + PATIENCE;
    // No event callback: async-nats drops every event, as it does when
    // its channel is full.
    let client = loop {
        let options = ConnectOptions::new()
            .max_reconnects(None)
            .reconnect_delay_callback(|_| Duration::from_millis(50));
        match options.connect(url.as_str()).await {
            Ok(client) => break client,
            Err(error) => assert!(Instant::now() < deadline, "no server: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let losses = Losses::new();
    let mut incidents = losses.watch();
    let (round_trip, answering) = RoundTrip::start(client.clone(), "n").await.unwrap();
    let answering = tokio::spawn(answering);
    let link = Link::new(
        client,
        Arc::new(Notify::new()),
        round_trip,
        losses.clone(),
        PATIENCE,
    );
    assert_eq!(link.look(), None);

    server.kill();
    until_seen(&link, Change::CutOff).await;
    server.restart().await;
    until_seen(&link, Change::Back).await;
    assert_eq!(losses.own_publications(), 1);
    tokio::time::timeout(PATIENCE, incidents.wait_for(|count| *count == 1))
        .await
        .expect("the reconnection reported within PATIENCE")
        .unwrap();
    answering.abort();
}
