//! Sends pipelined over one socket: a client may send many frames without
//! waiting for their answers. Each is stored in the order its frame
//! arrived (its `seq` follows that order), answered once durable, and
//! announced to the other members in that order; a connection that
//! vanishes in the middle of a burst leaves a gap-free prefix of it, and
//! resending the rest (as clients do with unanswered sends) completes it
//! without duplicates.

use crate::helpers::{TestServer, group, history, new_messages, send_frame, send_ok, wait_for};
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
use std::collections::HashMap;

/// More than the server keeps in flight per connection, so the burst also
/// goes through the server's backpressure.
const BURST: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_socket_sends_is_stored_answered_and_delivered_in_sending_order() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;

    // Back to back: a retry of the frame just before, and a refused
    // frame (empty text) in the middle of the burst.
    for i in 0..BURST {
        let frame = match i {
            50 => send_frame("m-49", &chat_id, "m-49"),
            100 => send_frame("bad", &chat_id, ""),
            _ => send_frame(&format!("m-{i}"), &chat_id, &format!("m-{i}")),
        };
        alice_ws.send_frame(&frame).await.unwrap();
    }

    let mut answers: HashMap<String, Result<i64, ErrorCode>> = HashMap::new();
    let mut retry_answers = 0;
    while answers.len() + retry_answers < BURST {
        let (id, answer) = wait_for(
            &mut alice_ws,
            "an answer to the burst",
            |event| match event {
                ServerEvent::SendOk {
                    client_msg_id, seq, ..
                } => Some((client_msg_id.clone(), Ok(*seq))),
                ServerEvent::Error {
                    client_msg_id: Some(id),
                    code,
                    ..
                } => Some((id.clone(), Err(*code))),
                _ => None,
            },
        )
        .await;
        if let Some(first) = answers.insert(id.clone(), answer) {
            assert_eq!(
                first, answer,
                "the retry of {id} is answered as the original"
            );
            retry_answers += 1;
        }
    }
    assert_eq!(retry_answers, 1, "one retry in the burst");
    assert_eq!(answers["bad"], Err(ErrorCode::InvalidRequest));
    // Every accepted frame got the seq of its place in the burst.
    let accepted: Vec<usize> = (0..BURST).filter(|i| *i != 50 && *i != 100).collect();
    for (place, i) in accepted.iter().enumerate() {
        let id = format!("m-{i}");
        assert_eq!(answers[&id], Ok(place as i64 + 1), "seq of {id}");
    }

    let seen = new_messages(&mut bob_ws, &chat_id, accepted.len()).await;
    let contents: Vec<String> = seen.iter().map(|m| m.content.clone()).collect();
    let sent: Vec<String> = accepted.iter().map(|i| format!("m-{i}")).collect();
    assert_eq!(contents, sent, "bob sees them in sending order, once each");
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=accepted.len() as i64).collect::<Vec<_>>());
    assert_eq!(history(&alice, &chat_id).await.len(), accepted.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_vanishes_mid_burst_leaves_a_prefix_that_resending_completes() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let sent: Vec<String> = (0..BURST).map(|i| format!("gone-{i}")).collect();

    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    for id in &sent {
        alice_ws
            .send_frame(&send_frame(id, &chat_id, id))
            .await
            .unwrap();
    }
    drop(alice_ws);

    // Whatever the server took before the socket went away is stored
    // and announced, in order, with no holes.
    let (_, ready) = server.socket(&alice_auth.access_token).await;
    let stored_before = ready.chats[0].last_seq as usize;
    assert!(stored_before <= BURST);
    let seen = new_messages(&mut bob_ws, &chat_id, stored_before).await;
    let contents: Vec<&str> = seen.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        sent[..stored_before],
        "a prefix of the burst, in order"
    );

    // Alice resends everything that was not answered, with the same ids.
    let (mut again, _) = server.socket(&alice_auth.access_token).await;
    for id in &sent {
        again
            .send_frame(&send_frame(id, &chat_id, id))
            .await
            .unwrap();
    }
    let (_, last_seq) = send_ok(&mut again, &sent[BURST - 1]).await;
    assert_eq!(last_seq, BURST as i64, "no duplicates, no gaps");
    let rest = new_messages(&mut bob_ws, &chat_id, BURST - stored_before).await;
    let contents: Vec<&str> = rest.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, sent[stored_before..], "the rest, once each");
}
