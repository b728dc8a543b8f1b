//! Calls across the nodes of a cluster: the call is held by the node that
//! took the invite (the caller's); the callee's devices on another node
//! ring, answer, send candidates and hang up through it, a refusal there
//! comes back to the one device that sent the frame, and that device's
//! socket closing ends the call with its entry in the history.

use crate::calls::{
    answer, call_entries, candidate_line, candidates, entry_announced, invite, new_call_id, refusal,
};
use crate::cluster_support::{Cluster, register};
use crate::helpers::{direct, events_until, wait_for};
use natter_client::ws::{Connection, Ready};
use natter_proto::ErrorCode;
use natter_proto::auth::AuthResponse;
use natter_proto::calls::CallOutcome;
use natter_proto::events::ServerEvent;
use natter_proto::messages::MessageType;

async fn device(cluster: &Cluster, node: usize, auth: &AuthResponse) -> (Connection, String) {
    let (socket, ready): (Connection, Ready) =
        Connection::open(&cluster.url(node), &auth.access_token)
            .await
            .unwrap_or_else(|error| panic!("a socket on node {node}: {error}\n{}", cluster.logs()));
    (socket, ready.party_id.expect("ready names the party"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_on_another_node_answers_talks_and_hangs_up_by_leaving() {
    let cluster = Cluster::start(2).await;
    let (alice, alice_auth) = register(&cluster.url(0), "alice").await;
    let (_, bob_auth) = register(&cluster.url(1), "bob").await;
    let (_, carol_auth) = register(&cluster.url(1), "carol").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, caller_party) = device(&cluster, 0, &alice_auth).await;
    // Bob's phone is on the other node; his laptop on the caller's.
    let (mut phone, phone_party) = device(&cluster, 1, &bob_auth).await;
    let (mut laptop, _) = device(&cluster, 0, &bob_auth).await;
    let (mut carol, _) = device(&cluster, 1, &carol_auth).await;

    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, true))
        .await
        .unwrap();
    for (socket, name) in [(&mut phone, "phone"), (&mut laptop, "laptop")] {
        let from = wait_for(socket, name, |event| match event {
            ServerEvent::CallInvite {
                call_id: id,
                party_id,
                ..
            } if *id == call_id => Some(party_id.clone()),
            _ => None,
        })
        .await;
        assert_eq!(from, caller_party, "the {name} rings");
    }

    // An outsider on the phone's node is refused there.
    carol.send_frame(&answer(&call_id, &chat_id)).await.unwrap();
    assert_eq!(
        refusal(&mut carol, "carol's answer").await,
        (ErrorCode::NotFound, Some(call_id.clone()))
    );

    phone.send_frame(&answer(&call_id, &chat_id)).await.unwrap();
    let answered_by = wait_for(&mut caller, "the answer", |event| match event {
        ServerEvent::CallAnswer {
            call_id: id,
            party_id,
            ..
        } if *id == call_id => Some(party_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(answered_by, phone_party);
    for (socket, name) in [(&mut laptop, "laptop"), (&mut phone, "phone")] {
        let selected = wait_for(socket, name, |event| match event {
            ServerEvent::CallSelectAnswer {
                call_id: id,
                selected_party_id,
                ..
            } if *id == call_id => Some(selected_party_id.clone()),
            _ => None,
        })
        .await;
        assert_eq!(selected, phone_party, "the {name} learns the phone took it");
    }

    // The holding node's refusal reaches the phone, naming the call.
    phone.send_frame(&answer(&call_id, &chat_id)).await.unwrap();
    assert_eq!(
        refusal(&mut phone, "a second answer").await,
        (ErrorCode::Conflict, Some(call_id.clone()))
    );

    caller
        .send_frame(&candidates(
            &call_id,
            &chat_id,
            "candidate:1 1 udp 1 10.0.0.1 5000 typ host",
        ))
        .await
        .unwrap();
    let line = candidate_line(&mut phone, &caller_party, "the caller's candidates").await;
    assert!(line.contains("10.0.0.1"));
    phone
        .send_frame(&candidates(
            &call_id,
            &chat_id,
            "candidate:2 1 udp 1 10.0.0.2 5001 typ host",
        ))
        .await
        .unwrap();
    let line = candidate_line(&mut caller, &phone_party, "the callee's candidates").await;
    assert!(line.contains("10.0.0.2"));

    // The phone's socket goes away: its node tells the holding node.
    phone.close().await;
    let (by, reason) = wait_for(&mut caller, "the hangup", |event| match event {
        ServerEvent::CallHangup {
            call_id: id,
            party_id,
            reason,
            ..
        } if *id == call_id => Some((party_id.clone(), reason.clone())),
        _ => None,
    })
    .await;
    assert_eq!((by, reason.as_str()), (phone_party, "connection_lost"));
    assert_eq!(
        entry_announced(&mut caller, &chat_id).await.outcome,
        CallOutcome::Ended
    );
    let laptop_saw = events_until(&mut laptop, "the call entry", |event| {
        matches!(event, ServerEvent::MessageNew { message } if message.message_type == MessageType::Call)
    })
    .await;
    assert!(
        !laptop_saw
            .iter()
            .any(|event| matches!(event, ServerEvent::Error { .. })),
        "the phone's refusal reached the laptop: {laptop_saw:?}"
    );
    let entries = call_entries(&alice, &chat_id).await;
    assert_eq!(entries.len(), 1, "one entry per call: {entries:?}");
    assert_eq!(entries[0].1.call_id, call_id);
    assert!(entries[0].1.duration_ms.is_some(), "it was answered");
}
