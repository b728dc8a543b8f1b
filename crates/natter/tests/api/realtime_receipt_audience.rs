//! Who hears of a `receipt`: in a large group, the whole chat only when the
//! advance changes a message's `status` for someone (the first delivery,
//! the first read), otherwise only the reader's own devices; in a small
//! group, everyone, always. Both socket markers (`ack`, `read`) and the
//! REST read marker follow the same rule.
//!
//! A receipt that must NOT reach a socket is checked against a barrier: an
//! event published after it (the bus and each socket keep publish order),
//! so the test fails if the receipt arrives, without waiting on a clock.

use crate::helpers::{
    TestServer, events_until, group, history, new_message_in, new_messages, send, wait_for,
};
use natter_client::Client;
use natter_core::markers::ANNOUNCE_ALL_RECEIPTS_UP_TO;
use natter_proto::auth::AuthResponse;
use natter_proto::events::{ClientFrame, ReceiptKind, ServerEvent};
use natter_proto::messages::MessageStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_large_group_only_receipts_that_change_a_status_reach_every_member() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let others = crowd(&server, "member", ANNOUNCE_ALL_RECEIPTS_UP_TO).await;
    let chat = group(
        &alice,
        "crowd",
        &others.iter().map(|(_, a)| a).collect::<Vec<_>>(),
    )
    .await;
    let chat_id = chat.summary.chat_id;
    assert_eq!(
        chat.summary.member_count as usize,
        ANNOUNCE_ALL_RECEIPTS_UP_TO + 1,
        "one member more than the groups that hear every receipt"
    );
    let [bob, carol, dave] = [&others[0], &others[1], &others[2]];
    let (bob_id, carol_id, dave_id) = (id_of(bob), id_of(carol), id_of(dave));
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob.1.access_token).await;
    let (mut carol_ws, _) = server.socket(&carol.1.access_token).await;
    let (mut carol_phone, _) = server.socket(&carol.1.access_token).await;
    let (mut dave_phone, _) = server.socket(&dave.1.access_token).await;
    let seq = send(&alice, &chat_id, "hello, everyone").await.seq;
    new_messages(&mut bob_ws, &chat_id, 1).await;
    new_messages(&mut carol_ws, &chat_id, 1).await;

    bob_ws.send_frame(&ack(&chat_id, seq)).await.unwrap();
    let delivered = wait_for(
        &mut alice_ws,
        "bob's delivered receipt, the first one",
        receipt_of(&chat_id, &bob_id, ReceiptKind::Delivered),
    )
    .await;
    assert_eq!(delivered, seq);
    assert_eq!(statuses(&alice, &chat_id).await, [MessageStatus::Delivered]);

    carol_ws.send_frame(&ack(&chat_id, seq)).await.unwrap();
    let own = wait_for(
        &mut carol_phone,
        "carol's receipt on her other device",
        receipt_of(&chat_id, &carol_id, ReceiptKind::Delivered),
    )
    .await;
    assert_eq!(own, seq);
    // Published after carol's receipt, and the first read: to everyone.
    let read = ClientFrame::Read {
        chat_id: chat_id.clone(),
        seq,
    };
    bob_ws.send_frame(&read).await.unwrap();
    let before = events_until(&mut alice_ws, "bob's read receipt", |event| {
        receipt_of(&chat_id, &bob_id, ReceiptKind::Read)(event).is_some()
    })
    .await;
    assert!(
        !before.iter().any(|event| is_receipt_by(event, &carol_id)),
        "a second delivery changes no status, yet alice heard of it: {before:?}"
    );
    assert_eq!(statuses(&alice, &chat_id).await, [MessageStatus::Read]);

    dave.0.mark_read(&chat_id, seq).await.unwrap();
    let own = wait_for(
        &mut dave_phone,
        "dave's REST read receipt on his device",
        receipt_of(&chat_id, &dave_id, ReceiptKind::Read),
    )
    .await;
    assert_eq!(own, seq);
    let next = send(&alice, &chat_id, "anyone else?").await.seq;
    let before = events_until(&mut alice_ws, "alice's next message", |event| {
        new_message_in(event, &chat_id).is_some_and(|message| message.seq == next)
    })
    .await;
    assert!(
        !before.iter().any(|event| is_receipt_by(event, &dave_id)),
        "a second read changes no status, yet alice heard of it: {before:?}"
    );
    assert_eq!(
        statuses(&alice, &chat_id).await,
        [MessageStatus::Read, MessageStatus::Sent]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_small_group_every_receipt_reaches_every_member() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let others = crowd(&server, "member", ANNOUNCE_ALL_RECEIPTS_UP_TO - 1).await;
    let chat = group(
        &alice,
        "circle",
        &others.iter().map(|(_, a)| a).collect::<Vec<_>>(),
    )
    .await;
    let chat_id = chat.summary.chat_id;
    assert_eq!(
        chat.summary.member_count as usize,
        ANNOUNCE_ALL_RECEIPTS_UP_TO
    );
    let [bob, carol] = [&others[0], &others[1]];
    let (bob_id, carol_id) = (id_of(bob), id_of(carol));
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob.1.access_token).await;
    let (mut carol_ws, _) = server.socket(&carol.1.access_token).await;
    let seq = send(&alice, &chat_id, "hello, friends").await.seq;

    new_messages(&mut bob_ws, &chat_id, 1).await;
    new_messages(&mut carol_ws, &chat_id, 1).await;
    bob_ws.send_frame(&ack(&chat_id, seq)).await.unwrap();
    for (socket, whose) in [(&mut alice_ws, "alice"), (&mut carol_ws, "carol")] {
        let what = format!("bob's delivered receipt at {whose}");
        let heard = wait_for(
            socket,
            &what,
            receipt_of(&chat_id, &bob_id, ReceiptKind::Delivered),
        )
        .await;
        assert_eq!(heard, seq);
    }

    // Changes no status (bob has it already), and still reaches everyone.
    carol_ws.send_frame(&ack(&chat_id, seq)).await.unwrap();
    for (socket, whose) in [(&mut alice_ws, "alice"), (&mut bob_ws, "bob")] {
        let what = format!("carol's delivered receipt at {whose}");
        let heard = wait_for(
            socket,
            &what,
            receipt_of(&chat_id, &carol_id, ReceiptKind::Delivered),
        )
        .await;
        assert_eq!(heard, seq);
    }
    assert_eq!(statuses(&alice, &chat_id).await, [MessageStatus::Delivered]);
}

