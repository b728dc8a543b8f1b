//! History pages: `before`/`after` cursors in both forms (`message_id`
//! and `seq:N`), `limit` (clamped to 200), the `type` filter, and
//! `has_more` pointing in the direction of paging.

use crate::helpers::{TestServer, assert_problem, group, raw_get, send};
use natter_client::{Client, HistoryQuery, Method};
use natter_proto::ErrorCode;
use natter_proto::messages::{MessagePage, MessageType, SendAck};

/// A chat with messages "m1".."m{count}" (seq 1..count).
async fn chat_with(server: &TestServer, count: usize) -> (Client, String, Vec<SendAck>) {
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "history", &[]).await.summary.chat_id;
    let mut acks = Vec::new();
    for i in 1..=count {
        acks.push(send(&alice, &chat_id, &format!("m{i}")).await);
    }
    (alice, chat_id, acks)
}

fn seqs(page: &MessagePage) -> Vec<i64> {
    page.messages.iter().map(|m| m.seq).collect()
}

async fn page(client: &Client, chat_id: &str, query: HistoryQuery) -> (Vec<i64>, bool) {
    let page = client.messages(chat_id, &query).await.expect("a page");
    (seqs(&page), page.has_more)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cursor_the_newest_messages_come_in_ascending_order() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 5).await;
    assert_eq!(
        page(&alice, &chat, HistoryQuery::new().limit(2)).await,
        (vec![4, 5], true)
    );
    assert_eq!(
        page(&alice, &chat, HistoryQuery::new().limit(5)).await,
        (vec![1, 2, 3, 4, 5], false)
    );
    assert_eq!(
        page(&alice, &chat, HistoryQuery::new()).await,
        (vec![1, 2, 3, 4, 5], false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_backwards_with_before_ends_with_has_more_false() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 5).await;
    let q = || HistoryQuery::new().limit(2);
    assert_eq!(
        page(&alice, &chat, q().before_seq(4)).await,
        (vec![2, 3], true)
    );
    assert_eq!(
        page(&alice, &chat, q().before_seq(3)).await,
        (vec![1, 2], false)
    );
    assert_eq!(
        page(&alice, &chat, q().before_seq(2)).await,
        (vec![1], false)
    );
    assert_eq!(
        page(&alice, &chat, q().before_seq(1)).await,
        (vec![], false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_forwards_with_after_ends_with_has_more_false() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 5).await;
    let q = || HistoryQuery::new().limit(2);
    assert_eq!(
        page(&alice, &chat, q().after_seq(0)).await,
        (vec![1, 2], true)
    );
    assert_eq!(
        page(&alice, &chat, q().after_seq(1)).await,
        (vec![2, 3], true)
    );
    assert_eq!(
        page(&alice, &chat, q().after_seq(3)).await,
        (vec![4, 5], false)
    );
    assert_eq!(page(&alice, &chat, q().after_seq(5)).await, (vec![], false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_accept_message_ids_like_seqs() {
    let server = TestServer::spawn().await;
    let (alice, chat, acks) = chat_with(&server, 5).await;
    let q = || HistoryQuery::new().limit(2);
    let before = page(&alice, &chat, q().before(acks[3].message_id.clone())).await;
    assert_eq!(before, (vec![2, 3], true));
    let after = page(&alice, &chat, q().after(acks[2].message_id.clone())).await;
    assert_eq!(after, (vec![4, 5], false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_above_200_is_clamped_to_200() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 205).await;
    let (seqs, has_more) = page(&alice, &chat, HistoryQuery::new().limit(500)).await;
    assert_eq!(seqs, (6..=205).collect::<Vec<i64>>());
    assert!(has_more);
    let (seqs, has_more) = page(&alice, &chat, HistoryQuery::new().after_seq(0).limit(1000)).await;
    assert_eq!((seqs.len(), seqs[0], has_more), (200, 1, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_type_filter_selects_messages_of_one_type() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 3).await;
    let text = page(
        &alice,
        &chat,
        HistoryQuery::new().message_type(MessageType::Text),
    )
    .await;
    assert_eq!(text, (vec![1, 2, 3], false));
    let images = page(
        &alice,
        &chat,
        HistoryQuery::new().message_type(MessageType::Image),
    )
    .await;
    assert_eq!(images, (vec![], false));
    let all = HistoryQuery {
        message_type: Some("all".into()),
        ..HistoryQuery::new()
    };
    assert_eq!(page(&alice, &chat, all).await, (vec![1, 2, 3], false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_history_parameters_are_invalid_requests() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 2).await;
    for query in [
        "limit=abc",
        "limit=-1",
        "before=seq:abc",
        "after=seq:",
        "type=video",
    ] {
        let path = format!("/api/v1/chats/{chat}/messages?{query}");
        let response = raw_get(&alice, Method::GET, &path).await;
        assert_problem(&response, ErrorCode::InvalidRequest);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_naming_a_message_of_another_chat_is_not_accepted() {
    let server = TestServer::spawn().await;
    let (alice, chat, _) = chat_with(&server, 2).await;
    let other = group(&alice, "other", &[]).await.summary.chat_id;
    let foreign = send(&alice, &other, "elsewhere").await;
    let query = HistoryQuery::new().before(foreign.message_id);
    let result = alice.messages(&chat, &query).await;
    let status = result.as_ref().err().and_then(|e| e.status());
    assert!(matches!(status, Some(400 | 404)), "{result:?}");
}
