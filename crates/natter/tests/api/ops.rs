//! Operating the server: health and readiness probes, Prometheus metrics,
//! the OpenAPI document, and rate limits (429 with `Retry-After`).

use crate::helpers::{PASSWORD, TestServer, assert_problem, group, raw_get, send};
use natter_client::{ClientError, Method, RawResponse, text_message};
use natter_proto::ErrorCode;
use natter_proto::auth::RegisterRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_probes_answer_200() {
    let server = TestServer::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = raw_get(&server.client(), Method::GET, path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
    }
}

/// Sum of all samples of metric `name` (any labels) in Prometheus text.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let samples: Vec<f64> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    (!samples.is_empty()).then(|| samples.iter().sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_stored_messages() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    for i in 0..3 {
        send(&alice, &chat_id, &format!("m{i}")).await;
    }
    let response = raw_get(&server.client(), Method::GET, "/metrics").await;
    assert_eq!(response.status, 200);
    let text = response.text();
    let stored = metric_sum(&text, "natter_messages_stored_total");
    assert!(
        stored.is_some_and(|n| n >= 3.0),
        "messages stored: {stored:?} in\n{text}"
    );
    let request_metric = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| {
            line.split(['{', ' '])
                .next()
                .is_some_and(|n| n.contains("request"))
        });
    assert!(request_metric.is_some(), "a request counter in\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_of_the_write_ahead_log_is_a_metric() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    send(&alice, &chat_id, "into the log").await;
    // Reported by the checkpointer every 200 ms.
    crate::helpers::eventually("the WAL size metric", crate::helpers::WAIT, || async {
        let text = raw_get(&server.client(), Method::GET, "/metrics")
            .await
            .text();
        metric_sum(&text, "natter_sqlite_wal_bytes").map(|_| ())
    })
    .await;
}

/// The REST paths of API.md, as OpenAPI templates, with their methods.
const CONTRACT: &[(&str, &[&str])] = &[
    ("/api/v1/auth/register", &["post"]),
    ("/api/v1/auth/login", &["post"]),
    ("/api/v1/auth/refresh", &["post"]),
    ("/api/v1/auth/logout", &["post"]),
    ("/api/v1/users/me", &["get", "patch"]),
    ("/api/v1/users/{user_id}", &["get"]),
    ("/api/v1/users", &["get"]),
    ("/api/v1/chats", &["get", "post"]),
    ("/api/v1/chats/{chat_id}", &["get", "patch"]),
    ("/api/v1/chats/{chat_id}/members", &["post"]),
    ("/api/v1/chats/{chat_id}/members/{user_id}", &["delete"]),
    ("/api/v1/messages", &["post"]),
    ("/api/v1/chats/{chat_id}/messages", &["get"]),
    ("/api/v1/messages/{message_id}", &["patch", "delete"]),
    (
        "/api/v1/messages/{message_id}/reactions/{emoji}",
        &["put", "delete"],
    ),
    ("/api/v1/chats/{chat_id}/read", &["post"]),
    ("/api/v1/messages/{message_id}/receipts", &["get"]),
    ("/api/v1/files", &["post"]),
    ("/api/v1/files/{file_id}", &["get"]),
    ("/api/v1/search/messages", &["get"]),
    ("/api/v1/chats/{chat_id}/mls/commits", &["post"]),
    ("/api/v1/chats/{chat_id}/mls/group-info", &["get"]),
    ("/api/v1/mls/welcomes", &["get"]),
    ("/api/v1/mls/welcomes/{welcome_id}", &["delete"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_3_1_and_lists_every_rest_path_of_the_contract() {
    let server = TestServer::spawn().await;
    let response = raw_get(&server.client(), Method::GET, "/api/v1/openapi.json").await;
    assert_eq!(response.status, 200);
    let doc = response.json().expect("valid JSON");
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi version {version:?}");
    let paths = doc["paths"].as_object().expect("a paths object");
    let mut missing = Vec::new();
    for (path, methods) in CONTRACT {
        for method in *methods {
            if paths
                .get(*path)
                .and_then(|item| item.get(*method))
                .is_none()
            {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing from the OpenAPI document: {missing:#?}"
    );
}

fn assert_rate_limited(response: &RawResponse) {
    assert_problem(response, ErrorCode::RateLimited);
    let retry_after = response
        .headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|secs| secs >= 1),
        "Retry-After: {retry_after:?}"
    );
}

async fn register(server: &TestServer, username: &str) -> RawResponse {
    let body = serde_json::to_value(RegisterRequest {
        username: username.to_owned(),
        password: PASSWORD.to_owned(),
        display_name: None,
        device_name: None,
    })
    .unwrap();
    crate::helpers::raw_json(
        &server.client(),
        Method::POST,
        "/api/v1/auth/register",
        &body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_attempts_per_ip_are_rate_limited_with_retry_after() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.auth_per_ip_per_minute = 3;
    })
    .await;
    for i in 0..3 {
        let response = register(&server, &format!("user{i}")).await;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    assert_rate_limited(&register(&server, "user3").await);
    let login = server.client().login("user0", PASSWORD).await;
    assert!(
        matches!(login, Err(ClientError::Api { status: 429, .. })),
        "{login:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_per_account_are_rate_limited_without_locking_out_others() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.login_per_account_per_minute = 3;
    })
    .await;
    server.user("victim").await;
    server.user("bystander").await;
    let body = serde_json::json!({"username": "victim", "password": "wrong password"});
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response =
            crate::helpers::raw_json(&server.client(), Method::POST, "/api/v1/auth/login", &body)
                .await;
        if response.status == 429 {
            assert_rate_limited(&response);
        }
        statuses.push(response.status);
    }
    assert_eq!(statuses[0], 401);
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(server.client().login("bystander", PASSWORD).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_per_user_are_rate_limited_and_rejected_sends_are_not_stored() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.sends_per_user_per_minute = 5;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let mut accepted = 0;
    let mut limited = false;
    for i in 0..10 {
        let body = serde_json::to_value(text_message(&chat_id, &format!("m{i}"))).unwrap();
        let response =
            crate::helpers::raw_json(&alice, Method::POST, "/api/v1/messages", &body).await;
        match response.status {
            201 => accepted += 1,
            429 => {
                assert_rate_limited(&response);
                limited = true;
            }
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }
    assert!(
        limited && accepted >= 1,
        "accepted {accepted}, limited {limited}"
    );
    assert!(bob.send_text(&chat_id, "my own budget").await.is_ok());
    let stored = crate::helpers::history(&alice, &chat_id).await;
    assert_eq!(stored.len(), accepted + 1);
}
