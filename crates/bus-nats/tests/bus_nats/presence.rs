//! Cluster-wide presence across nodes on one server: replicated changes,
//! snapshots for late nodes, a dead node's users going offline after the
//! grace and reported once, no flicker for a user who moves; and on two
//! servers, a node cut off past its grace whose users are reported back
//! when it returns.

use crate::support::{NatsServer, PATIENCE, eventually, node, options, start_cluster_with};
use natter_bus::{Presence, PresenceChange};
use natter_bus_nats::{NatsBus, NatsOptions};
use natter_proto::users::PresenceStatus::{self, Away, Offline, Online};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

fn ids(users: &[&str]) -> Vec<String> {
    users.iter().map(|user| user.to_string()).collect()
}

/// Waits until every node sees `users` as `expected`.
async fn all_see(nodes: &[&NatsBus], users: &[&str], expected: &[PresenceStatus]) {
    let users = ids(users);
    for node in nodes {
        let presence = node.presence();
        eventually("the nodes agree on presence", || async {
            presence.statuses(&users).await == expected
        })
        .await;
    }
}

async fn connected_peers(nodes: &[&NatsBus]) {
    for node in nodes {
        eventually("every node hears the others", || async {
            node.peers().len() == nodes.len() - 1
        })
        .await;
    }
}

/// Everything `departures` yields until `quiet` passes without news.
async fn drain(
    departures: &mut UnboundedReceiver<(String, PresenceChange)>,
    quiet: Duration,
) -> Vec<(String, PresenceChange)> {
    let mut seen = Vec::new();
    while let Ok(Some(departure)) = tokio::time::timeout(quiet, departures.recv()).await {
        seen.push(departure);
    }
    seen
}

#[tokio::test]
async fn a_user_of_a_dead_node_goes_offline_after_the_grace_and_is_reported_once() {
    let server = NatsServer::start().await;
    let a = node(&server, "a").await;
    let b = node(&server, "b").await;
    let c = node(&server, "c").await;
    connected_peers(&[&a, &b, &c]).await;
    let mut a_departures = a.presence().departures().expect("A's departures");
    let mut b_departures = b.presence().departures().expect("B's departures");
    c.presence().connected("dee").await;
    a.presence().connected("ann").await;
    c.presence().connected("ann").await;
    all_see(&[&a, &b, &c], &["ann", "dee"], &[Online, Online]).await;

    drop(c);
    all_see(&[&a, &b], &["ann", "dee"], &[Online, Offline]).await;
    let first = tokio::select! {
        departure = a_departures.recv() => departure,
        departure = b_departures.recv() => departure,
    };
    let offline = PresenceChange {
        before: Online,
        after: Offline,
    };
    assert_eq!(first, Some(("dee".to_owned(), offline)));
    let mut more = drain(&mut a_departures, Duration::from_secs(1)).await;
    more.extend(drain(&mut b_departures, Duration::from_millis(100)).await);
    assert!(more.is_empty(), "reported more than once: {more:?}");
}

#[tokio::test]
async fn a_user_online_on_two_nodes_stays_online_when_one_connection_closes() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    connected_peers(&[&a, &b]).await;
    let opened = a.presence().connected("ann").await;
    assert_eq!((opened.before, opened.after), (Offline, Online));
    all_see(&[&a, &b], &["ann"], &[Online]).await;

    let second = b.presence().connected("ann").await;
    assert!(!second.changed(), "already online elsewhere: {second:?}");
    let closed = b.presence().disconnected("ann", false).await;
    assert_eq!((closed.before, closed.after), (Online, Online));
    tokio::time::sleep(Duration::from_millis(300)).await;
    all_see(&[&a, &b], &["ann"], &[Online]).await;

    a.presence().set_away("ann", true).await;
    all_see(&[&a, &b], &["ann"], &[Away]).await;
    a.presence().disconnected("ann", true).await;
    all_see(&[&a, &b], &["ann"], &[Offline]).await;
}

