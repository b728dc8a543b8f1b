//! Reactions on messages, read markers with `unread_count`, receipts, and
//! the sender-side `status` moving from `sent` to `read`.

use crate::helpers::{TestServer, assert_api_error, direct, group, history, send, summary};
use natter_client::Method;
use natter_proto::ErrorCode;
use natter_proto::messages::{MessageStatus, Reaction};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_are_added_counted_and_removed() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "cake in the kitchen").await;
    let path = format!("/api/v1/messages/{}/reactions/%F0%9F%8E%82", ack.message_id);
    let response = alice.raw(Method::PUT, &path, None, None).await.unwrap();
    assert_eq!(response.status, 204, "{}", response.text());
    bob.add_reaction(&ack.message_id, "🎂").await.unwrap();
    bob.add_reaction(&ack.message_id, "❤️").await.unwrap();
    let reactions = &history(&alice, &chat_id).await[0].reactions;
    let cake = reactions
        .iter()
        .find(|r| r.emoji == "🎂")
        .expect("🎂 is listed");
    assert_eq!(cake.count, 2);
    let mut users = cake.user_ids.clone();
    users.sort();
    let mut expected = vec![
        alice_auth.user.user_id.clone(),
        bob_auth.user.user_id.clone(),
    ];
    expected.sort();
    assert_eq!(users, expected);
    let heart = reactions
        .iter()
        .find(|r| r.emoji == "❤️")
        .expect("❤️ is listed");
    assert_eq!(
        (heart.count, heart.user_ids.clone()),
        (1, vec![bob_auth.user.user_id.clone()])
    );

    let response = bob.raw(Method::DELETE, &path, None, None).await.unwrap();
    assert_eq!(response.status, 204, "{}", response.text());
    let reactions = &history(&alice, &chat_id).await[0].reactions;
    let cake = reactions
        .iter()
        .find(|r| r.emoji == "🎂")
        .expect("alice's 🎂 stays");
    assert_eq!(
        (cake.count, cake.user_ids.clone()),
        (1, vec![alice_auth.user.user_id.clone()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reacting_twice_with_the_same_emoji_counts_once() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "hello").await;
    alice.add_reaction(&ack.message_id, "👍").await.unwrap();
    alice.add_reaction(&ack.message_id, "👍").await.unwrap();
    let reactions = history(&alice, &chat_id).await[0].reactions.clone();
    let expected = Reaction {
        emoji: "👍".into(),
        count: 1,
        user_ids: vec![alice_auth.user.user_id.clone()],
    };
    assert_eq!(reactions, vec![expected]);
    alice.remove_reaction(&ack.message_id, "👍").await.unwrap();
    assert!(history(&alice, &chat_id).await[0].reactions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_marks_the_senders_own_messages_read() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    send(&alice, &chat_id, "one").await;
    send(&alice, &chat_id, "two").await;
    let entry = summary(&alice, &chat_id).await;
    assert_eq!(
        (entry.last_seq, entry.read_seq, entry.unread_count),
        (2, 2, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_read_lowers_unread_count_and_never_moves_back() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    for i in 1..=4 {
        send(&alice, &chat_id, &format!("m{i}")).await;
    }
    assert_eq!(summary(&bob, &chat_id).await.unread_count, 4);
    let path = format!("/api/v1/chats/{chat_id}/read");
    let body = serde_json::json!({"seq": 3});
    let response = crate::helpers::raw_json(&bob, Method::POST, &path, &body).await;
    assert_eq!(response.status, 204, "{}", response.text());
    let entry = summary(&bob, &chat_id).await;
    assert_eq!((entry.read_seq, entry.unread_count), (3, 1));
    bob.mark_read(&chat_id, 1).await.unwrap();
    assert_eq!(
        summary(&bob, &chat_id).await.read_seq,
        3,
        "markers only move forward"
    );
    bob.mark_read(&chat_id, 99).await.unwrap();
    let entry = summary(&bob, &chat_id).await;
    assert_eq!(
        (entry.read_seq, entry.unread_count),
        (4, 0),
        "clamped to last_seq"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_count_skips_deleted_messages_and_my_own() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    send(&alice, &chat_id, "one").await;
    let doomed = send(&alice, &chat_id, "two").await;
    send(&alice, &chat_id, "three").await;
    alice.delete_message(&doomed.message_id).await.unwrap();
    assert_eq!(summary(&bob, &chat_id).await.unread_count, 2);
    bob.mark_read(&chat_id, 1).await.unwrap();
    assert_eq!(summary(&bob, &chat_id).await.unread_count, 1);
    // Bob's own message moves his marker to the end.
    send(&bob, &chat_id, "caught up").await;
    assert_eq!(summary(&bob, &chat_id).await.unread_count, 0);
    assert_eq!(summary(&alice, &chat_id).await.unread_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_receipts_advance_when_the_other_member_reads() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "did you read this?").await;
    assert_eq!(
        history(&alice, &chat_id).await[0].status,
        MessageStatus::Sent
    );
    let receipts = alice.receipts(&ack.message_id).await.unwrap().receipts;
    assert_eq!(
        receipts.len(),
        1,
        "one receipt per other member: {receipts:?}"
    );
    assert_eq!(receipts[0].user_id, bob_auth.user.user_id);
    assert!(receipts[0].read_at.is_none());

    bob.mark_read(&chat_id, ack.seq).await.unwrap();
    assert_eq!(
        history(&alice, &chat_id).await[0].status,
        MessageStatus::Read
    );
    let receipts = alice.receipts(&ack.message_id).await.unwrap().receipts;
    let read_at = receipts[0].read_at.expect("bob's read_at");
    assert!(read_at >= ack.created_at);
    assert!(
        receipts
            .iter()
            .all(|r| r.user_id != alice_auth.user.user_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_the_most_advanced_over_the_other_members() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let chat_id = group(&alice, "team", &[&bob_auth, &carol])
        .await
        .summary
        .chat_id;
    let first = send(&alice, &chat_id, "first").await;
    send(&alice, &chat_id, "second").await;
    bob.mark_read(&chat_id, first.seq).await.unwrap();
    let statuses: Vec<_> = history(&alice, &chat_id)
        .await
        .iter()
        .map(|m| m.status)
        .collect();
    assert_eq!(statuses, [MessageStatus::Read, MessageStatus::Sent]);
    let receipts = alice.receipts(&first.message_id).await.unwrap().receipts;
    assert_eq!(receipts.len(), 2);
    let bobs = receipts
        .iter()
        .find(|r| r.user_id == bob_auth.user.user_id)
        .unwrap();
    let carols = receipts
        .iter()
        .find(|r| r.user_id == carol.user.user_id)
        .unwrap();
    assert!(bobs.read_at.is_some() && carols.read_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_read_marker_is_an_invalid_request() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    assert_api_error(
        alice.mark_read(&chat_id, -1).await,
        ErrorCode::InvalidRequest,
    );
}
