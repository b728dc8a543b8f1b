//! Two nodes on one server: envelopes cross only where there is interest,
//! as they were sent; a chat without a local member costs a node no NATS
//! message at all (target SO7).

use crate::support::{NatsServer, PATIENCE, next_envelope, node, nothing, options};
use bytes::Bytes;
use natter_bus::{Bus, Envelope, Meta, Subject};
use natter_bus_nats::NatsBus;
use std::time::Duration;

fn envelope(subject: &Subject, meta: Meta, frame: &str) -> Envelope {
    Envelope {
        subject: subject.clone(),
        meta,
        frame: Bytes::copy_from_slice(frame.as_bytes()),
    }
}

#[tokio::test]
async fn an_envelope_reaches_another_node_only_while_it_is_interested() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let (mut a_feed, mut b_feed) = (a.feed(), b.feed());
    let chat = Subject::Chat("0190c2a4-7b3e-7c41-9a55-1f2e3d4c5b6a".into());
    b.interest(&chat, true).await;
    let sent = [
        envelope(
            &chat,
            Meta::MessageNew { seq: 42 },
            r#"{"type":"message.new","é":"ü\n"}"#,
        ),
        envelope(
            &chat,
            Meta::Typing {
                user_id: "u 1".into(),
            },
            r#"{"type":"typing"}"#,
        ),
        envelope(
            &chat,
            Meta::Joined {
                chat_id: "c%1".into(),
                last_seq: 7,
            },
            "{}",
        ),
        envelope(
            &chat,
            Meta::Left {
                chat_id: "c".into(),
                user_id: "u".into(),
            },
            "{}",
        ),
        Envelope::control(
            chat.clone(),
            Meta::SessionEnded {
                session_id: "s".into(),
            },
        ),
        envelope(&chat, Meta::Other, "{}"),
    ];
    for envelope in &sent {
        a.publish(envelope.clone());
    }
    for expected in &sent {
        // Equal frame bytes and equal meta.
        assert_eq!(&next_envelope(b_feed.as_mut()).await, expected);
    }
    nothing(b_feed.as_mut()).await;
    nothing(a_feed.as_mut()).await;

    b.interest(&chat, false).await;
    a.publish(envelope(&chat, Meta::Other, "{}"));
    nothing(b_feed.as_mut()).await;
}

/// Messages NATS has sent to the connection named `name`.
async fn delivered_to(server: &NatsServer, name: &str) -> u64 {
    server.connection(name).await["out_msgs"]
        .as_u64()
        .expect("out_msgs")
}

/// Subjects the connection named `name` is subscribed to.
async fn subscriptions_of(server: &NatsServer, name: &str) -> Vec<String> {
    let connection = server.connection(name).await;
    connection["subscriptions_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|subject| subject.as_str().map(str::to_owned))
        .collect()
}

/// Waits until the server stops sending `name` anything (start-up
/// heartbeats and presence snapshots are done); returns the count then.
async fn quiet(server: &NatsServer, name: &str) -> u64 {
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut last = delivered_to(server, name).await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = delivered_to(server, name).await;
        if now == last {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "never quiet");
        last = now;
    }
}

async fn slow_node(server: &NatsServer, name: &str) -> NatsBus {
    let options = natter_bus_nats::NatsOptions {
        // Nothing of the cluster's own during the count.
        heartbeat_interval: Duration::from_secs(60),
        presence_snapshot_interval: Duration::from_secs(60),
        presence_grace: Duration::from_millis(400),
        ..options(name)
    };
    NatsBus::connect(&server.url(), options)
        .await
        .expect("a node connects")
}

