//! The Delivery Service's group duties with real openmls groups: one
//! Commit per epoch (two posted at once: one 201, one 409 with the
//! current epoch, and every member device gets the accepted one once, in
//! seq order), Welcomes only to the devices they name (as an event to
//! those devices' sockets and in `GET /mls/welcomes` until acknowledged),
//! Adds only of members' devices, and the GroupInfo for members only,
//! good for a new device's external Commit.

use crate::e2ee_support::{Commit, Device, e2ee_chat, plain_direct};
use crate::helpers::{TestServer, assert_problem, events_until, new_message_in, raw_get, wait_for};
use natter_client::Method;
use natter_client::ws::Connection;
use natter_proto::ErrorCode;
use natter_proto::chats::ChatType;
use natter_proto::events::ServerEvent;
use natter_proto::messages::Message;

/// The `mls.welcome` of `chat_id` on a socket: its id and Welcome.
async fn welcome_event(socket: &mut Connection, chat_id: &str) -> (String, String, i64) {
    wait_for(socket, "an mls.welcome", |event| match event {
        ServerEvent::MlsWelcome {
            welcome_id,
            chat_id: chat,
            welcome,
            epoch,
        } if chat == chat_id => Some((welcome_id.clone(), welcome.clone(), *epoch)),
        _ => None,
    })
    .await
}

