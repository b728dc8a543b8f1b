//! Losses the feed is told of besides reconnections and peers: an
//! interest NATS confirmed late, a message whose routing header cannot be
//! read.

use crate::support::{NatsServer, next, next_envelope, node, options};
use natter_bus::{Bus, Envelope, Meta, Received, Subject};
use natter_bus_nats::{NatsBus, NatsOptions, subjects};
use std::time::Duration;

#[tokio::test]
async fn an_interest_confirmed_late_costs_a_loss_once_it_is_in_force() {
    let server = NatsServer::start().await;
    let impatient = NatsOptions {
        confirm_timeout: Duration::from_millis(200),
        // Pings every 2 s: a short pause of the server is not a
        // disconnection.
        heartbeat_interval: Duration::from_secs(1),
        ..options("a")
    };
    let a = NatsBus::connect(&server.url(), impatient).await.unwrap();
    let mut feed = a.feed();
    let chat = Subject::Chat("late".into());

    server.pause();
    // Completes at the timeout: the server cannot have answered.
    a.interest(&chat, true).await;
    server.resume();
    assert!(matches!(next(feed.as_mut()).await, Received::Lost(lost) if lost >= 1));

    let sent = Envelope::control(chat.clone(), Meta::MessageNew { seq: 1 });
    a.publish(sent.clone());
    assert_eq!(next_envelope(feed.as_mut()).await, sent, "in force");
}

#[tokio::test]
async fn a_message_with_an_unreadable_routing_header_costs_a_loss() {
    let server = NatsServer::start().await;
    let a = node(&server, "a").await;
    let mut feed = a.feed();
    let chat = Subject::Chat("c".into());
    a.interest(&chat, true).await;

    let foreign = async_nats::connect(server.url()).await.unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Natter-Meta", "x not a meta");
    foreign
        .publish_with_headers(subjects::of(&chat), headers, "{}".into())
        .await
        .unwrap();
    foreign.flush().await.unwrap();
    assert_eq!(next(feed.as_mut()).await, Received::Lost(1));

    let sent = Envelope::control(chat.clone(), Meta::MessageNew { seq: 1 });
    a.publish(sent.clone());
    assert_eq!(next(feed.as_mut()).await, Received::Envelope(sent));
}
