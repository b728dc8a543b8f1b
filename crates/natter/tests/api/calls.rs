//! One-to-one calls over real sockets: an invite rings every device of the
//! callee, the first answer wins and the other devices hear which party
//! took it; candidates travel both ways; outsiders and group chats are
//! refused; renegotiation only once answered; a party's socket closing
//! ends its call; every call leaves one `call` entry in the history
//! (missed, declined, ended with a duration). And the TURN credentials.

use crate::helpers::{
    PASSWORD, TestServer, assert_problem, direct, events_until, group, history, raw_get, raw_json,
    send, wait_for,
};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use natter_client::Method;
use natter_client::ws::Connection;
use natter_proto::calls::{CallOutcome, CallRecord, IceCandidate, SdpType, SessionDescription};
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::{Message, MessageType};
use natter_proto::{ErrorCode, Timestamp};

pub(crate) fn description(kind: SdpType) -> SessionDescription {
    SessionDescription {
        kind,
        sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into(),
    }
}

pub(crate) fn new_call_id() -> String {
    natter_core::new_id()
}

pub(crate) fn invite(
    call_id: &str,
    chat_id: &str,
    lifetime_ms: Option<u64>,
    video: bool,
) -> ClientFrame {
    ClientFrame::CallInvite {
        call_id: call_id.into(),
        chat_id: chat_id.into(),
        offer: description(SdpType::Offer),
        lifetime_ms,
        video,
    }
}

pub(crate) fn answer(call_id: &str, chat_id: &str) -> ClientFrame {
    ClientFrame::CallAnswer {
        call_id: call_id.into(),
        chat_id: chat_id.into(),
        answer: description(SdpType::Answer),
    }
}

pub(crate) fn candidates(call_id: &str, chat_id: &str, line: &str) -> ClientFrame {
    ClientFrame::CallCandidates {
        call_id: call_id.into(),
        chat_id: chat_id.into(),
        candidates: vec![IceCandidate {
            candidate: line.into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        }],
    }
}

/// A device of `username` (a login of its own) with a socket: the socket
/// and the `party_id` the server gave it.
async fn device(server: &TestServer, username: &str) -> (Connection, String) {
    let auth = server
        .client()
        .login(username, PASSWORD)
        .await
        .expect("login");
    let (socket, ready) = server.socket(&auth.access_token).await;
    (socket, ready.party_id.expect("ready names the party"))
}

/// The next `error` frame's code.
pub(crate) async fn error_code(socket: &mut Connection, what: &str) -> ErrorCode {
    wait_for(socket, what, |event| match event {
        ServerEvent::Error { code, .. } => Some(*code),
        _ => None,
    })
    .await
}

/// The next `error` frame's code and the call it names.
pub(crate) async fn refusal(socket: &mut Connection, what: &str) -> (ErrorCode, Option<String>) {
    wait_for(socket, what, |event| match event {
        ServerEvent::Error { code, call_id, .. } => Some((*code, call_id.clone())),
        _ => None,
    })
    .await
}

/// The first candidate line of the next `call.candidates` from `from_party`.
pub(crate) async fn candidate_line(
    socket: &mut Connection,
    from_party: &str,
    what: &str,
) -> String {
    wait_for(socket, what, |event| match event {
        ServerEvent::CallCandidates {
            party_id,
            candidates,
            ..
        } if party_id == from_party => Some(candidates[0].candidate.clone()),
        _ => None,
    })
    .await
}

/// The `call` entries of a chat's history.
pub(crate) async fn call_entries(
    client: &natter_client::Client,
    chat_id: &str,
) -> Vec<(Message, CallRecord)> {
    history(client, chat_id)
        .await
        .into_iter()
        .filter(|message| message.message_type == MessageType::Call)
        .map(|message| {
            let record = message
                .metadata
                .call
                .clone()
                .expect("a call entry's record");
            (message, record)
        })
        .collect()
}

/// Waits for the `message.new` of the call entry in `chat_id`.
pub(crate) async fn entry_announced(socket: &mut Connection, chat_id: &str) -> CallRecord {
    wait_for(socket, "the call entry", |event| match event {
        ServerEvent::MessageNew { message }
            if message.chat_id == chat_id && message.message_type == MessageType::Call =>
        {
            message.metadata.call.clone()
        }
        _ => None,
    })
    .await
}

