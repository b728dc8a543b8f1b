//! Membership on open sockets: `chat.created` reaches members when a chat
//! is created or they are added (and the chat's messages follow), and a
//! removed member gets `chat.member_removed`, then nothing of the chat, on
//! every open connection, also after reconnecting, while the others go on.

use crate::helpers::{
    TestServer, WAIT, events_until, eventually, group, new_message_in, new_messages, send, wait_for,
};
use natter_proto::chats::{AddMember, Role};
use natter_proto::events::ServerEvent;
use natter_proto::users::PresenceStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_created_reaches_the_open_sockets_of_new_and_added_members() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let (_, carol_auth) = server.user("carol").await;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let (mut carol_ws, _) = server.socket(&carol_auth.access_token).await;

    let chat_id = group(&alice, "plans", &[&bob_auth]).await.summary.chat_id;
    let created = wait_for(&mut bob_ws, "chat.created", |event| match event {
        ServerEvent::ChatCreated { chat } => Some(chat.clone()),
        _ => None,
    })
    .await;
    assert_eq!(created.chat_id, chat_id);
    assert_eq!(
        (created.name.as_deref(), created.role),
        (Some("plans"), Role::Member)
    );

    send(&alice, &chat_id, "before carol").await;
    let add = AddMember {
        user_id: carol_auth.user.user_id.clone(),
        role: None,
    };
    alice.add_member(&chat_id, &add).await.unwrap();
    let for_carol = wait_for(&mut carol_ws, "chat.created", |event| match event {
        ServerEvent::ChatCreated { chat } => Some(chat.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (for_carol.chat_id.as_str(), for_carol.last_seq),
        (chat_id.as_str(), 1)
    );
    let added = wait_for(&mut bob_ws, "chat.member_added", |event| match event {
        ServerEvent::ChatMemberAdded { chat_id, user_id } => {
            Some((chat_id.clone(), user_id.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(added, (chat_id.clone(), carol_auth.user.user_id.clone()));

    // Carol's already open socket now follows the chat.
    let ack = send(&alice, &chat_id, "welcome carol").await;
    let got = new_messages(&mut carol_ws, &chat_id, 1).await.remove(0);
    assert_eq!((got.message_id, got.seq), (ack.message_id, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_stops_receiving_the_chat_on_every_device_while_others_go_on() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let (_, carol_auth) = server.user("carol").await;
    let team = group(&alice, "team", &[&bob_auth, &carol_auth])
        .await
        .summary
        .chat_id;
    let other = group(&alice, "other", &[&bob_auth]).await.summary.chat_id;
    let mut bob_devices = vec![
        server.socket(&bob_auth.access_token).await.0,
        server.socket(&bob_auth.access_token).await.0,
    ];
    let (mut carol_ws, _) = server.socket(&carol_auth.access_token).await;

    alice
        .remove_member(&team, &bob_auth.user.user_id)
        .await
        .unwrap();
    let bob_id = bob_auth.user.user_id.clone();
    for device in &mut bob_devices {
        let removed = wait_for(device, "chat.member_removed", |event| match event {
            ServerEvent::ChatMemberRemoved { chat_id, user_id } => {
                Some((chat_id.clone(), user_id.clone()))
            }
            _ => None,
        })
        .await;
        assert_eq!(removed, (team.clone(), bob_id.clone()));
    }

    // Everything that happens in the team now, then a marker in a chat
    // bob still belongs to: nothing of the team may arrive before it.
    let secret = send(&alice, &team, "after bob left").await;
    alice.add_reaction(&secret.message_id, "🎉").await.unwrap();
    alice
        .edit_message(&secret.message_id, "edited after bob left")
        .await
        .unwrap();
    let marker = send(&alice, &other, "marker").await;
    for device in &mut bob_devices {
        let before = events_until(device, "the marker message", |event| {
            new_message_in(event, &other).is_some_and(|m| m.message_id == marker.message_id)
        })
        .await;
        let leaked: Vec<_> = before
            .iter()
            .filter(|e| e.chat_id() == Some(team.as_str()))
            .collect();
        assert!(
            leaked.is_empty(),
            "bob still got events of the team: {leaked:?}"
        );
    }
    let got = new_messages(&mut carol_ws, &team, 1).await.remove(0);
    assert_eq!(got.message_id, secret.message_id, "carol keeps receiving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_offline_gets_nothing_of_the_chat_after_reconnecting() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let team = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let other = group(&alice, "other", &[&bob_auth]).await.summary.chat_id;

    // Bob is online once, then gone.
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    bob_ws.close().await;
    let bob_id = bob_auth.user.user_id.clone();
    eventually("bob to be offline", WAIT, || async {
        let user = bob.user(&bob_id).await.ok()?;
        (user.presence.status == PresenceStatus::Offline).then_some(())
    })
    .await;

    alice.remove_member(&team, &bob_id).await.unwrap();
    let (mut bob_ws, ready) = server.socket(&bob_auth.access_token).await;
    assert!(
        ready.chats.iter().all(|c| c.chat_id != team),
        "ready no longer lists the team"
    );

    send(&alice, &team, "not for bob").await;
    let marker = send(&alice, &other, "marker").await;
    let before = events_until(&mut bob_ws, "the marker message", |event| {
        new_message_in(event, &other).is_some_and(|m| m.message_id == marker.message_id)
    })
    .await;
    let leaked: Vec<_> = before
        .iter()
        .filter(|e| e.chat_id() == Some(team.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "a removed member's new socket got the chat: {leaked:?}"
    );
}
