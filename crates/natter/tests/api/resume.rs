//! [`RealtimeClient`] against the real server: a client whose network is
//! cut mid-conversation reconnects and delivers exactly the messages it
//! missed, in order, once; sends survive a reconnect without duplicates;
//! saved cursors resume across history pages; an expired access token is
//! refreshed; a dead session stops the client; acks reach the sender.

use crate::helpers::{
    TestServer, WAIT, direct, eventually, group, history, next_realtime, realtime_messages_until,
    realtime_options, send,
};
use crate::jwt;
use crate::proxy::CutProxy;
use natter::config::Secret;
use natter_client::ws::{RealtimeClient, RealtimeEvent, RealtimeOptions, SavedCursor, Start};
use natter_client::{Client, Session, text_message};
use natter_proto::auth::AuthResponse;
use natter_proto::messages::{Message, MessageStatus};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// A realtime client of `auth`'s user that talks to `base_url`.
pub(crate) fn realtime(
    base_url: &str,
    auth: &AuthResponse,
    options: RealtimeOptions,
) -> RealtimeClient {
    RealtimeClient::connect(
        Session::from_auth(&Client::new(base_url), auth.clone()),
        options,
    )
}

pub(crate) async fn connected(client: &mut RealtimeClient) {
    next_realtime(client, "a connection", |event| {
        matches!(event, RealtimeEvent::Connected { .. }).then_some(())
    })
    .await;
}

