//! Encrypted chats as a member sees them: made as direct chats or groups
//! (never channels) and marked so everywhere, taking only `mls`
//! messages whose content is a PrivateMessage of the chat's MLS group,
//! stored and delivered byte for byte, never searchable, and pushed
//! without content. The groups are real openmls groups made here.

use crate::e2ee_support::{Device, b64, e2ee_chat, plain_direct};
use crate::helpers::{TestServer, WAIT, assert_problem, new_messages, raw_json, wait_for};
use crate::push::subscribed;
use natter_client::{Method, SearchQuery};
use natter_proto::ErrorCode;
use natter_proto::chats::{ChatType, CreateChat};
use natter_proto::events::ServerEvent;
use natter_proto::messages::MessageType;
use natter_test_services::push_service::PushService;
use openmls::prelude::MlsGroup;
use serde_json::json;

/// Alice's and Bob's devices in an encrypted group Alice made, with the
/// MLS group of each (Bob joined by the Welcome the server kept for him).
struct Pair {
    server: TestServer,
    alice: Device,
    bob: Device,
    chat_id: String,
    alice_group: MlsGroup,
    bob_group: MlsGroup,
}

async fn encrypted_pair(server: TestServer, chat_type: ChatType) -> Pair {
    let alice = Device::register(&server, "alice").await;
    let bob = Device::register(&server, "bob").await;
    let chat_id = e2ee_chat(&alice.client, chat_type, &[&bob.user_id])
        .await
        .summary
        .chat_id;
    let mut alice_group = alice.create_group(&chat_id);
    let commit = alice.add(&mut alice_group, &[bob.key_package()]);
    let posted = alice.post_commit(&chat_id, &commit).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    alice.merge(&mut alice_group);
    let welcomes = bob.welcomes().await;
    let bob_group = bob.join(welcomes["welcomes"][0]["welcome"].as_str().unwrap());
    Pair {
        server,
        alice,
        bob,
        chat_id,
        alice_group,
        bob_group,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_chats_are_direct_chats_or_groups_and_say_so() {
    let server = TestServer::spawn().await;
    let alice = Device::register(&server, "alice").await;
    let bob = Device::register(&server, "bob").await;
    let (mut bob_ws, _) = server.socket(&bob.token).await;

    let plain = plain_direct(&alice.client, &bob.user_id).await;
    let request = |chat_type, e2ee| CreateChat {
        chat_type,
        name: (chat_type != ChatType::Direct).then(|| "secrets".to_string()),
        member_ids: vec![bob.user_id.clone()],
        e2ee,
    };
    let (secret, created) = alice
        .client
        .create_chat_full(&request(ChatType::Direct, true))
        .await
        .unwrap();
    assert!(created);
    assert!(secret.summary.e2ee && !plain.summary.e2ee);
    assert_eq!(secret.summary.mls_epoch, Some(0));
    assert_eq!(plain.summary.mls_epoch, None);
    assert_ne!(secret.summary.chat_id, plain.summary.chat_id);
    let (again, created) = alice
        .client
        .create_chat_full(&request(ChatType::Direct, true))
        .await
        .unwrap();
    assert!(!created, "the pair's encrypted direct chat is found again");
    assert_eq!(again.summary.chat_id, secret.summary.chat_id);

    let announced = wait_for(
        &mut bob_ws,
        "chat.created of the encrypted chat",
        |event| match event {
            ServerEvent::ChatCreated { chat } if chat.chat_id == secret.summary.chat_id => {
                Some(chat.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(announced.e2ee);

    let group = alice
        .client
        .create_chat(&request(ChatType::Group, true))
        .await
        .unwrap();
    assert!(group.summary.e2ee);
    let listed = bob.client.chats().await.unwrap().chats;
    let flags: Vec<(bool, Option<i64>)> = [&plain, &secret, &group]
        .iter()
        .map(|chat| {
            let entry = listed
                .iter()
                .find(|c| c.chat_id == chat.summary.chat_id)
                .unwrap();
            (entry.e2ee, entry.mls_epoch)
        })
        .collect();
    assert_eq!(flags, [(false, None), (true, Some(0)), (true, Some(0))]);
    let raw = raw_json(
        &alice.client,
        Method::GET,
        &format!("/api/v1/chats/{}", plain.summary.chat_id),
        &json!(null),
    )
    .await;
    assert_eq!(raw.json().unwrap()["e2ee"], false, "always said");

    let channel = raw_json(
        &alice.client,
        Method::POST,
        "/api/v1/chats",
        &json!({"type": "channel", "name": "news", "member_ids": [], "e2ee": true}),
    )
    .await;
    let problem = assert_problem(&channel, ErrorCode::InvalidRequest);
    assert!(problem["detail"].as_str().unwrap().contains("channel"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_chat_takes_only_private_messages_of_its_group() {
    let mut pair = encrypted_pair(TestServer::spawn().await, ChatType::Group).await;
    let (alice, chat_id) = (&pair.alice, pair.chat_id.as_str());

    let text = alice.client.send_text(chat_id, "hello").await;
    let problem = crate::helpers::assert_api_error(text, ErrorCode::InvalidRequest);
    assert_eq!(
        problem.detail,
        "this chat is end-to-end encrypted: send type mls"
    );

    let plain = plain_direct(&alice.client, &pair.bob.user_id).await;
    let ciphertext = alice.encrypt(&mut pair.alice_group, "for the plain chat");
    let refused = alice.send_mls(&plain.summary.chat_id, &ciphertext).await;
    let problem = assert_problem(&refused, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not end-to-end encrypted")
    );

    let commit = alice.self_update(&mut pair.alice_group);
    let refused = alice.send_mls(chat_id, &commit.commit).await;
    let problem = assert_problem(&refused, ErrorCode::InvalidRequest);
    assert_eq!(
        problem["detail"],
        format!("content: commits go to POST /api/v1/chats/{chat_id}/mls/commits")
    );
    alice.drop_pending(&mut pair.alice_group);

    let mut other_group = alice.create_group("another-chat");
    let foreign = alice.encrypt(&mut other_group, "elsewhere");
    let refused = alice.send_mls(chat_id, &foreign).await;
    let problem = assert_problem(&refused, ErrorCode::InvalidRequest);
    assert_eq!(
        problem["detail"],
        "content: the group id is not this chat's id"
    );
    for garbage in ["", "not base64!", &b64(b"\x00\x01 not an MLSMessage")] {
        let refused = alice.send_mls(chat_id, garbage).await;
        assert_problem(&refused, ErrorCode::InvalidRequest);
    }
    let server_only = raw_json(
        &alice.client,
        Method::POST,
        "/api/v1/messages",
        &json!({"chat_id": chat_id, "type": "mls", "content": ciphertext,
                "metadata": {"mls": {"kind": "commit", "epoch": 1}}}),
    )
    .await;
    assert_problem(&server_only, ErrorCode::InvalidRequest);
    let outsider = Device::register(&pair.server, "carol").await;
    let refused = outsider.send_mls(chat_id, &ciphertext).await;
    assert_problem(&refused, ErrorCode::NotFound);
    assert_eq!(
        pair.alice
            .client
            .chat(chat_id)
            .await
            .unwrap()
            .summary
            .last_seq,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mls_message_is_relayed_byte_for_byte_and_never_searchable() {
    let mut pair = encrypted_pair(TestServer::spawn().await, ChatType::Direct).await;
    let chat_id = pair.chat_id.clone();
    let (mut bob_ws, _) = pair.server.socket(&pair.bob.token).await;
    let ciphertext = pair
        .alice
        .encrypt(&mut pair.alice_group, "zebra crossing at noon");
    let sent = pair.alice.send_mls(&chat_id, &ciphertext).await;
    assert_eq!(sent.status, 201, "{}", sent.text());
    let seq = sent.json().unwrap()["seq"].as_i64().unwrap();
    assert_eq!(seq, 2, "after the Commit that added Bob");

    let delivered = new_messages(&mut bob_ws, &chat_id, 1).await.remove(0);
    assert_eq!(delivered.message_type, MessageType::Mls);
    assert_eq!(
        (delivered.seq, delivered.content.as_str()),
        (seq, ciphertext.as_str())
    );
    let plaintext = pair.bob.process(&mut pair.bob_group, &delivered.content);
    assert_eq!(plaintext.as_deref(), Some("zebra crossing at noon"));

    let history = crate::helpers::history(&pair.bob.client, &chat_id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].metadata.mls.as_ref().map(|m| m.epoch), Some(0));
    assert_eq!(history[1].content, ciphertext);
    for words in ["zebra", &ciphertext[..12]] {
        let found = pair
            .bob
            .client
            .search(&SearchQuery::new(words))
            .await
            .unwrap();
        assert!(found.results.is_empty(), "{words}: {found:?}");
    }
    let edit = pair
        .alice
        .client
        .edit_message(&history[1].message_id, "x")
        .await;
    crate::helpers::assert_api_error(edit, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mls_message_carries_only_an_opaque_file() {
    let mut pair = encrypted_pair(TestServer::spawn().await, ChatType::Group).await;
    let chat_id = pair.chat_id.clone();
    let alice = &pair.alice;
    let sealed = alice
        .client
        .upload_file("sealed.bin", &[7u8; 2048], "application/octet-stream")
        .await
        .unwrap();
    let image = alice
        .client
        .upload_file("photo.png", &crate::fixtures::png(8, 8), "image/png")
        .await
        .unwrap();
    let ciphertext = alice.encrypt(&mut pair.alice_group, "the key of sealed.bin");
    let send = |file_id: &str| json!({"chat_id": chat_id, "type": "mls", "content": ciphertext, "file_id": file_id});
    let refused = raw_json(
        &alice.client,
        Method::POST,
        "/api/v1/messages",
        &send(&image.file_id),
    )
    .await;
    let problem = assert_problem(&refused, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/octet-stream")
    );
    let sent = raw_json(
        &alice.client,
        Method::POST,
        "/api/v1/messages",
        &send(&sealed.file_id),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_message_is_pushed_without_its_content() {
    let server = TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
        settings.push.allow_insecure_endpoints = true;
        settings.push.concurrency = 1;
    })
    .await;
    let service = PushService::start().await;
    service.expect_vapid_key(&server.client().vapid_key().await.unwrap());
    let mut pair = encrypted_pair(server, ChatType::Direct).await;
    let (endpoint, _) = subscribed(&service, &pair.bob.client).await;
    let ciphertext = pair
        .alice
        .encrypt(&mut pair.alice_group, "the launch code is 0000");
    let sent = pair.alice.send_mls(&pair.chat_id, &ciphertext).await;
    assert_eq!(sent.status, 201, "{}", sent.text());

    let pushes = service.wait_for(&endpoint.endpoint, 1, WAIT).await;
    assert_eq!(
        pushes.len(),
        1,
        "the Commit is not pushed, the message is: {pushes:?}"
    );
    let payload = pushes[0].json.clone().unwrap();
    assert_eq!(payload["body"], "New message");
    assert_eq!(payload["chat_id"], pair.chat_id.as_str());
    let raw = payload.to_string();
    assert!(
        !raw.contains("launch") && !raw.contains(&ciphertext[..16]),
        "{raw}"
    );
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_neither_makes_the_chat_unread_nor_moves_it_up_the_list() {
    let mut pair = encrypted_pair(TestServer::spawn().await, ChatType::Group).await;
    let chat_id = pair.chat_id.clone();
    // A plain chat made after the encrypted one: it is the more recent.
    let plain = plain_direct(&pair.alice.client, &pair.bob.user_id).await;
    let bob_sees = |list: natter_proto::chats::ChatList| -> Vec<(String, i64)> {
        list.chats
            .into_iter()
            .map(|chat| (chat.chat_id, chat.unread_count))
            .collect()
    };
    let expected = vec![(plain.summary.chat_id.clone(), 0), (chat_id.clone(), 0)];
    assert_eq!(
        bob_sees(pair.bob.client.chats().await.unwrap()),
        expected,
        "the Commit that added Bob is nothing to read"
    );

    let update = pair.alice.self_update(&mut pair.alice_group);
    let posted = pair.alice.post_commit(&chat_id, &update).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    pair.alice.merge(&mut pair.alice_group);
    assert_eq!(
        bob_sees(pair.bob.client.chats().await.unwrap()),
        expected,
        "another Commit neither counts nor moves the chat up"
    );

    let ciphertext = pair.alice.encrypt(&mut pair.alice_group, "now read me");
    assert_eq!(pair.alice.send_mls(&chat_id, &ciphertext).await.status, 201);
    assert_eq!(
        bob_sees(pair.bob.client.chats().await.unwrap()),
        vec![(chat_id, 1), (plain.summary.chat_id, 0)],
        "a message does both"
    );
}
