//! The contract of `natter-bus` on NATS: one fresh server per test.

use crate::support::{NatsServer, node};
use natter_bus::contract;

#[tokio::test]
async fn nats_bus_routes_only_subjects_of_interest() {
    let server = NatsServer::start().await;
    let bus = node(&server, "a").await;
    contract::envelopes_reach_the_feed_only_for_subjects_of_interest(&bus).await;
}

#[tokio::test]
async fn nats_bus_keeps_chat_and_user_subjects_apart() {
    let server = NatsServer::start().await;
    let bus = node(&server, "a").await;
    contract::chat_and_user_subjects_are_apart(&bus).await;
}

#[tokio::test]
async fn nats_bus_stops_when_interest_ends() {
    let server = NatsServer::start().await;
    let bus = node(&server, "a").await;
    contract::interest_turned_off_stops_the_envelopes(&bus).await;
}

#[tokio::test]
async fn nats_bus_keeps_the_order_of_a_publisher() {
    let server = NatsServer::start().await;
    let bus = node(&server, "a").await;
    contract::envelopes_of_one_publisher_keep_their_order(&bus).await;
}

#[tokio::test]
async fn nats_presence_follows_the_connections() {
    let server = NatsServer::start().await;
    let bus = node(&server, "a").await;
    contract::presence_follows_the_connections(&bus.presence()).await;
    contract::departures_are_handed_out_once(&bus.presence());
}
