//! Chats: creating direct chats (one per pair), groups and channels; the
//! chat list with its counters and order; renaming; and the rule that a
//! chat the caller is not in does not exist for them.

use crate::helpers::{
    TestServer, assert_api_error, direct, group, next_millisecond, raw_json, send, summary,
};
use natter_client::Method;
use natter_proto::ErrorCode;
use natter_proto::chats::{ChatType, CreateChat, Role};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_direct_chat_twice_returns_the_same_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let body = json!({"type": "direct", "member_ids": [bob_auth.user.user_id]});
    let first = raw_json(&alice, Method::POST, "/api/v1/chats", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = raw_json(&alice, Method::POST, "/api/v1/chats", &body).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let first_id = first.json().unwrap()["chat_id"].clone();
    assert_eq!(second.json().unwrap()["chat_id"], first_id);
    assert_eq!(alice.chats().await.unwrap().chats.len(), 1);
    assert_eq!(bob.chats().await.unwrap().chats.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_chat_created_by_the_other_side_is_the_same_chat() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let request = |other: &str| CreateChat {
        e2ee: false,
        chat_type: ChatType::Direct,
        name: None,
        member_ids: vec![other.to_owned()],
    };
    let (mine, created) = alice
        .create_chat_full(&request(&bob_auth.user.user_id))
        .await
        .unwrap();
    assert!(created);
    let (theirs, created) = bob
        .create_chat_full(&request(&alice_auth.user.user_id))
        .await
        .unwrap();
    assert!(!created, "the pair already has a direct chat");
    assert_eq!(theirs.summary.chat_id, mine.summary.chat_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_chat_is_named_after_the_other_member_and_names_the_peer() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = direct(&alice, &bob_auth).await;
    assert_eq!(chat.summary.chat_type, ChatType::Direct);
    assert_eq!(chat.summary.member_count, 2);
    assert_eq!(chat.members.len(), 2);
    let for_alice = summary(&alice, &chat.summary.chat_id).await;
    assert_eq!(for_alice.name.as_deref(), Some("Bob"));
    assert_eq!(
        for_alice.peer_id.as_deref(),
        Some(bob_auth.user.user_id.as_str())
    );
    let for_bob = summary(&bob, &chat.summary.chat_id).await;
    assert_eq!(for_bob.name.as_deref(), Some("Alice"));
    assert_eq!(
        for_bob.peer_id.as_deref(),
        Some(alice_auth.user.user_id.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_chat_needs_exactly_one_other_existing_member() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let ids = |members: &[&str]| CreateChat {
        e2ee: false,
        chat_type: ChatType::Direct,
        name: None,
        member_ids: members.iter().map(|id| id.to_string()).collect(),
    };
    let none = alice.create_chat(&ids(&[])).await;
    assert_api_error(none, ErrorCode::InvalidRequest);
    let two = alice
        .create_chat(&ids(&[&bob.user.user_id, &carol.user.user_id]))
        .await;
    assert_api_error(two, ErrorCode::InvalidRequest);
    let myself = alice.create_chat(&ids(&[&alice_auth.user.user_id])).await;
    assert_api_error(myself, ErrorCode::InvalidRequest);
    let ghost = alice
        .create_chat(&ids(&["00000000-0000-7000-8000-000000000000"]))
        .await;
    let status = ghost.as_ref().err().and_then(|e| e.status());
    assert!(
        matches!(status, Some(400 | 404)),
        "unknown member: {ghost:?}"
    );
    assert!(alice.chats().await.unwrap().chats.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_creator_is_its_owner_and_the_others_are_members() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let chat = group(&alice, "Climbing", &[&bob_auth, &carol]).await;
    assert_eq!(chat.summary.chat_type, ChatType::Group);
    assert_eq!(chat.summary.name.as_deref(), Some("Climbing"));
    assert_eq!(chat.summary.role, Role::Owner);
    assert_eq!(chat.summary.member_count, 3);
    let fetched = bob.chat(&chat.summary.chat_id).await.unwrap();
    assert_eq!(fetched.summary.role, Role::Member);
    let role_of = |user_id: &str| {
        fetched
            .members
            .iter()
            .find(|m| m.user_id == user_id)
            .map(|m| m.role)
    };
    assert_eq!(role_of(&alice_auth.user.user_id), Some(Role::Owner));
    assert_eq!(role_of(&bob_auth.user.user_id), Some(Role::Member));
    assert_eq!(role_of(&carol.user.user_id), Some(Role::Member));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_chat_type_is_rejected() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let body = json!({"type": "forum", "name": "x", "member_ids": []});
    let response = raw_json(&alice, Method::POST, "/api/v1/chats", &body).await;
    assert_eq!(response.status, 400, "{}", response.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_list_puts_the_most_recently_active_chat_first() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let first = group(&alice, "first", &[&bob]).await.summary.chat_id;
    next_millisecond().await;
    let second = group(&alice, "second", &[&bob]).await.summary.chat_id;
    next_millisecond().await;
    let third = group(&alice, "third", &[&bob]).await.summary.chat_id;
    next_millisecond().await;
    let order = |list: natter_proto::chats::ChatList| -> Vec<String> {
        list.chats.into_iter().map(|c| c.chat_id).collect()
    };
    assert_eq!(
        order(alice.chats().await.unwrap()),
        [third.as_str(), second.as_str(), first.as_str()]
    );
    send(&alice, &first, "bump").await;
    assert_eq!(
        order(alice.chats().await.unwrap()),
        [first.as_str(), third.as_str(), second.as_str()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_list_shows_the_last_message_and_counters() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "news", &[&bob_auth]).await.summary.chat_id;
    let empty = summary(&bob, &chat_id).await;
    assert_eq!(
        (empty.last_seq, empty.read_seq, empty.unread_count),
        (0, 0, 0)
    );
    assert!(empty.last_message.is_none());
    send(&alice, &chat_id, "one").await;
    send(&alice, &chat_id, "two").await;
    let entry = summary(&bob, &chat_id).await;
    assert_eq!(
        (entry.last_seq, entry.read_seq, entry.unread_count),
        (2, 0, 2)
    );
    let last = entry.last_message.expect("a last message");
    assert_eq!((last.seq, last.content.as_str()), (2, "two"));
    assert_eq!(entry.role, Role::Member);
    assert_eq!(entry.member_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_the_caller_is_not_in_does_not_exist_for_them() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (mallory, _) = server.user("mallory").await;
    let chat_id = group(&alice, "private", &[&bob]).await.summary.chat_id;
    let message_id = send(&alice, &chat_id, "secret").await.message_id;
    assert_api_error(mallory.chat(&chat_id).await, ErrorCode::NotFound);
    let history = mallory.messages(&chat_id, &Default::default()).await;
    assert_api_error(history, ErrorCode::NotFound);
    assert_api_error(mallory.send_text(&chat_id, "hi").await, ErrorCode::NotFound);
    assert_api_error(
        mallory.edit_message(&message_id, "x").await,
        ErrorCode::NotFound,
    );
    assert_api_error(
        mallory.delete_message(&message_id).await,
        ErrorCode::NotFound,
    );
    assert_api_error(
        mallory.add_reaction(&message_id, "👍").await,
        ErrorCode::NotFound,
    );
    assert_api_error(mallory.receipts(&message_id).await, ErrorCode::NotFound);
    assert_api_error(mallory.mark_read(&chat_id, 1).await, ErrorCode::NotFound);
    assert_api_error(
        mallory.rename_chat(&chat_id, "mine").await,
        ErrorCode::NotFound,
    );
    assert!(mallory.chats().await.unwrap().chats.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_chat_id_is_not_found() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let result = alice.chat("00000000-0000-7000-8000-000000000000").await;
    assert_api_error(result, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_and_admins_rename_a_chat_but_members_may_not() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "old", &[&bob_auth]).await.summary.chat_id;
    alice.rename_chat(&chat_id, "new").await.unwrap();
    assert_eq!(
        bob.chat(&chat_id).await.unwrap().summary.name.as_deref(),
        Some("new")
    );
    assert_eq!(summary(&bob, &chat_id).await.name.as_deref(), Some("new"));
    assert_api_error(
        bob.rename_chat(&chat_id, "bob's").await,
        ErrorCode::Forbidden,
    );
    assert_eq!(
        alice.chat(&chat_id).await.unwrap().summary.name.as_deref(),
        Some("new")
    );
}
