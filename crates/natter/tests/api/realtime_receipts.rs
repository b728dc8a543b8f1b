//! Receipts over the socket: `ack` and `read` frames move the reader's
//! delivered and read markers, the sender hears `receipt` events, and the
//! sender's message `status` and `GET /messages/{id}/receipts` follow.

use crate::helpers::{TestServer, WAIT, eventually, group, history, new_messages, send, wait_for};
use natter_proto::events::{ClientFrame, ReceiptKind, ServerEvent};
use natter_proto::messages::MessageStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_and_reads_become_receipts_and_advance_the_senders_status() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let first = send(&alice, &chat_id, "one").await;
    send(&alice, &chat_id, "two").await;
    let received = new_messages(&mut bob_ws, &chat_id, 2).await;
    let bob_id = bob_auth.user.user_id.clone();

    let receipt = |kind: ReceiptKind| {
        let (chat, bob) = (chat_id.clone(), bob_id.clone());
        move |event: &ServerEvent| match event {
            ServerEvent::Receipt {
                chat_id,
                user_id,
                kind: k,
                seq,
            } if *chat_id == chat && *user_id == bob && *k == kind => Some(*seq),
            _ => None,
        }
    };
    let ack = ClientFrame::Ack {
        chat_id: chat_id.clone(),
        seq: received[0].seq,
    };
    bob_ws.send_frame(&ack).await.unwrap();
    let delivered = wait_for(
        &mut alice_ws,
        "a delivered receipt",
        receipt(ReceiptKind::Delivered),
    )
    .await;
    assert_eq!(delivered, 1);
    let statuses = status_by_seq(&alice, &chat_id).await;
    assert_eq!(
        statuses,
        [MessageStatus::Delivered, MessageStatus::Sent],
        "delivered up to seq 1 only"
    );
    let receipts = alice.receipts(&first.message_id).await.unwrap().receipts;
    let bobs = receipts
        .iter()
        .find(|r| r.user_id == bob_id)
        .expect("bob's receipt");
    assert!(
        bobs.delivered_at.is_some() && bobs.read_at.is_none(),
        "{bobs:?}"
    );

    let read = ClientFrame::Read {
        chat_id: chat_id.clone(),
        seq: 2,
    };
    bob_ws.send_frame(&read).await.unwrap();
    let read_seq = wait_for(&mut alice_ws, "a read receipt", receipt(ReceiptKind::Read)).await;
    assert_eq!(read_seq, 2);
    let statuses = status_by_seq(&alice, &chat_id).await;
    assert_eq!(statuses, [MessageStatus::Read, MessageStatus::Read]);
    let receipts = alice.receipts(&first.message_id).await.unwrap().receipts;
    let bobs = receipts
        .iter()
        .find(|r| r.user_id == bob_id)
        .expect("bob's receipt");
    let (delivered_at, read_at) = (
        bobs.delivered_at.expect("delivered_at"),
        bobs.read_at.expect("read_at"),
    );
    assert!(delivered_at <= read_at, "{bobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_acks_is_announced_up_to_the_highest_seq() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    for text in ["a", "b", "c"] {
        send(&alice, &chat_id, text).await;
    }
    new_messages(&mut bob_ws, &chat_id, 3).await;
    for seq in 1..=3 {
        bob_ws
            .send_frame(&ClientFrame::Ack {
                chat_id: chat_id.clone(),
                seq,
            })
            .await
            .unwrap();
    }
    let bob_id = bob_auth.user.user_id.clone();
    let last = wait_for(
        &mut alice_ws,
        "a delivered receipt for seq 3",
        |event| match event {
            ServerEvent::Receipt {
                user_id,
                kind: ReceiptKind::Delivered,
                seq: 3,
                ..
            } if *user_id == bob_id => Some(3),
            _ => None,
        },
    )
    .await;
    assert_eq!(last, 3);
    eventually("every message delivered", WAIT, || async {
        let statuses = status_by_seq(&alice, &chat_id).await;
        statuses
            .iter()
            .all(|s| *s == MessageStatus::Delivered)
            .then_some(())
    })
    .await;
}

async fn status_by_seq(client: &natter_client::Client, chat_id: &str) -> Vec<MessageStatus> {
    history(client, chat_id)
        .await
        .into_iter()
        .map(|m| m.status)
        .collect()
}