#[tokio::test]
async fn a_node_without_a_member_in_a_chat_gets_no_nats_message_for_it() {
    let server = NatsServer::start().await;
    let (a, b) = (slow_node(&server, "a").await, slow_node(&server, "b").await);
    let busy = Subject::Chat("busy".into());
    let elsewhere = Subject::Chat("elsewhere".into());
    a.interest(&busy, true).await;
    b.interest(&elsewhere, true).await;
    let subscriptions = subscriptions_of(&server, "b").await;
    assert!(subscriptions.contains(&"natter.chat.elsewhere".to_owned()));
    assert!(
        !subscriptions.contains(&"natter.chat.busy".to_owned()),
        "{subscriptions:?}"
    );

    let before = quiet(&server, "b").await;
    let mut a_feed = a.feed();
    for n in 0..100 {
        a.publish(envelope(&busy, Meta::MessageNew { seq: n }, "{}"));
    }
    for _ in 0..100 {
        next_envelope(a_feed.as_mut()).await;
    }
    assert_eq!(
        delivered_to(&server, "b").await,
        before,
        "0 messages for `busy`"
    );

    // The count does move for a chat B has a member in.
    let mut b_feed = b.feed();
    for n in 0..10 {
        a.publish(envelope(&elsewhere, Meta::MessageNew { seq: n }, "{}"));
    }
    for _ in 0..10 {
        next_envelope(b_feed.as_mut()).await;
    }
    assert_eq!(delivered_to(&server, "b").await, before + 10);
}

#[tokio::test]
async fn a_hostile_id_cannot_widen_a_subscription() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let mut b_feed = b.feed();
    let hostile: Vec<Subject> = ["*", ">", "a.>", "a b", ""]
        .into_iter()
        .map(|id| Subject::Chat(id.into()))
        .collect();
    for subject in &hostile {
        b.interest(subject, true).await;
    }
    let subscriptions = subscriptions_of(&server, "b").await;
    assert!(
        subscriptions
            .iter()
            .all(|subject| !subject.contains('*') && !subject.contains('>')),
        "{subscriptions:?}"
    );
    for id in ["x", "a.b", "a", "b"] {
        a.publish(envelope(&Subject::Chat(id.into()), Meta::Other, "{}"));
    }
    nothing(b_feed.as_mut()).await;
    for subject in &hostile {
        let sent = envelope(subject, Meta::Other, "{}");
        a.publish(sent.clone());
        assert_eq!(next_envelope(b_feed.as_mut()).await, sent);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_of_one_node_reach_another_in_the_order_published_across_subjects() {
    let server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let mut b_feed = b.feed();
    let chats: Vec<Subject> = (0..3).map(|n| Subject::Chat(format!("c{n}"))).collect();
    let user = Subject::User("u".into());
    for subject in chats.iter().chain([&user]) {
        b.interest(subject, true).await;
    }
    let sent: Vec<Envelope> = (0..2_000)
        .map(|n| {
            let subject = if n % 4 == 3 { &user } else { &chats[n % 4] };
            envelope(subject, Meta::MessageNew { seq: n as i64 }, "{}")
        })
        .collect();
    for envelope in &sent {
        a.publish(envelope.clone());
    }
    for expected in &sent {
        assert_eq!(&next_envelope(b_feed.as_mut()).await, expected);
    }
}

#[tokio::test]
async fn a_feed_that_falls_behind_is_told_how_much_it_lost() {
    let server = NatsServer::start().await;
    let small = natter_bus_nats::NatsOptions {
        feed_capacity: 16,
        ..options("a")
    };
    let a = NatsBus::connect(&server.url(), small).await.unwrap();
    let mut feed = a.feed();
    let chat = Subject::Chat("c".into());
    a.interest(&chat, true).await;
    for n in 0..100 {
        a.publish(envelope(&chat, Meta::MessageNew { seq: n }, "{}"));
    }
    // The last one arriving means the others went past the feed.
    let mut probe = a.feed();
    let last = envelope(&chat, Meta::MessageNew { seq: 100 }, "{}");
    a.publish(last.clone());
    while next_envelope(probe.as_mut()).await != last {}
    assert_eq!(
        crate::support::next(feed.as_mut()).await,
        natter_bus::Received::Lost(101 - 16)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_that_overflows_is_reported_as_a_loss() {
    let server = NatsServer::start().await;
    let tiny = natter_bus_nats::NatsOptions {
        subscription_capacity: 1,
        ..options("b")
    };
    let a = node(&server, "a").await;
    let b = NatsBus::connect(&server.url(), tiny).await.unwrap();
    let mut b_feed = b.feed();
    let chat = Subject::Chat("c".into());
    b.interest(&chat, true).await;
    for n in 0..5_000 {
        a.publish(envelope(&chat, Meta::MessageNew { seq: n }, "{}"));
    }
    loop {
        if let natter_bus::Received::Lost(_) = crate::support::next(b_feed.as_mut()).await {
            break;
        }
    }
}
