//! Malformed input and error shape: every failure is RFC 9457 problem
//! details (`application/problem+json`) with a `code` matching the status;
//! JSON errors name the offending field; bodies are size-limited.

use crate::helpers::{TestServer, assert_problem, group, raw_get, raw_json};
use natter_client::Method;
use natter_proto::ErrorCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_an_invalid_request() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let body = b"{\"chat_id\": \"x\", \"content\": ".to_vec();
    let response = alice
        .raw(
            Method::POST,
            "/api/v1/messages",
            Some(body),
            Some("application/json"),
        )
        .await
        .unwrap();
    assert_problem(&response, ErrorCode::InvalidRequest);
    let response = server
        .client()
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            Some(b"not json".to_vec()),
            Some("application/json"),
        )
        .await
        .unwrap();
    assert_problem(&response, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_field_is_named_in_the_detail() {
    let server = TestServer::spawn().await;
    let body = json!({"password": "long enough password"});
    let response = raw_json(
        &server.client(),
        Method::POST,
        "/api/v1/auth/register",
        &body,
    )
    .await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("username"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_of_the_wrong_type_is_named_in_the_detail() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let body = json!({"chat_id": chat_id, "content": 42});
    let response = raw_json(&alice, Method::POST, "/api/v1/messages", &body).await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("content"),
        "{problem}"
    );
    let body = json!({"seq": "three"});
    let path = format!("/api/v1/chats/{chat_id}/read");
    let response = raw_json(&alice, Method::POST, &path, &body).await;
    let problem = assert_problem(&response, ErrorCode::InvalidRequest);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("seq"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_json_fields_are_ignored() {
    let server = TestServer::spawn().await;
    let body = json!({
        "username": "alice",
        "password": "long enough password",
        "favourite_colour": "teal",
    });
    let response = raw_json(
        &server.client(),
        Method::POST,
        "/api/v1/auth/register",
        &body,
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_over_256_kib_is_payload_too_large() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let body = json!({"chat_id": chat_id, "content": "x".repeat(300 * 1024)});
    let response = raw_json(&alice, Method::POST, "/api/v1/messages", &body).await;
    assert_problem(&response, ErrorCode::PayloadTooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_unsupported_media_type() {
    let server = TestServer::spawn().await;
    let body = serde_json::to_vec(&json!({"username": "a", "password": "b"})).unwrap();
    let response = server
        .client()
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            Some(body.clone()),
            Some("text/plain"),
        )
        .await
        .unwrap();
    assert_problem(&response, ErrorCode::UnsupportedMediaType);
    let response = server
        .client()
        .raw(Method::POST, "/api/v1/auth/login", Some(body), None)
        .await
        .unwrap();
    assert_problem(&response, ErrorCode::UnsupportedMediaType);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_a_not_found_problem() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    for path in ["/api/v1/nope", "/api/v2/chats", "/api/v1/chats/x/y/z"] {
        let response = raw_get(&alice, Method::GET, path).await;
        assert_problem(&response, ErrorCode::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_forbidden_answers_are_problem_details() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let ghost = "/api/v1/chats/00000000-0000-7000-8000-000000000000";
    assert_problem(
        &raw_get(&alice, Method::GET, ghost).await,
        ErrorCode::NotFound,
    );
    let path = format!("/api/v1/chats/{chat_id}");
    let response = raw_json(&bob, Method::PATCH, &path, &json!({"name": "bob's"})).await;
    assert_problem(&response, ErrorCode::Forbidden);
    let body = json!({"username": "alice", "password": "long enough password"});
    let response = raw_json(
        &server.client(),
        Method::POST,
        "/api/v1/auth/register",
        &body,
    )
    .await;
    assert_problem(&response, ErrorCode::Conflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_details_do_not_leak_internals() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let body = b"{\"chat_id\": [".to_vec();
    let response = alice
        .raw(
            Method::POST,
            "/api/v1/messages",
            Some(body),
            Some("application/json"),
        )
        .await
        .unwrap();
    let text = response.text().to_lowercase();
    for word in ["sqlite", "sqlx", "panicked", "/src/", "backtrace"] {
        assert!(!text.contains(word), "{word:?} in {text}");
    }
}
