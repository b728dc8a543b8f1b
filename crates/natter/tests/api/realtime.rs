//! Messages over the WebSocket: REST and socket sends reach every member's
//! open connections (every device), idempotent socket sends, errors tied
//! to their `client_msg_id`, the `ready` cursors, the other message
//! events, and one identical per-chat order for everyone in a busy group.

use crate::helpers::{
    TestServer, direct, events_until, group, history, new_message_in, new_messages, send,
    send_frame, send_ok, wait_for,
};
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_both_ways_over_their_sockets() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;

    let ack = send(&alice, &chat_id, "hi bob").await;
    let got = new_messages(&mut bob_ws, &chat_id, 1).await.remove(0);
    assert_eq!(
        got.message_id, ack.message_id,
        "a REST send arrives on the socket"
    );
    assert_eq!((got.seq, got.content.as_str()), (1, "hi bob"));
    assert_eq!(got.sender_id, alice_auth.user.user_id);

    bob_ws
        .send_frame(&send_frame("bob-1", &chat_id, "hi alice"))
        .await
        .unwrap();
    let (message_id, seq) = send_ok(&mut bob_ws, "bob-1").await;
    assert_eq!(seq, 2);
    let seen_by_alice = new_messages(&mut alice_ws, &chat_id, 2).await;
    assert_eq!(
        seen_by_alice[0].message_id, ack.message_id,
        "her own message too"
    );
    let reply = &seen_by_alice[1];
    assert_eq!(
        (reply.message_id.as_str(), reply.seq),
        (message_id.as_str(), 2)
    );
    assert_eq!(
        (reply.sender_id.as_str(), reply.content.as_str()),
        (bob_auth.user.user_id.as_str(), "hi alice")
    );
    assert_eq!(history(&alice, &chat_id).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_send_repeated_with_its_client_msg_id_is_stored_and_delivered_once() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;

    let frame = send_frame("retry-1", &chat_id, "only once");
    bob_ws.send_frame(&frame).await.unwrap();
    let first = send_ok(&mut bob_ws, "retry-1").await;
    bob_ws.send_frame(&frame).await.unwrap();
    let again = send_ok(&mut bob_ws, "retry-1").await;
    assert_eq!(again, first, "the retry is answered with the original");
    bob_ws
        .send_frame(&send_frame("retry-2", &chat_id, "next"))
        .await
        .unwrap();
    assert_eq!(send_ok(&mut bob_ws, "retry-2").await.1, 2, "no seq burnt");

    let seen = new_messages(&mut alice_ws, &chat_id, 2).await;
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2], "the retry is not delivered again");
    assert_eq!(history(&alice, &chat_id).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_socket_send_names_its_client_msg_id_and_the_socket_stays_usable() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let alices_chat = group(&alice, "private", &[]).await.summary.chat_id;
    let bobs_chat = group(&bob, "own", &[]).await.summary.chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;

    let cases = [
        (
            "not-member",
            alices_chat.as_str(),
            "hello",
            ErrorCode::NotFound,
        ),
        ("empty", bobs_chat.as_str(), "", ErrorCode::InvalidRequest),
    ];
    for (client_msg_id, chat_id, content, code) in cases {
        bob_ws
            .send_frame(&send_frame(client_msg_id, chat_id, content))
            .await
            .unwrap();
        let error = wait_for(&mut bob_ws, "an error frame", |event| match event {
            ServerEvent::Error {
                client_msg_id,
                code,
                detail,
                ..
            } => Some((client_msg_id.clone(), *code, detail.clone())),
            _ => None,
        })
        .await;
        assert_eq!(
            (error.0.as_deref(), error.1),
            (Some(client_msg_id), code),
            "{}",
            error.2
        );
    }
    bob_ws
        .send_frame(&send_frame("fine", &bobs_chat, "works"))
        .await
        .unwrap();
    assert_eq!(send_ok(&mut bob_ws, "fine").await.1, 1);
    assert!(
        history(&alice, &alices_chat).await.is_empty(),
        "nothing reached alice's chat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_lists_every_chat_with_its_last_seq_and_the_users_read_seq() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let busy = group(&alice, "busy", &[&bob_auth]).await.summary.chat_id;
    let quiet = direct(&alice, &bob_auth).await.summary.chat_id;
    for text in ["one", "two", "three"] {
        send(&alice, &busy, text).await;
    }
    bob.mark_read(&busy, 2).await.unwrap();

    let (_, ready) = server.socket(&bob_auth.access_token).await;
    assert_eq!(ready.user_id, bob_auth.user.user_id);
    assert!(!ready.session_id.is_empty());
    let mut cursors: Vec<(String, i64, i64)> = ready
        .chats
        .iter()
        .map(|c| (c.chat_id.clone(), c.last_seq, c.read_seq))
        .collect();
    cursors.sort();
    let mut expected = vec![(busy, 3, 2), (quiet, 0, 0)];
    expected.sort();
    assert_eq!(cursors, expected);
    let (_, alice_ready) = server.socket(&alice_auth.access_token).await;
    assert_eq!(alice_ready.chats.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_connection_of_a_user_receives_the_chat() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(server.socket(&bob_auth.access_token).await.0);
    }
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;

    let ack = send(&alice, &chat_id, "to all your devices").await;
    for device in &mut devices {
        let got = new_messages(device, &chat_id, 1).await.remove(0);
        assert_eq!(got.message_id, ack.message_id);
    }
    // What one device sends shows up on the others (and at alice's).
    devices[0]
        .send_frame(&send_frame("phone-1", &chat_id, "from my phone"))
        .await
        .unwrap();
    // On the sending device its own `message.new` may come before or
    // after the `send.ok`: the contract orders events within a chat, not
    // answers against events.
    let before_ok = events_until(&mut devices[0], "send.ok of phone-1", |event| {
        matches!(event, ServerEvent::SendOk { client_msg_id, .. } if client_msg_id == "phone-1")
    })
    .await;
    let message_id = history(&alice, &chat_id).await[1].message_id.clone();
    let own = match before_ok
        .iter()
        .find_map(|event| new_message_in(event, &chat_id))
    {
        Some(own) => own,
        None => new_messages(&mut devices[0], &chat_id, 1).await.remove(0),
    };
    assert_eq!(own.message_id, message_id);
    for device in &mut devices[1..] {
        let got = new_messages(device, &chat_id, 1).await.remove(0);
        assert_eq!(got.message_id, message_id);
    }
    let seen = new_messages(&mut alice_ws, &chat_id, 2).await;
    assert_eq!(seen[1].message_id, message_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_deletions_and_reactions_reach_the_members() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let ack = send(&alice, &chat_id, "typo").await;
    new_messages(&mut bob_ws, &chat_id, 1).await;

    alice.edit_message(&ack.message_id, "fixed").await.unwrap();
    let edited = wait_for(&mut bob_ws, "message.updated", |event| match event {
        ServerEvent::MessageUpdated { message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (edited.message_id.as_str(), edited.content.as_str()),
        (ack.message_id.as_str(), "fixed")
    );
    assert!(edited.edited_at.is_some());

    alice.add_reaction(&ack.message_id, "👍").await.unwrap();
    alice.remove_reaction(&ack.message_id, "👍").await.unwrap();
    let reactions = events_until(
        &mut bob_ws,
        "reaction.removed",
        |event| matches!(event, ServerEvent::ReactionRemoved { emoji, .. } if emoji == "👍"),
    )
    .await;
    assert!(reactions.iter().any(|event| matches!(event,
        ServerEvent::ReactionAdded { message_id, emoji, .. } if *message_id == ack.message_id && emoji == "👍")));

    alice.delete_message(&ack.message_id).await.unwrap();
    let deleted = wait_for(&mut bob_ws, "message.deleted", |event| match event {
        ServerEvent::MessageDeleted {
            chat_id,
            message_id,
            seq,
            ..
        } => Some((chat_id.clone(), message_id.clone(), *seq)),
        _ => None,
    })
    .await;
    assert_eq!(deleted, (chat_id, ack.message_id, 1));
}

/// Members of the busy group, senders among them, messages per sender.
const MEMBERS: usize = 20;
const SENDERS: usize = 5;
const PER_SENDER: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_twenty_with_concurrent_senders_sees_one_identical_order() {
    let server = TestServer::spawn().await;
    let mut users = Vec::new();
    for index in 0..MEMBERS {
        users.push(server.user(&format!("member{index:02}")).await);
    }
    let others: Vec<_> = users[1..].iter().map(|(_, auth)| auth).collect();
    let chat_id = group(&users[0].0, "crowd", &others).await.summary.chat_id;
    let mut sockets = Vec::new();
    for (_, auth) in &users {
        sockets.push(server.socket(&auth.access_token).await.0);
    }

    // Four senders over REST and one over a second socket of its own,
    // all at once.
    let mut tasks = Vec::new();
    for (sender, (client, _)) in users.iter().take(SENDERS - 1).enumerate() {
        let (client, chat_id) = (client.clone(), chat_id.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_SENDER {
                send(&client, &chat_id, &format!("rest {sender}/{n}")).await;
            }
        }));
    }
    let socket_sender = users[SENDERS - 1].1.access_token.clone();
    let mut device = server.socket(&socket_sender).await.0;
    let device_chat = chat_id.clone();
    let socket_task = tokio::spawn(async move {
        for n in 0..PER_SENDER {
            let frame = send_frame(&format!("ws-{n}"), &device_chat, &format!("ws {n}"));
            device.send_frame(&frame).await.unwrap();
        }
        for n in 0..PER_SENDER {
            send_ok(&mut device, &format!("ws-{n}")).await;
        }
    });
    for task in tasks {
        task.await.unwrap();
    }
    socket_task.await.unwrap();

    let total = SENDERS * PER_SENDER;
    let stored: Vec<String> = history(&users[0].0, &chat_id)
        .await
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(stored.len(), total);
    for (index, socket) in sockets.iter_mut().enumerate() {
        let seen = new_messages(socket, &chat_id, total).await;
        let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=total as i64).collect::<Vec<_>>(),
            "member {index}"
        );
        let ids: Vec<String> = seen.into_iter().map(|m| m.message_id).collect();
        assert_eq!(
            ids, stored,
            "member {index} saw another order than the history"
        );
    }
    // Nothing more of the chat follows (no duplicate after the last one).
    send(&users[0].0, &chat_id, "the end").await;
    for socket in &mut sockets {
        let next = wait_for(socket, "the last message", |e| new_message_in(e, &chat_id)).await;
        assert_eq!(next.seq, total as i64 + 1);
    }
}