/// The `message.new` of `chat_id` on a socket up to and including the
/// one with `last_seq`.
async fn messages_through(socket: &mut Connection, chat_id: &str, last_seq: i64) -> Vec<Message> {
    let mut got: Vec<Message> = Vec::new();
    while got.last().is_none_or(|m| m.seq < last_seq) {
        let what = format!("message seq {last_seq} of {chat_id}");
        got.push(wait_for(socket, &what, |event| new_message_in(event, chat_id)).await);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_commits_for_one_epoch_one_wins_and_every_device_gets_it_once_in_order() {
    let server = TestServer::spawn().await;
    let alice = Device::register(&server, "alice").await;
    let bob_phone = Device::register(&server, "bob").await;
    let bob_laptop = Device::login(&server, "bob", "laptop").await;
    let chat_id = e2ee_chat(&alice.client, ChatType::Group, &[&bob_phone.user_id])
        .await
        .summary
        .chat_id;
    let mut sockets = Vec::new();
    for device in [&alice, &bob_phone, &bob_laptop] {
        sockets.push(server.socket(&device.token).await.0);
    }

    let mut alice_group = alice.create_group(&chat_id);
    let add = alice.add(
        &mut alice_group,
        &[bob_phone.key_package(), bob_laptop.key_package()],
    );
    let posted = alice.post_commit(&chat_id, &add).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    let accepted = posted.json().unwrap();
    assert_eq!(
        (accepted["seq"].as_i64(), accepted["epoch"].as_i64()),
        (Some(1), Some(1))
    );
    alice.merge(&mut alice_group);
    // (The sockets keep every event for the end: the Welcome's event
    // is another test's.)
    let welcome = |pending: serde_json::Value| {
        assert_eq!(pending["welcomes"][0]["epoch"], 1);
        pending["welcomes"][0]["welcome"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut phone_group = bob_phone.join(&welcome(bob_phone.welcomes().await));
    let mut laptop_group = bob_laptop.join(&welcome(bob_laptop.welcomes().await));

    // Alice and Bob's phone both commit at epoch 1, at the same moment.
    let alice_commit = alice.self_update(&mut alice_group);
    let phone_commit = bob_phone.self_update(&mut phone_group);
    let (from_alice, from_phone) = tokio::join!(
        alice.post_commit(&chat_id, &alice_commit),
        bob_phone.post_commit(&chat_id, &phone_commit)
    );
    let mut statuses = [from_alice.status, from_phone.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [201, 409],
        "{} / {}",
        from_alice.text(),
        from_phone.text()
    );
    let (winner, loser) = if from_alice.status == 201 {
        (&from_alice, &from_phone)
    } else {
        (&from_phone, &from_alice)
    };
    let problem = assert_problem(loser, ErrorCode::Conflict);
    assert_eq!(problem["epoch"], 2, "the current epoch: {problem}");
    let won = winner.json().unwrap();
    assert_eq!(
        (won["seq"].as_i64(), won["epoch"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        bob_laptop
            .client
            .chat(&chat_id)
            .await
            .unwrap()
            .summary
            .mls_epoch,
        Some(2)
    );

    let winning_commit = if from_alice.status == 201 {
        &alice_commit.commit
    } else {
        &phone_commit.commit
    };

    // Each group takes the accepted Commit; the loser drops its own and
    // commits again at the new epoch.
    if from_alice.status == 201 {
        alice.merge(&mut alice_group);
        bob_phone.drop_pending(&mut phone_group);
        bob_phone.process(&mut phone_group, winning_commit);
    } else {
        bob_phone.merge(&mut phone_group);
        alice.drop_pending(&mut alice_group);
        alice.process(&mut alice_group, winning_commit);
    }
    bob_laptop.process(&mut laptop_group, winning_commit);
    let retry = alice.self_update(&mut alice_group);
    let posted = alice.post_commit(&chat_id, &retry).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    alice.merge(&mut alice_group);
    bob_phone.process(&mut phone_group, &retry.commit);
    bob_laptop.process(&mut laptop_group, &retry.commit);
    let ciphertext = alice.encrypt(&mut alice_group, "all at epoch 3");
    assert_eq!(alice.send_mls(&chat_id, &ciphertext).await.status, 201);
    for (device, group) in [
        (&bob_phone, &mut phone_group),
        (&bob_laptop, &mut laptop_group),
    ] {
        assert_eq!(
            device.process(group, &ciphertext).as_deref(),
            Some("all at epoch 3")
        );
    }

    // Every device got every message once, in seq order: the accepted
    // Commit of epoch 1 is the winner's, byte for byte.
    for socket in &mut sockets {
        let got = messages_through(socket, &chat_id, 4).await;
        assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(&got[1].content, winning_commit);
        let epochs: Vec<Option<i64>> = got
            .iter()
            .map(|m| m.metadata.mls.as_ref().map(|m| m.epoch))
            .collect();
        assert_eq!(epochs, [Some(0), Some(1), Some(2), None]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_reaches_only_the_devices_it_names() {
    let server = TestServer::spawn().await;
    let alice = Device::register(&server, "alice").await;
    let bob_phone = Device::register(&server, "bob").await;
    let bob_laptop = Device::login(&server, "bob", "laptop").await;
    let chat_id = e2ee_chat(&alice.client, ChatType::Direct, &[&bob_phone.user_id])
        .await
        .summary
        .chat_id;
    let (mut phone_ws, _) = server.socket(&bob_phone.token).await;
    let (mut laptop_ws, _) = server.socket(&bob_laptop.token).await;

    let mut alice_group = alice.create_group(&chat_id);
    let add = alice.add(&mut alice_group, &[bob_phone.key_package()]);
    assert_eq!(alice.post_commit(&chat_id, &add).await.status, 201);
    alice.merge(&mut alice_group);

    let (welcome_id, welcome, _) = welcome_event(&mut phone_ws, &chat_id).await;
    assert_eq!(Some(&welcome), add.welcome.as_ref());
    assert_eq!(
        bob_laptop.welcomes().await["welcomes"],
        serde_json::json!([])
    );
    let pending = bob_phone.welcomes().await;
    assert_eq!(pending["welcomes"][0]["welcome_id"], welcome_id.as_str());
    assert_eq!(pending["welcomes"][0]["chat_id"], chat_id.as_str());
    assert_eq!(pending["welcomes"][0]["epoch"], 1);
    let mut phone_group = bob_phone.join(pending["welcomes"][0]["welcome"].as_str().unwrap());

    let ack = format!("/api/v1/mls/welcomes/{welcome_id}");
    let not_yours = raw_get(&bob_laptop.client, Method::DELETE, &ack).await;
    assert_problem(&not_yours, ErrorCode::NotFound);
    assert_eq!(
        raw_get(&bob_phone.client, Method::DELETE, &ack)
            .await
            .status,
        204
    );
    assert_eq!(
        bob_phone.welcomes().await["welcomes"],
        serde_json::json!([])
    );
    let again = raw_get(&bob_phone.client, Method::DELETE, &ack).await;
    assert_problem(&again, ErrorCode::NotFound);

    let ciphertext = alice.encrypt(&mut alice_group, "only the phone reads this");
    assert_eq!(alice.send_mls(&chat_id, &ciphertext).await.status, 201);
    assert_eq!(
        bob_phone.process(&mut phone_group, &ciphertext).as_deref(),
        Some("only the phone reads this")
    );
    // The laptop sees the Commit and this message (Bob is a member) but
    // no Welcome: read up to the message sent after the Commit's Welcome
    // was published, so a Welcome wrongly sent to it would be before.
    let before = events_until(&mut laptop_ws, "the message after the Commit", |event| {
        new_message_in(event, &chat_id).is_some_and(|m| m.content == ciphertext)
    })
    .await;
    assert!(
        before.iter().any(|e| new_message_in(e, &chat_id).is_some()),
        "the Commit came first: {before:?}"
    );
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, ServerEvent::MlsWelcome { .. })),
        "{before:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_must_fit_the_chat_its_epoch_and_its_members() {
    let server = TestServer::spawn().await;
    let alice = Device::register(&server, "alice").await;
    let bob = Device::register(&server, "bob").await;
    let carol = Device::register(&server, "carol").await;
    let chat_id = e2ee_chat(&alice.client, ChatType::Group, &[&bob.user_id])
        .await
        .summary
        .chat_id;
    let mut group = alice.create_group(&chat_id);

    let outsider = alice.add(&mut group, &[carol.key_package()]);
    let refused = alice.post_commit(&chat_id, &outsider).await;
    let problem = assert_problem(&refused, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not a device of a member")
    );
    alice.drop_pending(&mut group);

    // A credential that names a member but a device that is not theirs.
    let liar = Device::with_identity(
        bob.client.clone(),
        bob.token.clone(),
        bob.user_id.clone(),
        bob.device_id.clone(),
        &format!("{}:{}", bob.user_id, carol.device_id),
    );
    let forged = alice.add(&mut group, &[liar.key_package()]);
    assert_problem(
        &alice.post_commit(&chat_id, &forged).await,
        ErrorCode::InvalidRequest,
    );
    alice.drop_pending(&mut group);

    // Bob's exact identity, but signed by a key that is not the one his
    // device pinned by uploading KeyPackages: a forgery.
    let forger = Device::with_identity(
        carol.client.clone(),
        carol.token.clone(),
        carol.user_id.clone(),
        carol.device_id.clone(),
        &format!("{}:{}", bob.user_id, bob.device_id),
    );
    let forged = alice.add(&mut group, &[bob.key_package(), forger.key_package()]);
    let problem = assert_problem(
        &alice.post_commit(&chat_id, &forged).await,
        ErrorCode::InvalidRequest,
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("commit: Add 1: the KeyPackage is not signed"),
        "{problem}"
    );
    alice.drop_pending(&mut group);

    let add = alice.add(&mut group, &[bob.key_package()]);
    let by_outsider = carol.post_commit(&chat_id, &add).await;
    assert_problem(&by_outsider, ErrorCode::NotFound);
    let by_other_device = bob.post_commit(&chat_id, &add).await;
    let problem = assert_problem(&by_other_device, ErrorCode::InvalidRequest);
    assert!(problem["detail"].as_str().unwrap().contains("committer"));
    let plain = plain_direct(&alice.client, &bob.user_id).await;
    let in_plain = alice.post_commit(&plain.summary.chat_id, &add).await;
    assert_problem(&in_plain, ErrorCode::InvalidRequest);
    let other = e2ee_chat(&alice.client, ChatType::Group, &[&bob.user_id]).await;
    let wrong_group = alice.post_commit(&other.summary.chat_id, &add).await;
    let problem = assert_problem(&wrong_group, ErrorCode::InvalidRequest);
    assert_eq!(
        problem["detail"],
        "commit: the group id is not this chat's id"
    );
    let not_a_commit = Commit {
        commit: alice.encrypt(&mut alice.create_group("elsewhere"), "hi"),
        welcome: None,
        group_info: None,
    };
    assert_problem(
        &alice.post_commit(&chat_id, &not_a_commit).await,
        ErrorCode::InvalidRequest,
    );
    assert_eq!(
        alice.client.chat(&chat_id).await.unwrap().summary.mls_epoch,
        Some(0)
    );

    let accepted = alice.post_commit(&chat_id, &add).await;
    assert_eq!(accepted.status, 201);
    alice.merge(&mut group);
    // Replayed: made for epoch 0, the chat is at 1.
    let replay = alice.post_commit(&chat_id, &add).await;
    assert_eq!(assert_problem(&replay, ErrorCode::Conflict)["epoch"], 1);
    // Devices that catch up later must still find it.
    let commit_id = accepted.json().unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = alice.client.delete_message(&commit_id).await;
    crate::helpers::assert_api_error(delete, ErrorCode::InvalidRequest);
    let hide = bob.client.hide_message(&commit_id).await;
    crate::helpers::assert_api_error(hide, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_info_is_for_members_and_lets_a_new_device_join() {
    let server = TestServer::spawn().await;
    let alice = Device::register(&server, "alice").await;
    let bob = Device::register(&server, "bob").await;
    let carol = Device::register(&server, "carol").await;
    let chat_id = e2ee_chat(&alice.client, ChatType::Group, &[&bob.user_id])
        .await
        .summary
        .chat_id;
    let path = format!("/api/v1/chats/{chat_id}/mls/group-info");
    assert_problem(
        &raw_get(&bob.client, Method::GET, &path).await,
        ErrorCode::NotFound,
    );

    let mut alice_group = alice.create_group(&chat_id);
    let add = alice.add(&mut alice_group, &[bob.key_package()]);
    assert!(add.group_info.is_some());
    assert_eq!(alice.post_commit(&chat_id, &add).await.status, 201);
    alice.merge(&mut alice_group);
    let kept = raw_get(&bob.client, Method::GET, &path).await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    let kept = kept.json().unwrap();
    assert_eq!(kept["epoch"], 1);
    assert_eq!(kept["group_info"].as_str(), add.group_info.as_deref());
    assert_problem(
        &raw_get(&carol.client, Method::GET, &path).await,
        ErrorCode::NotFound,
    );

    // Bob's new tablet joins by external Commit from that GroupInfo; a
    // client posting as the tablet with another signature key than the
    // tablet pinned is refused.
    let tablet = Device::login(&server, "bob", "tablet").await;
    let forger = Device::with_identity(
        tablet.client.clone(),
        tablet.token.clone(),
        tablet.user_id.clone(),
        tablet.device_id.clone(),
        &format!("{}:{}", tablet.user_id, tablet.device_id),
    );
    let (_, commit) = forger.join_externally(kept["group_info"].as_str().unwrap());
    let forged = Commit {
        commit,
        welcome: None,
        group_info: None,
    };
    let problem = assert_problem(
        &forger.post_commit(&chat_id, &forged).await,
        ErrorCode::InvalidRequest,
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("committer's leaf is not signed"),
        "{problem}"
    );
    let (mut tablet_group, commit) = tablet.join_externally(kept["group_info"].as_str().unwrap());
    let external = Commit {
        commit,
        welcome: None,
        group_info: None,
    };
    let posted = tablet.post_commit(&chat_id, &external).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    alice.process(&mut alice_group, &external.commit);
    let ciphertext = alice.encrypt(&mut alice_group, "welcome, tablet");
    assert_eq!(alice.send_mls(&chat_id, &ciphertext).await.status, 201);
    assert_eq!(
        tablet.process(&mut tablet_group, &ciphertext).as_deref(),
        Some("welcome, tablet")
    );
    // Carol is no member: her external Commit is refused.
    let (_, commit) = carol.join_externally(kept["group_info"].as_str().unwrap());
    let intruder = Commit {
        commit,
        welcome: None,
        group_info: None,
    };
    assert_problem(
        &carol.post_commit(&chat_id, &intruder).await,
        ErrorCode::NotFound,
    );
}
