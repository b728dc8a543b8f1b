//! Sending, editing and deleting messages: `seq` without gaps (also under
//! concurrent senders), idempotent retries by `client_msg_id`, metadata
//! rules, and who may edit or delete.

use crate::helpers::{TestServer, assert_api_error, direct, group, history, raw_json, send};
use natter_client::{Method, text_message};
use natter_proto::ErrorCode;
use natter_proto::messages::{MessageStatus, Metadata};
use serde_json::json;
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_answers_201_with_the_next_seq() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let body = json!({"chat_id": chat_id, "content": "hello", "type": "text"});
    let response = raw_json(&alice, Method::POST, "/api/v1/messages", &body).await;
    assert_eq!(response.status, 201, "{}", response.text());
    let ack = response.json().unwrap();
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["status"], "sent");
    assert_eq!(ack["chat_id"], chat_id.as_str());
    assert!(ack["message_id"].as_str().is_some_and(|id| !id.is_empty()));
    let created_at = ack["created_at"].as_str().unwrap_or_default();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "RFC 3339 with millis: {created_at}"
    );
    let second = send(&alice, &chat_id, "again").await;
    assert_eq!((second.seq, second.status), (2, MessageStatus::Sent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_message_reads_back_as_it_was_sent() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "Grüße, <world> & \"friends\" 👋").await;
    let messages = history(&alice, &chat_id).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.message_id, ack.message_id);
    assert_eq!(message.sender_id, alice_auth.user.user_id);
    assert_eq!(message.content, "Grüße, <world> & \"friends\" 👋");
    assert_eq!(message.created_at, ack.created_at);
    assert!(!message.deleted && message.edited_at.is_none() && message.reactions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_a_client_msg_id_returns_the_original_without_a_duplicate() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let mut message = text_message(&chat_id, "only once");
    message.client_msg_id = Some("retry-me-1".into());
    let (first, created) = alice.send_full(&message).await.unwrap();
    assert!(created, "the first send creates (201)");
    let (again, created) = alice.send_full(&message).await.unwrap();
    assert!(!created, "a retry answers 200");
    assert_eq!(again, first);
    let messages = history(&alice, &chat_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        alice.send_text(&chat_id, "next").await.unwrap().seq,
        2,
        "no seq burnt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_client_msg_id_from_two_senders_is_two_messages() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let mut message = text_message(&chat_id, "hi");
    message.client_msg_id = Some("shared-id".into());
    let from_alice = alice.send(&message).await.unwrap();
    let from_bob = bob.send(&message).await.unwrap();
    assert_ne!(from_alice.message_id, from_bob.message_id);
    assert_eq!(history(&alice, &chat_id).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_senders_get_seqs_without_gaps_or_duplicates() {
    let server = TestServer::spawn().await;
    let (owner, _) = server.user("owner").await;
    let mut senders = Vec::new();
    for i in 0..5 {
        senders.push(server.user(&format!("sender{i}")).await);
    }
    let auths: Vec<_> = senders.iter().map(|(_, auth)| auth).collect();
    let chat_id = group(&owner, "busy", &auths).await.summary.chat_id;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = senders[i % senders.len()].0.clone();
            let chat_id = chat_id.clone();
            tokio::spawn(async move {
                let mut message = text_message(&chat_id, &format!("message {i}"));
                message.client_msg_id = Some(format!("concurrent-{i}"));
                client.send(&message).await.expect("send")
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.expect("task").seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    let stored = history(&owner, &chat_id).await;
    let stored_seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(stored_seqs, (1..=50).collect::<Vec<i64>>());
    let contents: HashSet<_> = stored.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_to_must_be_a_message_of_the_same_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let here = group(&alice, "here", &[]).await.summary.chat_id;
    let elsewhere = group(&alice, "elsewhere", &[]).await.summary.chat_id;
    let original = send(&alice, &here, "question?").await;
    let foreign = send(&alice, &elsewhere, "other").await;
    let mut reply = text_message(&here, "answer");
    reply.metadata = Some(Metadata {
        reply_to: Some(original.message_id.clone()),
        ..Metadata::default()
    });
    alice.send(&reply).await.unwrap();
    let stored = history(&alice, &here).await;
    assert_eq!(
        stored[1].metadata.reply_to.as_deref(),
        Some(original.message_id.as_str())
    );
    reply.metadata = Some(Metadata {
        reply_to: Some(foreign.message_id),
        ..Metadata::default()
    });
    assert_api_error(alice.send(&reply).await, ErrorCode::InvalidRequest);
    assert_eq!(history(&alice, &here).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_must_be_members_of_the_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (_, outsider) = server.user("outsider").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let mut message = text_message(&chat_id, "@bob look");
    message.metadata = Some(Metadata {
        mentions: Some(vec![bob.user.user_id.clone()]),
        ..Metadata::default()
    });
    alice.send(&message).await.unwrap();
    let stored = history(&alice, &chat_id).await;
    assert_eq!(
        stored[0].metadata.mentions,
        Some(vec![bob.user.user_id.clone()])
    );
    message.metadata = Some(Metadata {
        mentions: Some(vec![outsider.user.user_id.clone()]),
        ..Metadata::default()
    });
    assert_api_error(alice.send(&message).await, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_id_other_than_the_caller_is_forbidden() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let mut message = text_message(&chat_id, "from me");
    message.sender_id = Some(alice_auth.user.user_id.clone());
    alice.send(&message).await.unwrap();
    message.sender_id = Some(bob.user.user_id.clone());
    assert_api_error(alice.send(&message).await, ErrorCode::Forbidden);
    assert_eq!(history(&alice, &chat_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_edits_a_message_and_gets_edited_at() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "teh typo").await;
    let edited = alice
        .edit_message(&ack.message_id, "the typo")
        .await
        .unwrap();
    assert_eq!((edited.content.as_str(), edited.seq), ("the typo", ack.seq));
    let edited_at = edited.edited_at.expect("edited_at is set");
    assert!(edited_at >= ack.created_at);
    let seen = &history(&bob, &chat_id).await[0];
    assert_eq!(seen.content, "the typo");
    assert_eq!(seen.edited_at, Some(edited_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sender_may_edit_a_message() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let ack = send(&bob, &chat_id, "bob's words").await;
    let by_owner = alice.edit_message(&ack.message_id, "owner's words").await;
    assert!(
        matches!(
            by_owner.as_ref().err().and_then(|e| e.status()),
            Some(403 | 404)
        ),
        "{by_owner:?}"
    );
    assert_eq!(history(&bob, &chat_id).await[0].content, "bob's words");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_leaves_a_tombstone_in_place() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    send(&alice, &chat_id, "first").await;
    let doomed = send(&alice, &chat_id, "regrettable").await;
    send(&alice, &chat_id, "third").await;
    let path = format!("/api/v1/messages/{}", doomed.message_id);
    let response = alice.raw(Method::DELETE, &path, None, None).await.unwrap();
    assert_eq!(response.status, 204, "{}", response.text());
    let messages = history(&bob, &chat_id).await;
    assert_eq!(
        messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let tombstone = &messages[1];
    assert_eq!(tombstone.message_id, doomed.message_id);
    assert!(tombstone.deleted);
    assert_eq!(tombstone.content, "");
    assert!(tombstone.file.is_none());
    let edit = alice.edit_message(&doomed.message_id, "resurrected").await;
    assert!(edit.is_err(), "a tombstone cannot be edited: {edit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_delete_others_messages_but_plain_members_may_not() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let chat_id = group(&alice, "team", &[&bob_auth, &carol_auth])
        .await
        .summary
        .chat_id;
    let bobs = send(&bob, &chat_id, "spam").await;
    assert_api_error(
        carol.delete_message(&bobs.message_id).await,
        ErrorCode::Forbidden,
    );
    assert!(!history(&alice, &chat_id).await[0].deleted);
    alice.delete_message(&bobs.message_id).await.unwrap();
    assert!(history(&alice, &chat_id).await[0].deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_direct_chat_only_the_sender_deletes_a_message() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    // Alice started the chat, so she is its owner on paper.
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let bobs = send(&bob, &chat_id, "my words").await;
    assert_api_error(
        alice.delete_message(&bobs.message_id).await,
        ErrorCode::Forbidden,
    );
    assert!(!history(&bob, &chat_id).await[0].deleted);
    bob.delete_message(&bobs.message_id).await.unwrap();
    assert!(history(&alice, &chat_id).await[0].deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_ids_are_not_found() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let ghost = "00000000-0000-7000-8000-000000000000";
    assert_api_error(alice.edit_message(ghost, "x").await, ErrorCode::NotFound);
    assert_api_error(alice.delete_message(ghost).await, ErrorCode::NotFound);
    assert_api_error(alice.add_reaction(ghost, "👍").await, ErrorCode::NotFound);
    assert_api_error(alice.receipts(ghost).await, ErrorCode::NotFound);
    assert_api_error(
        alice.send_text(ghost, "into the void").await,
        ErrorCode::NotFound,
    );
}