#[tokio::test]
async fn a_node_that_starts_late_learns_who_is_online() {
    let server = NatsServer::start().await;
    let a = node(&server, "a").await;
    a.presence().connected("ann").await;
    a.presence().connected("bob").await;
    a.presence().set_away("bob", true).await;
    let b = node(&server, "b").await;
    all_see(&[&b], &["ann", "bob", "cat"], &[Online, Away, Offline]).await;
}

#[tokio::test]
async fn a_user_who_moves_to_another_node_within_the_grace_never_goes_offline() {
    let server = NatsServer::start().await;
    let long_grace = |name: &str| NatsOptions {
        presence_grace: Duration::from_secs(2),
        ..options(name)
    };
    let connect = |name: &'static str| {
        let url = server.url();
        async move { NatsBus::connect(&url, long_grace(name)).await.unwrap() }
    };
    let (a, b, c) = (connect("a").await, connect("b").await, connect("c").await);
    connected_peers(&[&a, &b, &c]).await;
    let mut a_departures = a.presence().departures().unwrap();
    let mut b_departures = b.presence().departures().unwrap();
    c.presence().connected("eve").await;
    all_see(&[&a, &b], &["eve"], &[Online]).await;

    drop(c);
    let moved = b.presence().connected("eve").await;
    assert!(!moved.changed(), "C's entry still counts: {moved:?}");
    // Past C's detection and grace, by a margin; eve stays online.
    let until = Instant::now() + Duration::from_secs(4);
    let users = ids(&["eve"]);
    while Instant::now() < until {
        assert_eq!(a.presence().statuses(&users).await, [Online]);
        assert_eq!(b.presence().statuses(&users).await, [Online]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        drain(&mut a_departures, Duration::from_millis(100))
            .await
            .is_empty()
    );
    assert!(
        drain(&mut b_departures, Duration::from_millis(100))
            .await
            .is_empty()
    );
}

/// The next change either channel yields, within [`PATIENCE`].
async fn next_from_either(
    a: &mut UnboundedReceiver<(String, PresenceChange)>,
    b: &mut UnboundedReceiver<(String, PresenceChange)>,
) -> (String, PresenceChange) {
    let either = async {
        tokio::select! {
            change = a.recv() => change,
            change = b.recv() => change,
        }
    };
    tokio::time::timeout(PATIENCE, either)
        .await
        .expect("a change within PATIENCE")
        .expect("the channel is open")
}

#[tokio::test]
async fn a_node_back_after_its_users_expired_has_them_reported_back_once() {
    // Clients learn only their own server: C cannot move to the other.
    let mut servers = start_cluster_with(2, &["--no_advertise=true"]).await;
    let a = node(&servers[0], "a").await;
    let b = node(&servers[0], "b").await;
    let c = node(&servers[1], "c").await;
    connected_peers(&[&a, &b, &c]).await;
    let mut a_changes = a.presence().departures().expect("A's changes");
    let mut b_changes = b.presence().departures().expect("B's changes");
    c.presence().connected("dee").await;
    all_see(&[&a, &b], &["dee"], &[Online]).await;

    // C is cut off (alive, its users connected) past death and grace.
    servers[1].kill();
    let gone = next_from_either(&mut a_changes, &mut b_changes).await;
    let offline = PresenceChange {
        before: Online,
        after: Offline,
    };
    assert_eq!(gone, ("dee".to_owned(), offline));
    all_see(&[&a, &b], &["dee"], &[Offline]).await;

    servers[1].restart().await;
    let back = next_from_either(&mut a_changes, &mut b_changes).await;
    let online = PresenceChange {
        before: Offline,
        after: Online,
    };
    assert_eq!(back, ("dee".to_owned(), online));
    all_see(&[&a, &b], &["dee"], &[Online]).await;
    let mut more = drain(&mut a_changes, Duration::from_secs(1)).await;
    more.extend(drain(&mut b_changes, Duration::from_millis(100)).await);
    assert!(more.is_empty(), "reported more than once: {more:?}");
}
