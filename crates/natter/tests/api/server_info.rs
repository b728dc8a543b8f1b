//! `GET /api/v1/server`: the public info document a client reads to
//! check sizes before it sends (version, limits, push).

use crate::helpers::{TestServer, raw_get};
use natter_client::Method;
use serde_json::Value;

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_names_the_configured_limits_without_a_token() {
    let server = TestServer::spawn_with(|settings| {
        settings.files.max_upload_bytes = 3 * 1024 * 1024;
        settings.max_json_body = 100_000;
    })
    .await;
    let response = raw_get(&server.client(), Method::GET, "/api/v1/server").await;
    assert_eq!(response.status, 200, "{}", response.text());
    let info = json(&response.body);
    assert_eq!(info["limits"]["max_upload_bytes"], 3 * 1024 * 1024);
    assert_eq!(info["limits"]["max_json_body"], 100_000);
    assert_eq!(info["limits"]["max_message_chars"], 16_384);
    assert_eq!(info["push"], false, "push is off without a VAPID subject");
    assert!(
        info["version"].as_str().is_some_and(|v| !v.is_empty()),
        "a version in {info}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_limit_in_server_info_is_the_one_sends_are_held_to() {
    let server = TestServer::spawn().await;
    let info = json(
        &raw_get(&server.client(), Method::GET, "/api/v1/server")
            .await
            .body,
    );
    let max = info["limits"]["max_message_chars"]
        .as_u64()
        .expect("a number") as usize;
    let (alice, _) = server.user("alice").await;
    let chat_id = crate::helpers::group(&alice, "team", &[])
        .await
        .summary
        .chat_id;
    // Multi-byte characters: the limit counts characters, not bytes.
    let at_limit = "é".repeat(max);
    alice
        .send_text(&chat_id, &at_limit)
        .await
        .expect("a message of exactly the limit is stored");
    let over = "é".repeat(max + 1);
    let refused = alice.send_text(&chat_id, &over).await;
    assert!(refused.is_err(), "one character more is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_says_push_is_on_and_is_in_the_openapi_document() {
    let server = TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
    })
    .await;
    let info = json(
        &raw_get(&server.client(), Method::GET, "/api/v1/server")
            .await
            .body,
    );
    assert_eq!(info["push"], true);
    assert_eq!(info["limits"]["max_upload_bytes"], 25 * 1024 * 1024);
    let doc = json(
        &raw_get(&server.client(), Method::GET, "/api/v1/openapi.json")
            .await
            .body,
    );
    assert!(
        doc["paths"]["/api/v1/server"]["get"].is_object(),
        "the route is described"
    );
    assert!(doc["components"]["schemas"]["ServerInfo"].is_object());
}
