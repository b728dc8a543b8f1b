//! Who may open a socket: Bearer tokens on the upgrade (bad, expired,
//! revoked and malformed ones are refused with 401 before any event), the
//! `auth` first frame (a bad one or none in time closes with 1008), and
//! the browser `Origin` check (foreign refused with 403, own and absent
//! accepted, an allow-list honoured).

use crate::helpers::{TestServer, assert_responsive};
use crate::jwt;
use natter::config::Secret;
use natter_client::ws::{ConnectOptions, Connection, WsAuth, WsError};
use natter_proto::ErrorCode;
use natter_proto::events::ClientFrame;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &str = "realtime-test-secret-0123456789abcdef-0123456789abcdef";

fn auth(auth: WsAuth) -> ConnectOptions {
    ConnectOptions {
        auth,
        ..ConnectOptions::default()
    }
}

/// Asserts the upgrade was refused with `status` and matching problem details.
#[track_caller]
fn assert_refused(result: Result<Connection, WsError>, code: ErrorCode) {
    match result {
        Err(WsError::Refused {
            status,
            problem,
            body,
        }) => {
            assert_eq!(status, code.status(), "{body}");
            assert_eq!(problem.map(|p| p.code), Some(code), "{body}");
        }
        Err(other) => panic!("expected a {} refusal, got {other}", code.status()),
        Ok(_) => panic!(
            "expected a {} refusal, the upgrade succeeded",
            code.status()
        ),
    }
}

/// Reads the first thing a socket yields; it must be the close, with `code`.
async fn assert_closed_first(socket: &mut Connection, code: u16) {
    match socket.recv_timeout(crate::helpers::WAIT).await {
        Err(WsError::Closed(close)) => assert_eq!(close.code, code, "{close}"),
        Ok(event) => panic!("expected a close before any event, got {event:?}"),
        Err(other) => panic!("expected a close frame {code}, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_expired_revoked_and_malformed_tokens_are_refused_with_401_on_the_upgrade() {
    let server = TestServer::spawn_with(|s| s.auth.secret = Secret(SECRET.into())).await;
    let (alice, alice_auth) = server.user("alice").await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let parts = jwt::parse(&alice_auth.access_token);
    let mut claims = parts.claims.clone();
    claims["iat"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    let expired = jwt::sign_hs256(&parts.header, &claims, SECRET.as_bytes());
    let forged = jwt::sign_hs256(&parts.header, &parts.claims, b"someone else's secret");

    let cases = [
        WsAuth::Bearer("garbage".into()),
        WsAuth::Bearer(expired),
        WsAuth::Bearer(forged),
        WsAuth::Header(format!("Basic {}", alice_auth.access_token)),
    ];
    for case in cases {
        assert_refused(
            server.socket_with(&auth(case)).await,
            ErrorCode::Unauthorized,
        );
    }
    // A token of a session that logged out stops working too.
    let (_, bob_auth) = server.user("bob").await;
    server
        .client()
        .logout(&bob_auth.refresh_token)
        .await
        .unwrap();
    let revoked = server
        .socket_with(&ConnectOptions::bearer(&bob_auth.access_token))
        .await;
    assert_refused(revoked, ErrorCode::Unauthorized);
    // Control: the real token works.
    let (mut socket, ready) = server.socket(&alice_auth.access_token).await;
    assert_eq!(ready.user_id, alice.me().await.unwrap().user_id);
    assert_responsive(&mut socket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_frame_with_a_valid_token_gets_ready() {
    let server = TestServer::spawn().await;
    let (_, alice_auth) = server.user("alice").await;
    let options = auth(WsAuth::Frame(alice_auth.access_token.clone()));
    let mut socket = server.socket_with(&options).await.unwrap();
    let ready = socket.ready(crate::helpers::WAIT).await.unwrap();
    assert_eq!(ready.user_id, alice_auth.user.user_id);
    assert_responsive(&mut socket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_socket_is_closed_with_1008_after_the_auth_timeout() {
    let server = TestServer::spawn_with(|s| s.gateway.auth_timeout_secs = 1).await;
    let mut socket = server
        .socket_with(&ConnectOptions::default())
        .await
        .unwrap();
    assert_closed_first(&mut socket, 1008).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_auth_frame_or_another_first_frame_is_closed_with_1008() {
    let server = TestServer::spawn().await;
    let mut bad_token = server
        .socket_with(&auth(WsAuth::Frame("garbage".into())))
        .await
        .unwrap();
    assert_closed_first(&mut bad_token, 1008).await;

    let mut no_auth = server
        .socket_with(&ConnectOptions::default())
        .await
        .unwrap();
    no_auth.send_frame(&ClientFrame::Ping).await.unwrap();
    assert_closed_first(&mut no_auth, 1008).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_refused_while_the_own_origin_and_none_connect() {
    let server = TestServer::spawn().await;
    let (_, alice_auth) = server.user("alice").await;
    let token = alice_auth.access_token.clone();
    let foreign = ConnectOptions::bearer(&token).with_origin("http://evil.example");
    assert_refused(server.socket_with(&foreign).await, ErrorCode::Forbidden);

    let own = ConnectOptions::bearer(&token).with_origin(server.base_url());
    for options in [own, ConnectOptions::bearer(&token)] {
        let mut socket = server.socket_with(&options).await.expect("allowed");
        socket.ready(crate::helpers::WAIT).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_listed_origin_connects_and_others_are_refused() {
    let server = TestServer::spawn_with(|s| {
        s.gateway.allowed_origins = vec!["https://app.example".into()];
    })
    .await;
    let (_, alice_auth) = server.user("alice").await;
    let token = alice_auth.access_token.clone();
    let listed = ConnectOptions::bearer(&token).with_origin("https://app.example");
    let mut socket = server.socket_with(&listed).await.expect("a listed origin");
    socket.ready(crate::helpers::WAIT).await.unwrap();
    let foreign = ConnectOptions::bearer(&token).with_origin("https://evil.example");
    assert_refused(server.socket_with(&foreign).await, ErrorCode::Forbidden);
}