/// Registers `count` users `{prefix}00`, `{prefix}01`, ...
async fn crowd(server: &TestServer, prefix: &str, count: usize) -> Vec<(Client, AuthResponse)> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        users.push(server.user(&format!("{prefix}{i:02}")).await);
    }
    users
}

fn id_of(user: &(Client, AuthResponse)) -> String {
    user.1.user.user_id.clone()
}

fn ack(chat_id: &str, seq: i64) -> ClientFrame {
    ClientFrame::Ack {
        chat_id: chat_id.to_owned(),
        seq,
    }
}

/// Picks the seq of a `receipt` of `kind` by `user_id` in `chat_id`.
fn receipt_of<'a>(
    chat_id: &'a str,
    user_id: &'a str,
    kind: ReceiptKind,
) -> impl Fn(&ServerEvent) -> Option<i64> + 'a {
    move |event| match event {
        ServerEvent::Receipt {
            chat_id: chat,
            user_id: user,
            kind: k,
            seq,
        } if chat == chat_id && user == user_id && *k == kind => Some(*seq),
        _ => None,
    }
}

fn is_receipt_by(event: &ServerEvent, user_id: &str) -> bool {
    matches!(event, ServerEvent::Receipt { user_id: user, .. } if user == user_id)
}

/// The `status` of each message of the chat as `client` sees it, by seq.
async fn statuses(client: &Client, chat_id: &str) -> Vec<MessageStatus> {
    history(client, chat_id)
        .await
        .into_iter()
        .map(|message| message.status)
        .collect()
}
