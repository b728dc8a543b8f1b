//! A NATS server killed and started again: the nodes notice, report the
//! loss, and carry on with the same subscriptions, even while a
//! subscription overflowing floods async-nats with events.

use crate::support::{NatsServer, eventually, next, next_envelope, node, options};
use bytes::Bytes;
use natter_bus::{Bus, Envelope, Meta, Received, Subject};
use natter_bus_nats::{NatsBus, NatsOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[tokio::test]
async fn a_restarted_server_costs_a_loss_then_envelopes_flow_again() {
    let mut server = NatsServer::start().await;
    let (a, b) = (node(&server, "a").await, node(&server, "b").await);
    let mut a_feed = a.feed();
    let chat = Subject::Chat("c1".into());
    a.interest(&chat, true).await;
    assert!(a.is_ready() && b.is_ready());

    server.kill();
    eventually("the nodes see NATS gone", || async {
        !a.is_ready() && !b.is_ready()
    })
    .await;
    // Published while NATS is away: queued or dropped, never blocking.
    for n in 0..10_000 {
        b.publish(Envelope::control(chat.clone(), Meta::MessageNew { seq: n }));
    }

    server.restart().await;
    eventually("the nodes are back", || async {
        a.is_ready() && b.is_ready()
    })
    .await;
    // Reported once the server has A's subscriptions again (what B
    // queued during the outage may already be arriving).
    loop {
        match next(a_feed.as_mut()).await {
            Received::Lost(lost) => {
                assert!(lost >= 1);
                break;
            }
            Received::Envelope(envelope) => assert_eq!(envelope.subject, chat),
        }
    }

    let sent = Envelope {
        subject: chat.clone(),
        meta: Meta::MessageNew { seq: 1_000_000 },
        frame: Bytes::from_static(b"{\"after\":true}"),
    };
    b.publish(sent.clone());
    loop {
        let envelope = next_envelope(a_feed.as_mut()).await;
        if envelope == sent {
            break;
        }
        // What B queued during the outage may come first.
        assert_eq!(envelope.subject, chat);
    }
}

/// Publishes on `chat` from `from` until `stop` is set, in bursts.
fn flood(from: NatsBus, chat: Subject, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seq = 0;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..200 {
                from.publish(Envelope::control(chat.clone(), Meta::MessageNew { seq }));
                seq += 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_flooded_through_a_restart_reports_it_and_beats_again() {
    let mut server = NatsServer::start().await;
    let a = node(&server, "a").await;
    // Its chat subscription overflows at once: async-nats sends an event
    // per dropped message, far more than its event channel holds.
    let tiny = NatsOptions {
        subscription_capacity: 1,
        ..options("b")
    };
    let b = NatsBus::connect(&server.url(), tiny).await.unwrap();
    let chat = Subject::Chat("flooded".into());
    b.interest(&chat, true).await;
    eventually("A and B hear each other", || async {
        a.peers() == [b.node_id().to_owned()] && b.peers() == [a.node_id().to_owned()]
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = flood(a.clone(), chat.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.kill();
    eventually("B sees NATS gone", || async { !b.is_ready() }).await;
    let mut b_feed = b.feed();
    server.restart().await;
    eventually("B is back", || async { b.is_ready() }).await;
    // The reconnection is reported (among the overflow's losses).
    loop {
        if let Received::Lost(_) = next(b_feed.as_mut()).await {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    flooding.await.unwrap();
    eventually("B beats again and A hears it, and back", || async {
        a.peers() == [b.node_id().to_owned()] && b.peers() == [a.node_id().to_owned()]
    })
    .await;
}
