//! Hostile JSON and query strings get a precise 400 naming the field,
//! never a 500 and never a stored message: metadata nested deep or grown
//! large, control characters where they mean nothing, numbers beyond any
//! seq, NUL in a search.

use crate::helpers::{
    TestServer, assert_problem, group, history, raw_get, raw_json, send_frame, wait_for,
};
use natter_client::{Client, Method};
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
use serde_json::{Value, json};

/// POSTs a message into `chat_id` with these extra body fields and
/// expects 400 whose detail mentions `field`.
async fn refused(client: &Client, chat_id: &str, extra: Value, field: &str) {
    let mut body = json!({"chat_id": chat_id, "content": "hello", "client_msg_id": "c1"});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let response = raw_json(client, Method::POST, "/api/v1/messages", &body).await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(field), "{field} not named in {detail:?}");
}

fn nested(levels: usize) -> Value {
    let text = format!("{{\"x\":{}{}}}", "[".repeat(levels), "]".repeat(levels));
    // Built as text: serde_json would refuse to build it as a value.
    Value::String(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_message_bodies_are_refused_naming_the_field_and_nothing_is_stored() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "target", &[]).await.summary.chat_id;
    for levels in [1_000, 100_000] {
        let body = format!(
            r#"{{"chat_id":"{chat_id}","content":"deep","metadata":{}}}"#,
            nested(levels).as_str().unwrap()
        );
        let response = alice
            .raw(
                Method::POST,
                "/api/v1/messages",
                Some(body.into_bytes()),
                Some("application/json"),
            )
            .await
            .unwrap();
        let problem = assert_problem(&response, ErrorCode::InvalidRequest);
        assert!(
            problem["detail"].as_str().unwrap().contains("metadata"),
            "{problem}"
        );
    }
    refused(
        &alice,
        &chat_id,
        json!({"metadata": {"x": {"y": {"z": {"a": {"b": {"c": {"d": {"e": {}}}}}}}}}}),
        "metadata",
    )
    .await;
    refused(
        &alice,
        &chat_id,
        json!({"metadata": {"x": "a".repeat(9_000)}}),
        "metadata",
    )
    .await;
    refused(
        &alice,
        &chat_id,
        json!({"metadata": {"mentions": "not a list"}}),
        "metadata",
    )
    .await;
    refused(
        &alice,
        &chat_id,
        json!({"content": "null\u{0}byte"}),
        "content",
    )
    .await;
    refused(&alice, &chat_id, json!({"content": "bell\u{7}"}), "content").await;
    refused(
        &alice,
        &chat_id,
        json!({"client_msg_id": "id\u{1b}[31m"}),
        "client_msg_id",
    )
    .await;
    assert!(
        history(&alice, &chat_id).await.is_empty(),
        "nothing was stored"
    );

    // Tabs and line breaks are text, and small extra metadata is ignored.
    let ok = json!({
        "chat_id": chat_id, "content": "line one\nline\ttwo",
        "metadata": {"client": {"draft": 3}}
    });
    let response = raw_json(&alice, Method::POST, "/api/v1/messages", &ok).await;
    assert_eq!(response.status, 201, "{}", response.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_beyond_any_seq_are_refused_naming_the_field() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "numbers", &[]).await.summary.chat_id;
    let huge = 1_i64 << 60;
    let read = raw_json(
        &alice,
        Method::POST,
        &format!("/api/v1/chats/{chat_id}/read"),
        &json!({"seq": huge}),
    )
    .await;
    assert!(
        assert_problem(&read, ErrorCode::InvalidRequest)["detail"]
            .as_str()
            .unwrap()
            .contains("seq")
    );
    for query in [format!("after=seq:{huge}"), format!("changed_after={huge}")] {
        let path = format!("/api/v1/chats/{chat_id}/messages?{query}");
        let response = raw_get(&alice, Method::GET, &path).await;
        assert_problem(&response, ErrorCode::InvalidRequest);
    }
    let beyond_i64 = raw_json(
        &alice,
        Method::POST,
        &format!("/api/v1/chats/{chat_id}/read"),
        &json!({"seq": 1e300}),
    )
    .await;
    assert_problem(&beyond_i64, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_with_control_characters_is_a_bad_request_never_a_500() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "search", &[]).await.summary.chat_id;
    let (ack, _) = alice
        .send_full(&natter_client::text_message(&chat_id, "a b"))
        .await
        .unwrap();
    assert!(ack.seq > 0);
    for q in ["a%00b", "%00", "a%1Bb", "%0A"] {
        let response = raw_get(
            &alice,
            Method::GET,
            &format!("/api/v1/search/messages?q={q}"),
        )
        .await;
        let problem = assert_problem(&response, ErrorCode::InvalidRequest);
        assert!(
            problem["detail"].as_str().unwrap().contains('q'),
            "{q}: {problem}"
        );
    }
    let users = raw_get(&alice, Method::GET, "/api/v1/users?q=a%00").await;
    assert_problem(&users, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_metadata_send_frame_gets_an_error_frame_and_the_socket_stays() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let chat_id = group(&alice, "frames", &[]).await.summary.chat_id;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    let frame = format!(
        r#"{{"type":"send","client_msg_id":"deep","chat_id":"{chat_id}","content":"x","metadata":{}}}"#,
        nested(1_000).as_str().unwrap()
    );
    socket.send_text(&frame).await.unwrap();
    let detail = wait_for(&mut socket, "an error frame", |event| match event {
        ServerEvent::Error { code, detail, .. } if *code == ErrorCode::InvalidRequest => {
            Some(detail.clone())
        }
        _ => None,
    })
    .await;
    assert!(
        detail.contains("metadata") || detail.contains("recursion limit"),
        "{detail}"
    );
    socket
        .send_frame(&send_frame("ok", &chat_id, "fine"))
        .await
        .unwrap();
    wait_for(&mut socket, "send.ok", |event| {
        matches!(event, ServerEvent::SendOk { client_msg_id, .. } if client_msg_id == "ok")
            .then_some(())
    })
    .await;
}