fn is_call_event(event: &ServerEvent) -> bool {
    matches!(
        event,
        ServerEvent::CallInvite { .. }
            | ServerEvent::CallAnswer { .. }
            | ServerEvent::CallSelectAnswer { .. }
            | ServerEvent::CallCandidates { .. }
            | ServerEvent::CallNegotiate { .. }
            | ServerEvent::CallReject { .. }
            | ServerEvent::CallHangup { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_rings_every_device_of_the_callee_and_the_first_answer_wins() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, caller_party) = device(&server, "alice").await;
    let (mut phone, phone_party) = device(&server, "bob").await;
    let (mut laptop, laptop_party) = device(&server, "bob").await;
    assert_ne!(phone_party, laptop_party, "every connection is a party");

    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, true))
        .await
        .unwrap();
    for (socket, name) in [(&mut phone, "phone"), (&mut laptop, "laptop")] {
        let (party, video, lifetime) = wait_for(socket, name, |event| match event {
            ServerEvent::CallInvite {
                call_id: id,
                party_id,
                video,
                lifetime_ms,
                offer,
                ..
            } if *id == call_id && offer.kind == SdpType::Offer => {
                Some((party_id.clone(), *video, *lifetime_ms))
            }
            _ => None,
        })
        .await;
        assert_eq!(
            (party, video, lifetime),
            (caller_party.clone(), true, 60_000)
        );
    }

    phone.send_frame(&answer(&call_id, &chat_id)).await.unwrap();
    let answered_by = wait_for(&mut caller, "the answer", |event| match event {
        ServerEvent::CallAnswer {
            call_id: id,
            party_id,
            answer,
            ..
        } if *id == call_id && answer.kind == SdpType::Answer => Some(party_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(answered_by, phone_party);
    let selected = wait_for(&mut laptop, "answered elsewhere", |event| match event {
        ServerEvent::CallSelectAnswer {
            call_id: id,
            selected_party_id,
            ..
        } if *id == call_id => Some(selected_party_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(selected, phone_party, "the laptop learns the phone took it");
    laptop
        .send_frame(&answer(&call_id, &chat_id))
        .await
        .unwrap();
    assert_eq!(
        refusal(&mut laptop, "a second answer refused").await,
        (ErrorCode::Conflict, Some(call_id.clone())),
        "the refusal names the call"
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

    phone
        .send_frame(&ClientFrame::CallHangup {
            call_id: call_id.clone(),
            chat_id: chat_id.clone(),
            reason: None,
        })
        .await
        .unwrap();
    let reason = wait_for(&mut caller, "the hangup", |event| match event {
        ServerEvent::CallHangup {
            call_id: id,
            reason,
            ..
        } if *id == call_id => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, "user_hangup");
    let announced = entry_announced(&mut caller, &chat_id).await;
    assert_eq!(announced.outcome, CallOutcome::Ended);
    let entries = call_entries(&alice, &chat_id).await;
    assert_eq!(entries.len(), 1, "one entry per call");
    let (message, record) = &entries[0];
    assert_eq!(message.sender_id, alice_auth.user.user_id);
    assert_eq!(message.content, "");
    assert_eq!(record.call_id, call_id);
    assert_eq!(record.outcome, CallOutcome::Ended);
    assert!(record.video);
    assert!(record.duration_ms.is_some(), "an ended call has a duration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_cannot_signal_and_hears_nothing_of_the_call() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    server.user("carol").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, _) = device(&server, "alice").await;
    let (mut bob, _) = device(&server, "bob").await;
    let (mut carol, _) = device(&server, "carol").await;

    carol
        .send_frame(&invite(&new_call_id(), &chat_id, None, false))
        .await
        .unwrap();
    assert_eq!(
        error_code(&mut carol, "carol's invite refused").await,
        ErrorCode::NotFound
    );
    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, false))
        .await
        .unwrap();
    wait_for(&mut bob, "alice's invite", |event| {
        matches!(event, ServerEvent::CallInvite { call_id: id, .. } if *id == call_id).then_some(())
    })
    .await;
    for frame in [
        candidates(
            &call_id,
            &chat_id,
            "candidate:9 1 udp 1 10.9.9.9 9 typ host",
        ),
        answer(&call_id, &chat_id),
        ClientFrame::CallHangup {
            call_id: call_id.clone(),
            chat_id: chat_id.clone(),
            reason: None,
        },
    ] {
        carol.send_frame(&frame).await.unwrap();
        assert_eq!(
            error_code(&mut carol, "carol's frame refused").await,
            ErrorCode::NotFound
        );
    }
    // A message after carol's frames: nothing of hers reached bob before it.
    let marker = send(&alice, &chat_id, "still ringing?").await;
    let before = events_until(&mut bob, "the marker", |event| {
        matches!(event, ServerEvent::MessageNew { message } if message.message_id == marker.message_id)
    })
    .await;
    assert!(
        !before.iter().any(is_call_event),
        "carol's signaling reached bob: {before:?}"
    );
    carol.send_frame(&ClientFrame::Ping).await.unwrap();
    let before = events_until(&mut carol, "pong", |event| {
        matches!(event, ServerEvent::Pong)
    })
    .await;
    assert!(!before.iter().any(is_call_event), "carol heard: {before:?}");
    // The call itself is unharmed: bob can still answer it.
    bob.send_frame(&answer(&call_id, &chat_id)).await.unwrap();
    wait_for(&mut caller, "bob's answer", |event| {
        matches!(event, ServerEvent::CallAnswer { .. }).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_refused_in_a_group_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "Ops", &[&bob_auth]).await.summary.chat_id;
    let (mut caller, _) = device(&server, "alice").await;
    let (mut bob, _) = device(&server, "bob").await;
    caller
        .send_frame(&invite(&new_call_id(), &chat_id, None, false))
        .await
        .unwrap();
    assert_eq!(
        error_code(&mut caller, "a group invite refused").await,
        ErrorCode::InvalidRequest
    );
    let marker = send(&alice, &chat_id, "marker").await;
    let before = events_until(&mut bob, "the marker", |event| {
        matches!(event, ServerEvent::MessageNew { message } if message.message_id == marker.message_id)
    })
    .await;
    assert!(!before.iter().any(is_call_event), "{before:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_invite_ends_as_missed_after_its_lifetime() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, _) = device(&server, "alice").await;
    let (mut callee, _) = device(&server, "bob").await;
    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, Some(1_000), false))
        .await
        .unwrap();
    for (socket, name) in [(&mut caller, "caller"), (&mut callee, "callee")] {
        let reason = wait_for(socket, name, |event| match event {
            ServerEvent::CallHangup {
                call_id: id,
                reason,
                ..
            } if *id == call_id => Some(reason.clone()),
            _ => None,
        })
        .await;
        assert_eq!(reason, "invite_timeout", "{name}");
        let record = entry_announced(socket, &chat_id).await;
        assert_eq!(record.outcome, CallOutcome::Missed, "{name}");
    }
    let entries = call_entries(&bob, &chat_id).await;
    assert_eq!(entries.len(), 1);
    let record = &entries[0].1;
    assert_eq!(
        (record.outcome, record.duration_ms, record.video),
        (CallOutcome::Missed, None, false)
    );
    callee
        .send_frame(&answer(&call_id, &chat_id))
        .await
        .unwrap();
    assert_eq!(
        error_code(&mut callee, "answering a missed call").await,
        ErrorCode::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_call_stops_every_device_and_leaves_a_declined_entry() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, _) = device(&server, "alice").await;
    let (mut phone, phone_party) = device(&server, "bob").await;
    let (mut laptop, _) = device(&server, "bob").await;
    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, true))
        .await
        .unwrap();
    wait_for(&mut phone, "the invite", |event| {
        matches!(event, ServerEvent::CallInvite { .. }).then_some(())
    })
    .await;
    phone
        .send_frame(&ClientFrame::CallReject {
            call_id: call_id.clone(),
            chat_id: chat_id.clone(),
        })
        .await
        .unwrap();
    for (socket, name) in [(&mut caller, "caller"), (&mut laptop, "laptop")] {
        let by = wait_for(socket, name, |event| match event {
            ServerEvent::CallReject {
                call_id: id,
                party_id,
                ..
            } if *id == call_id => Some(party_id.clone()),
            _ => None,
        })
        .await;
        assert_eq!(by, phone_party, "{name}");
    }
    assert_eq!(
        entry_announced(&mut caller, &chat_id).await.outcome,
        CallOutcome::Declined
    );
    let entries = call_entries(&alice, &chat_id).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].1.outcome, entries[0].1.duration_ms),
        (CallOutcome::Declined, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signaling_is_refused_with_a_reason_and_clients_cannot_forge_entries() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, _) = device(&server, "alice").await;
    for (frame, code) in [
        (
            invite("not-a-uuid", &chat_id, None, false),
            ErrorCode::InvalidRequest,
        ),
        (
            invite(&new_call_id(), &chat_id, Some(10), false),
            ErrorCode::InvalidRequest,
        ),
        (answer(&new_call_id(), &chat_id), ErrorCode::NotFound),
    ] {
        caller.send_frame(&frame).await.unwrap();
        assert_eq!(
            error_code(&mut caller, "a refusal").await,
            code,
            "{frame:?}"
        );
    }
    let call_id = new_call_id();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, false))
        .await
        .unwrap();
    caller
        .send_frame(&invite(&call_id, &chat_id, None, false))
        .await
        .unwrap();
    assert_eq!(
        error_code(&mut caller, "the same call_id twice").await,
        ErrorCode::Conflict
    );
    // The caller leaving ends the call: a missed entry.
    caller.close().await;
    let entries = crate::helpers::eventually("the missed entry", crate::helpers::WAIT, || async {
        let entries = call_entries(&alice, &chat_id).await;
        (!entries.is_empty()).then_some(entries)
    })
    .await;
    assert_eq!(entries[0].1.outcome, CallOutcome::Missed);

    for body in [
        serde_json::json!({"chat_id": chat_id, "type": "call", "content": ""}),
        serde_json::json!({"chat_id": chat_id, "content": "hi",
            "metadata": {"call": {"call_id": call_id, "outcome": "ended", "duration_ms": 5}}}),
    ] {
        let response = raw_json(&alice, Method::POST, "/api/v1/messages", &body).await;
        assert_problem(&response, ErrorCode::InvalidRequest);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_credentials_are_the_hmac_of_an_expiring_username() {
    let server = TestServer::spawn_with(|settings| {
        settings.calls.turn_uris = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        settings.calls.turn_secret = natter_config::Secret("north wind".into());
        settings.calls.turn_ttl_secs = 600;
    })
    .await;
    let (alice, alice_auth) = server.user("alice").await;
    let before = Timestamp::now().millis() / 1000;
    let response = raw_get(&alice, Method::GET, "/api/v1/calls/turn").await;
    let after = Timestamp::now().millis() / 1000;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json().unwrap();
    assert_eq!(body["ttl"], 600);
    assert_eq!(
        body["uris"],
        serde_json::json!(["turn:127.0.0.1:3478?transport=udp"])
    );
    let username = body["username"].as_str().unwrap();
    let (expiry, user_id) = username.split_once(':').unwrap();
    assert_eq!(user_id, alice_auth.user.user_id);
    let expiry: i64 = expiry.parse().unwrap();
    assert!(
        (before + 600..=after + 600).contains(&expiry),
        "expiry {expiry} is not ttl after the request ({before}..{after})"
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"north wind").unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(body["password"], expected.as_str());

    let anonymous = raw_get(&server.client(), Method::GET, "/api/v1/calls/turn").await;
    assert_problem(&anonymous, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_turn_the_list_is_empty_and_holds_no_credentials() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let response = raw_get(&alice, Method::GET, "/api/v1/calls/turn").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json().unwrap(),
        serde_json::json!({"ttl": 0, "uris": []})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renegotiation_needs_an_answered_call_and_reaches_the_other_party() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut caller, caller_party) = device(&server, "alice").await;
    let (mut callee, _) = device(&server, "bob").await;
    let call_id = new_call_id();
    let negotiate = ClientFrame::CallNegotiate {
        call_id: call_id.clone(),
        chat_id: chat_id.clone(),
        description: description(SdpType::Offer),
    };
    caller
        .send_frame(&invite(&call_id, &chat_id, None, false))
        .await
        .unwrap();
    caller.send_frame(&negotiate).await.unwrap();
    assert_eq!(
        error_code(&mut caller, "renegotiating a ringing call").await,
        ErrorCode::Conflict
    );
    callee
        .send_frame(&answer(&call_id, &chat_id))
        .await
        .unwrap();
    wait_for(&mut caller, "the answer", |event| {
        matches!(event, ServerEvent::CallAnswer { .. }).then_some(())
    })
    .await;
    caller.send_frame(&negotiate).await.unwrap();
    let (party, kind) = wait_for(&mut callee, "the new offer", |event| match event {
        ServerEvent::CallNegotiate {
            party_id,
            description,
            ..
        } => Some((party_id.clone(), description.kind)),
        _ => None,
    })
    .await;
    assert_eq!((party, kind), (caller_party, SdpType::Offer));
    // The callee's socket closing ends the answered call, with its duration.
    callee.close().await;
    let reason = wait_for(&mut caller, "the hangup", |event| match event {
        ServerEvent::CallHangup { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, "connection_lost");
    let record = entry_announced(&mut caller, &chat_id).await;
    assert_eq!(record.outcome, CallOutcome::Ended);
    assert!(record.duration_ms.is_some());
}