pub(crate) async fn disconnected(client: &mut RealtimeClient) {
    next_realtime(client, "a disconnection", |event| {
        matches!(event, RealtimeEvent::Disconnected { .. }).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_off_mid_conversation_ends_with_exactly_the_messages_it_missed() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let proxy = CutProxy::start(server.base_url()).await;
    let mut bob = realtime(&proxy.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;

    for n in 1..=5 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    let mut delivered = realtime_messages_until(&mut bob, &chat_id, 5).await;
    proxy.cut();
    disconnected(&mut bob).await;
    for n in 6..=10 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    proxy.restore();
    for n in 11..=15 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    delivered.extend(realtime_messages_until(&mut bob, &chat_id, 15).await);
    assert_eq!(seqs(&delivered), (1..=15).collect::<Vec<_>>());
    let contents: Vec<&str> = delivered.iter().map(|m| m.content.as_str()).collect();
    let expected: Vec<String> = (1..=15).map(|n| format!("m{n}")).collect();
    assert_eq!(contents, expected);
    // Nothing delivered twice later either: the next message is the next seq.
    send(&alice, &chat_id, "m16").await;
    let next = realtime_messages_until(&mut bob, &chat_id, 16).await;
    assert_eq!(seqs(&next), [16]);
}

const BUSY: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_off_repeatedly_during_a_busy_conversation_delivers_each_message_once() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "busy", &[&bob_auth]).await.summary.chat_id;
    let proxy = CutProxy::start(server.base_url()).await;
    let mut bob = realtime(&proxy.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;

    let sent = Arc::new(AtomicUsize::new(0));
    let sender = tokio::spawn({
        let (alice, chat_id, sent) = (alice.clone(), chat_id.clone(), sent.clone());
        async move {
            for n in 1..=BUSY {
                send(&alice, &chat_id, &format!("busy {n}")).await;
                sent.store(n, Ordering::SeqCst);
            }
        }
    });
    let mut delivered = realtime_messages_until(&mut bob, &chat_id, 10).await;
    proxy.cut();
    eventually("alice to send on", WAIT, || async {
        (sent.load(Ordering::SeqCst) >= 25).then_some(())
    })
    .await;
    proxy.restore();
    delivered.extend(realtime_messages_until(&mut bob, &chat_id, 35).await);
    proxy.cut();
    proxy.restore();
    delivered.extend(realtime_messages_until(&mut bob, &chat_id, BUSY as i64).await);
    sender.await.unwrap();
    assert_eq!(seqs(&delivered), (1..=BUSY as i64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_made_while_disconnected_is_stored_once_after_the_reconnect() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let proxy = CutProxy::start(server.base_url()).await;
    let mut bob = realtime(&proxy.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;

    proxy.cut();
    disconnected(&mut bob).await;
    let handle = bob.handle();
    let sending = tokio::spawn({
        let chat_id = chat_id.clone();
        async move { handle.send_text(&chat_id, "sent while offline").await }
    });
    proxy.restore();
    let ack = tokio::time::timeout(WAIT, sending)
        .await
        .expect("the send is answered after the reconnect")
        .unwrap()
        .expect("send.ok");
    assert_eq!(
        (ack.seq, ack.chat_id.as_str(), ack.status),
        (1, chat_id.as_str(), MessageStatus::Sent)
    );
    let own = realtime_messages_until(&mut bob, &chat_id, 1).await;
    assert_eq!(own[0].message_id, ack.message_id);
    let stored = history(&alice, &chat_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content, "sent while offline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_retried_with_a_known_client_msg_id_returns_the_original() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob_rest, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let mut message = text_message(&chat_id, "once");
    message.client_msg_id = Some("bob-phone-7".into());
    let original = bob_rest.send(&message).await.unwrap();

    let mut bob = realtime(server.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;
    let again = bob.handle().send(message).await.unwrap();
    assert_eq!(
        (again.message_id, again.seq),
        (original.message_id, original.seq)
    );
    assert_eq!(history(&alice, &chat_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_cursors_resume_in_order_across_history_pages() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    for n in 1..=10 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    let options = RealtimeOptions {
        start: Start::Cursors(HashMap::from([(chat_id.clone(), SavedCursor::at_seq(2))])),
        page_limit: 3,
        ..realtime_options()
    };
    let mut bob = realtime(server.base_url(), &bob_auth, options);
    let caught_up = realtime_messages_until(&mut bob, &chat_id, 10).await;
    assert_eq!(seqs(&caught_up), (3..=10).collect::<Vec<_>>());
    connected(&mut bob).await;
    send(&alice, &chat_id, "live").await;
    assert_eq!(
        seqs(&realtime_messages_until(&mut bob, &chat_id, 11).await),
        [11]
    );
    let cursors = bob.handle().cursors().await.unwrap();
    assert_eq!(cursors.get(&chat_id).map(|saved| saved.seq), Some(11));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_created_while_the_client_was_away_is_delivered_after_the_reconnect() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let proxy = CutProxy::start(server.base_url()).await;
    let mut bob = realtime(&proxy.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;
    proxy.cut();
    disconnected(&mut bob).await;
    let chat_id = group(&alice, "surprise", &[&bob_auth])
        .await
        .summary
        .chat_id;
    send(&alice, &chat_id, "did you see this?").await;
    proxy.restore();
    let missed = realtime_messages_until(&mut bob, &chat_id, 1).await;
    assert_eq!(
        missed.last().map(|m| m.content.as_str()),
        Some("did you see this?")
    );
}

const SECRET: &str = "resume-test-secret-0123456789abcdef-0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_and_the_client_connects() {
    let server = TestServer::spawn_with(|s| s.auth.secret = Secret(SECRET.into())).await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let parts = jwt::parse(&bob_auth.access_token);
    let mut claims = parts.claims.clone();
    let issued = claims["iat"].as_i64().unwrap();
    claims["iat"] = json!(issued - 7200);
    claims["exp"] = json!(issued - 3600);
    let expired = AuthResponse {
        access_token: jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes()),
        ..bob_auth.clone()
    };
    let mut bob = realtime(server.base_url(), &expired, realtime_options());
    connected(&mut bob).await;
    let session = bob.handle().session().await.unwrap();
    assert_ne!(
        session.access_token(),
        expired.access_token,
        "a new token was obtained"
    );
    assert_ne!(
        session.refresh_token(),
        bob_auth.refresh_token,
        "and the refresh token rotated"
    );
    send(&alice, &chat_id, "still reachable").await;
    assert_eq!(
        seqs(&realtime_messages_until(&mut bob, &chat_id, 1).await),
        [1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_session_was_logged_out_stops_with_a_reason() {
    let server = TestServer::spawn().await;
    let (_, bob_auth) = server.user("bob").await;
    server
        .client()
        .logout(&bob_auth.refresh_token)
        .await
        .unwrap();
    let mut bob = realtime(server.base_url(), &bob_auth, realtime_options());
    let reason = next_realtime(&mut bob, "the client to stop", |event| match event {
        RealtimeEvent::Stopped { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains("401"), "{reason}");
    let after = tokio::time::timeout(WAIT, bob.next_event()).await.unwrap();
    assert_eq!(after, None, "nothing follows a stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_a_client_delivered_are_acked_and_show_as_delivered_to_the_sender() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let mut bob = realtime(server.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;
    for n in 1..=3 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    realtime_messages_until(&mut bob, &chat_id, 3).await;
    eventually("alice's messages to show as delivered", WAIT, || async {
        let statuses: Vec<MessageStatus> = history(&alice, &chat_id)
            .await
            .into_iter()
            .map(|m| m.status)
            .collect();
        statuses
            .iter()
            .all(|s| *s == MessageStatus::Delivered)
            .then_some(())
    })
    .await;
}
