//! "Delete for me" (`DELETE /api/v1/messages/{id}?for=me`): any member
//! hides any message (own, another's, a tombstone) for themselves only.
//! For the hider it stays in place as a placeholder (history, change and
//! gap pages, single lookups), search and the chat list's preview skip
//! it, and their own connections hear `message.hidden`; other members see
//! nothing change.

use crate::helpers::{
    TestServer, assert_api_error, assert_problem, events_until, group, history, raw_get, send,
    summary, wait_for,
};
use natter_client::{Client, HistoryQuery, Method, SearchQuery};
use natter_proto::ErrorCode;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::Message;

/// `GET /api/v1/messages/{id}` as `client` sees it.
async fn message(client: &Client, message_id: &str) -> Message {
    let answer = raw_get(
        client,
        Method::GET,
        &format!("/api/v1/messages/{message_id}"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    serde_json::from_slice(&answer.body).expect("a message")
}

#[track_caller]
fn assert_placeholder(message: &Message) {
    assert!(message.hidden && message.deleted, "{message:?}");
    assert_eq!(message.content, "");
    assert!(message.file.is_none() && message.reactions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_hides_others_and_own_messages_for_themselves_only() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let alices = send(&alice, &chat_id, "alice says kumquat").await;
    let bobs = send(&bob, &chat_id, "bob says kumquat too").await;
    let last = send(&alice, &chat_id, "the latest word").await;

    bob.hide_message(&alices.message_id)
        .await
        .expect("hiding another's");
    bob.hide_message(&bobs.message_id)
        .await
        .expect("hiding my own");
    bob.hide_message(&alices.message_id)
        .await
        .expect("hiding twice is fine");

    let seen = history(&bob, &chat_id).await;
    let seqs: Vec<i64> = seen.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3], "hidden messages keep their seq");
    assert_placeholder(&seen[0]);
    assert_placeholder(&seen[1]);
    assert!(!seen[2].hidden && seen[2].content == "the latest word");
    assert_placeholder(&message(&bob, &alices.message_id).await);

    // Alice sees everything as before.
    let hers = history(&alice, &chat_id).await;
    assert!(hers.iter().all(|m| !m.hidden && !m.deleted), "{hers:?}");
    assert_eq!(hers[0].content, "alice says kumquat");
    assert!(!message(&alice, &alices.message_id).await.hidden);

    // Search leaves them out for bob only.
    let bobs_hits = bob.search(&SearchQuery::new("kumquat")).await.unwrap();
    assert!(bobs_hits.results.is_empty(), "{:?}", bobs_hits.results);
    let alices_hits = alice.search(&SearchQuery::new("kumquat")).await.unwrap();
    assert_eq!(alices_hits.results.len(), 2);

    // The chat list's preview skips a hidden last message.
    bob.hide_message(&last.message_id).await.unwrap();
    let preview = summary(&bob, &chat_id).await.last_message;
    assert_eq!(preview, None, "every message is hidden for bob");
    let hers = summary(&alice, &chat_id)
        .await
        .last_message
        .expect("alice's preview");
    assert_eq!(hers.message_id, last.message_id);
    send(&alice, &chat_id, "one more").await;
    let preview = summary(&bob, &chat_id)
        .await
        .last_message
        .expect("a new preview");
    assert_eq!(preview.content, "one more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_can_be_hidden_and_change_pages_show_hidden_messages_as_placeholders() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let gone = send(&alice, &chat_id, "regret").await;
    let edited = send(&alice, &chat_id, "first draft").await;
    alice.delete_message(&gone.message_id).await.unwrap();
    bob.hide_message(&gone.message_id)
        .await
        .expect("hiding a tombstone");
    bob.hide_message(&edited.message_id).await.unwrap();
    alice
        .edit_message(&edited.message_id, "second draft")
        .await
        .unwrap();

    let changes = bob
        .messages(&chat_id, &HistoryQuery::new().changed_after(0))
        .await
        .unwrap();
    let changed = changes
        .messages
        .iter()
        .find(|m| m.message_id == edited.message_id)
        .expect("the edit is a change");
    assert_placeholder(changed);
    assert_placeholder(&message(&bob, &gone.message_id).await);
    // Gap repair by seq gets both, in place.
    let gap = bob
        .messages(&chat_id, &HistoryQuery::new().after_seq(0))
        .await
        .unwrap();
    assert_eq!(
        gap.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(gap.messages.iter().all(|m| m.hidden));
    assert_eq!(
        message(&alice, &edited.message_id).await.content,
        "second draft"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_hiders_own_connections_hear_of_it() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let sent = send(&alice, &chat_id, "hide me").await;
    let (mut bob_one, _) = server.socket(&bob_auth.access_token).await;
    let (mut bob_two, _) = server.socket(&bob_auth.access_token).await;
    let (mut alice_socket, _) = server.socket(&alice_auth.access_token).await;

    bob.hide_message(&sent.message_id).await.unwrap();
    for socket in [&mut bob_one, &mut bob_two] {
        let (hidden_chat, seq) = wait_for(socket, "message.hidden", |event| match event {
            ServerEvent::MessageHidden {
                chat_id,
                message_id,
                seq,
            } if *message_id == sent.message_id => Some((chat_id.clone(), *seq)),
            _ => None,
        })
        .await;
        assert_eq!((hidden_chat.as_str(), seq), (chat_id.as_str(), sent.seq));
    }
    // Hiding again announces nothing: the next event bob's socket gets is
    // the pong of a ping sent after it.
    bob.hide_message(&sent.message_id).await.unwrap();
    bob_one.send_frame(&ClientFrame::Ping).await.unwrap();
    let before = events_until(&mut bob_one, "pong", |e| matches!(e, ServerEvent::Pong)).await;
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, ServerEvent::MessageHidden { .. })),
        "{before:?}"
    );
    // Alice hears nothing of it (a ping after the hide proves the order).
    alice_socket.send_frame(&ClientFrame::Ping).await.unwrap();
    let before = events_until(&mut alice_socket, "pong", |e| {
        matches!(e, ServerEvent::Pong)
    })
    .await;
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, ServerEvent::MessageHidden { .. })),
        "{before:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_cannot_hide_and_unknown_audiences_are_refused() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (mallory, _) = server.user("mallory").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let sent = send(&alice, &chat_id, "members only").await;
    assert_api_error(
        mallory.hide_message(&sent.message_id).await,
        ErrorCode::NotFound,
    );
    assert_api_error(
        bob.hide_message("01900000-0000-7000-8000-000000000000")
            .await,
        ErrorCode::NotFound,
    );
    let answer = raw_get(
        &bob,
        Method::DELETE,
        &format!("/api/v1/messages/{}?for=them", sent.message_id),
    )
    .await;
    assert_problem(&answer, ErrorCode::InvalidRequest);
    // A plain member of a group may hide what they may not delete.
    assert_api_error(
        bob.delete_message(&sent.message_id).await,
        ErrorCode::Forbidden,
    );
    let answer = raw_get(
        &bob,
        Method::DELETE,
        &format!("/api/v1/messages/{}?for=me", sent.message_id),
    )
    .await;
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert!(!message(&alice, &sent.message_id).await.deleted);
}
