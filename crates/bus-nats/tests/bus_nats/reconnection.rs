//! A NATS server killed and started again: the nodes notice, report the
//! loss, and carry on with the same subscriptions.

use crate::support::{NatsServer, eventually, next, next_envelope, node};
use bytes::Bytes;
use natter_bus::{Bus, Envelope, Meta, Received, Subject};

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
