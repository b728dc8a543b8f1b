//! Bearer tokens on protected calls: missing, garbage, forged (`alg:
//! none`, wrong signature) and expired tokens are all 401.

use crate::helpers::{TestServer, assert_api_error, assert_problem, raw_get};
use crate::jwt;
use natter::config::Secret;
use natter_client::Method;
use natter_proto::ErrorCode;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

/// The secret the forging tests configure, so they can sign tokens.
const SECRET: &str = "integration-test-secret-0123456789abcdef-0123456789abcdef";

async fn server_with_known_secret() -> TestServer {
    TestServer::spawn_with(|settings| settings.auth.secret = Secret(SECRET.into())).await
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_calls_without_a_token_are_unauthorized() {
    let server = TestServer::spawn().await;
    assert_api_error(server.client().me().await, ErrorCode::Unauthorized);
    assert_api_error(server.client().chats().await, ErrorCode::Unauthorized);
    let response = raw_get(&server.client(), Method::GET, "/api/v1/users/me").await;
    assert_problem(&response, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bearer_tokens_are_unauthorized() {
    let server = TestServer::spawn().await;
    for token in ["garbage", "a.b.c", "", "Bearer"] {
        let result = server.client().with_token(token).me().await;
        assert_api_error(result, ErrorCode::Unauthorized);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_bearer_authorization_scheme_is_unauthorized() {
    let server = TestServer::spawn().await;
    let (_, auth) = server.user("alice").await;
    let response = server
        .client()
        .request(Method::GET, "/api/v1/users/me")
        .header("authorization", format!("Basic {}", auth.access_token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_alg_none_is_rejected() {
    let server = TestServer::spawn().await;
    let (_, auth) = server.user("alice").await;
    let parts = jwt::parse(&auth.access_token);
    let header = json!({"alg": "none", "typ": "JWT"});
    let unsigned = jwt::assemble(&header, &parts.claims, "");
    let result = server.client().with_token(unsigned).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);
    let header = json!({"alg": "None", "typ": "JWT"});
    let with_signature = jwt::assemble(&header, &parts.claims, &parts.signature);
    let result = server.client().with_token(with_signature).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_a_wrong_signature_is_rejected() {
    let server = TestServer::spawn().await;
    let (alice, auth) = server.user("alice").await;
    assert!(alice.me().await.is_ok());
    let parts = jwt::parse(&auth.access_token);
    let forged = jwt::sign_hs256(&parts.header, &parts.claims, b"not the server's secret");
    let result = server.client().with_token(forged).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_changed_without_re_signing_are_rejected() {
    let server = TestServer::spawn().await;
    let (_, alice) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let mut parts = jwt::parse(&alice.access_token);
    parts.claims["sub"] = json!(bob.user.user_id);
    let tampered = jwt::assemble(&parts.header, &parts.claims, &parts.signature);
    let result = server.client().with_token(tampered).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_but_correctly_signed_token_is_rejected() {
    let server = server_with_known_secret().await;
    let (_, auth) = server.user("alice").await;
    // Precondition: the server signs HS256 with the configured secret, so
    // the test's own signatures are ones the server would accept.
    assert_eq!(
        jwt::resign_hs256(&auth.access_token, SECRET.as_bytes()),
        auth.access_token,
        "the server is expected to sign access tokens HS256 with auth.secret"
    );
    let parts = jwt::parse(&auth.access_token);
    let mut claims = parts.claims.clone();
    claims["iat"] = json!(now_secs() - 7200);
    claims["exp"] = json!(now_secs() - 3600);
    let expired = jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes());
    let result = server.client().with_token(expired).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);

    // Control: the same re-signing with a future expiry is accepted.
    claims["exp"] = json!(now_secs() + 600);
    let fresh = jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes());
    let me = server.client().with_token(fresh).me().await;
    assert!(me.is_ok(), "a re-signed live token works: {me:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_another_algorithm_is_rejected() {
    let server = server_with_known_secret().await;
    let (_, auth) = server.user("alice").await;
    let parts = jwt::parse(&auth.access_token);
    // HS512 header with an HS256 signature under the right key.
    let header = json!({"alg": "HS512", "typ": "JWT"});
    let token = jwt::sign_hs256(&header, &parts.claims, SECRET.as_bytes());
    let result = server.client().with_token(token).me().await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_session_id_with_another_subject_is_rejected() {
    let server = server_with_known_secret().await;
    let (_, alice) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let parts = jwt::parse(&alice.access_token);
    let resigned = |sub: serde_json::Value| {
        let mut claims = parts.claims.clone();
        claims["sub"] = sub;
        jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes())
    };
    for sub in [json!(bob.user.user_id), json!("no-such-user"), json!("")] {
        let result = server.client().with_token(resigned(sub.clone())).me().await;
        assert_api_error(result, ErrorCode::Unauthorized);
    }
    // Control: alice's own subject, re-signed the same way, still works.
    let me = server
        .client()
        .with_token(resigned(json!(alice.user.user_id)))
        .me()
        .await
        .unwrap();
    assert_eq!(me.user_id, alice.user.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_not_valid_before_a_future_time_is_rejected() {
    let server = server_with_known_secret().await;
    let (_, auth) = server.user("alice").await;
    let parts = jwt::parse(&auth.access_token);
    let mut claims = parts.claims.clone();
    claims["nbf"] = json!(now_secs() + 3600);
    let early = jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes());
    assert_api_error(
        server.client().with_token(early).me().await,
        ErrorCode::Unauthorized,
    );
    claims["nbf"] = json!(now_secs() - 60);
    let ready = jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes());
    assert!(server.client().with_token(ready).me().await.is_ok());
}
