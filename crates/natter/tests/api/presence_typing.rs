//! Presence and typing over sockets: `online` when a user connects,
//! `away` on request, `offline` with `last_seen` when the last connection
//! closes (and `GET /users/{id}` agrees); typing reaches the other
//! members, ends by itself after the TTL or with a message, and is not
//! echoed to the typist.

use crate::helpers::{TestServer, direct, events_until, new_message_in, send, wait_for};
use natter_client::Client;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::users::{Presence, PresenceStatus};
use natter_proto::{Timestamp, events};

/// The next presence event about `user_id`.
fn presence_of(
    user_id: &str,
) -> impl FnMut(&ServerEvent) -> Option<(PresenceStatus, Option<Timestamp>)> + '_ {
    move |event| match event {
        ServerEvent::Presence {
            user_id: id,
            status,
            last_seen,
        } if id == user_id => Some((*status, *last_seen)),
        _ => None,
    }
}

async fn presence(client: &Client, user_id: &str) -> Presence {
    client.user(user_id).await.expect("the user").presence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_goes_online_then_away_then_offline_with_last_seen() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    direct(&alice, &bob_auth).await;
    let bob_id = bob_auth.user.user_id.clone();
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    assert_eq!(
        presence(&alice, &bob_id).await.status,
        PresenceStatus::Offline
    );

    let connected_at = Timestamp::now();
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let (status, _) = wait_for(&mut alice_ws, "bob online", presence_of(&bob_id)).await;
    assert_eq!(status, PresenceStatus::Online);
    assert_eq!(
        presence(&alice, &bob_id).await.status,
        PresenceStatus::Online
    );

    let away = ClientFrame::Presence {
        status: PresenceStatus::Away,
    };
    bob_ws.send_frame(&away).await.unwrap();
    let (status, _) = wait_for(&mut alice_ws, "bob away", presence_of(&bob_id)).await;
    assert_eq!(status, PresenceStatus::Away);
    assert_eq!(presence(&alice, &bob_id).await.status, PresenceStatus::Away);

    bob_ws.close().await;
    let (status, last_seen) = wait_for(&mut alice_ws, "bob offline", presence_of(&bob_id)).await;
    assert_eq!(status, PresenceStatus::Offline);
    let last_seen = last_seen.expect("an offline presence carries last_seen");
    assert!(
        last_seen >= connected_at,
        "last_seen {last_seen:?} before the connection opened"
    );
    let stored = presence(&alice, &bob_id).await;
    assert_eq!(
        (stored.status, stored.last_seen),
        (PresenceStatus::Offline, Some(last_seen))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_stays_online_until_the_last_of_their_connections_closes() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    direct(&alice, &bob_auth).await;
    let bob_id = bob_auth.user.user_id.clone();
    let (mut phone, _) = server.socket(&bob_auth.access_token).await;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut laptop, _) = server.socket(&bob_auth.access_token).await;

    laptop.close().await;
    assert_eq!(
        presence(&alice, &bob_id).await.status,
        PresenceStatus::Online,
        "the phone is still on"
    );
    // The phone going away is announced only if the laptop no longer counts.
    phone
        .send_frame(&ClientFrame::Presence {
            status: PresenceStatus::Away,
        })
        .await
        .unwrap();
    let before_away = events_until(&mut alice_ws, "bob away", |event| {
        matches!(event, ServerEvent::Presence { user_id, status: PresenceStatus::Away, .. } if *user_id == bob_id)
    })
    .await;
    let offline = before_away.iter().any(|event| {
        matches!(event, ServerEvent::Presence { user_id, status: PresenceStatus::Offline, .. } if *user_id == bob_id)
    });
    assert!(
        !offline,
        "bob was announced offline while his phone was connected"
    );
    phone.close().await;
    let (status, last_seen) = wait_for(&mut alice_ws, "bob offline", presence_of(&bob_id)).await;
    assert_eq!(status, PresenceStatus::Offline);
    assert!(last_seen.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_other_member_and_ends_by_itself_after_the_ttl() {
    let server = TestServer::spawn_with(|settings| settings.gateway.typing_ttl_secs = 1).await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;

    let typing = ClientFrame::Typing {
        chat_id: chat_id.clone(),
        active: true,
    };
    bob_ws.send_frame(&typing).await.unwrap();
    let bob_id = bob_auth.user.user_id.clone();
    let typing_of_bob = |event: &ServerEvent| match event {
        ServerEvent::Typing {
            chat_id: chat,
            user_id,
            active,
        } if *chat == chat_id && *user_id == bob_id => Some(*active),
        _ => None,
    };
    assert!(wait_for(&mut alice_ws, "bob typing", typing_of_bob).await);
    // Bob does nothing more: the server ends it.
    assert!(!wait_for(&mut alice_ws, "bob's typing to expire", typing_of_bob).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_ends_its_senders_typing_indication() {
    // A long TTL, so only the message can end the indication.
    let server = TestServer::spawn_with(|settings| settings.gateway.typing_ttl_secs = 600).await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut alice_ws, _) = server.socket(&alice_auth.access_token).await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let typing = ClientFrame::Typing {
        chat_id: chat_id.clone(),
        active: true,
    };
    bob_ws.send_frame(&typing).await.unwrap();
    let bob_id = bob_auth.user.user_id.clone();
    let typing_of_bob = |event: &ServerEvent| match event {
        ServerEvent::Typing {
            user_id, active, ..
        } if *user_id == bob_id => Some(*active),
        _ => None,
    };
    assert!(wait_for(&mut alice_ws, "bob typing", typing_of_bob).await);
    send(&bob, &chat_id, "done typing").await;
    assert!(!wait_for(&mut alice_ws, "bob's typing to end", typing_of_bob).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_is_not_echoed_to_the_typist() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let typing = ClientFrame::Typing {
        chat_id: chat_id.clone(),
        active: true,
    };
    bob_ws.send_frame(&typing).await.unwrap();
    let marker = send(&alice, &chat_id, "marker").await;
    let before = events_until(&mut bob_ws, "the marker message", |event| {
        new_message_in(event, &chat_id).is_some_and(|m| m.message_id == marker.message_id)
    })
    .await;
    let bob_id = bob_auth.user.user_id.clone();
    let echoed: Vec<&events::ServerEvent> = before
        .iter()
        .filter(|event| matches!(event, ServerEvent::Typing { user_id, .. } if *user_id == bob_id))
        .collect();
    assert!(
        echoed.is_empty(),
        "the typist got their own typing back: {echoed:?}"
    );
}
