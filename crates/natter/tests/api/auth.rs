//! Accounts and sessions: register, login, refresh with rotation and reuse
//! detection, logout.

use crate::helpers::{PASSWORD, TestServer, assert_api_error, assert_problem, raw_json};
use natter_client::Method;
use natter_proto::ErrorCode;
use natter_proto::auth::RegisterRequest;
use natter_proto::users::PresenceStatus;
use serde_json::json;

fn registration(username: &str, password: &str) -> RegisterRequest {
    RegisterRequest {
        username: username.to_owned(),
        password: password.to_owned(),
        display_name: None,
        device_name: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_answers_201_with_the_user_and_both_tokens() {
    let server = TestServer::spawn().await;
    let body = json!({"username": "alice", "password": PASSWORD, "display_name": "Alice A."});
    let response = raw_json(
        &server.client(),
        Method::POST,
        "/api/v1/auth/register",
        &body,
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let json = response.json().unwrap();
    assert_eq!(json["user"]["username"], "alice");
    assert_eq!(json["user"]["display_name"], "Alice A.");
    assert!(
        json["user"]["user_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(json["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        json["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(json["expires_in"].as_u64().is_some_and(|secs| secs > 0));
    assert!(
        !response.text().contains("argon2"),
        "no password hash leaks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_user_can_log_in_and_use_the_access_token() {
    let server = TestServer::spawn().await;
    let (_, registered) = server.user("alice").await;
    let auth = server.client().login("alice", PASSWORD).await.unwrap();
    assert_eq!(auth.user.user_id, registered.user.user_id);
    assert_ne!(auth.refresh_token, registered.refresh_token);
    let me = server
        .client()
        .with_token(auth.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(me.username, "alice");
    assert_eq!(me.presence.status, PresenceStatus::Offline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_wrong_password_is_unauthorized() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let result = server.client().login("alice", "not the password").await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_an_unknown_username_is_unauthorized_like_a_wrong_password() {
    let server = TestServer::spawn().await;
    let result = server.client().login("nobody", PASSWORD).await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_are_unique_case_insensitively() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let again = server
        .client()
        .register(&registration("alice", PASSWORD))
        .await;
    assert_api_error(again, ErrorCode::Conflict);
    let shouted = server
        .client()
        .register(&registration("ALICE", PASSWORD))
        .await;
    assert_api_error(shouted, ErrorCode::Conflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_usernames_are_rejected() {
    let server = TestServer::spawn().await;
    let too_long = "a".repeat(33);
    for username in [
        "ab",
        "",
        too_long.as_str(),
        "has space",
        "émile",
        "a/b",
        "semi;colon",
    ] {
        let result = server
            .client()
            .register(&registration(username, PASSWORD))
            .await;
        let problem = assert_api_error(result, ErrorCode::InvalidRequest);
        assert!(!problem.detail.is_empty(), "{username:?}: detail explains");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_at_the_length_limits_with_all_allowed_characters_are_accepted() {
    let server = TestServer::spawn().await;
    let longest = "z".repeat(32);
    for username in ["abc", longest.as_str(), "a_b.c-9"] {
        let result = server
            .client()
            .register(&registration(username, PASSWORD))
            .await;
        assert!(result.is_ok(), "{username:?}: {result:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_shorter_than_eight_characters_are_rejected() {
    let server = TestServer::spawn().await;
    let result = server
        .client()
        .register(&registration("alice", "1234567"))
        .await;
    assert_api_error(result, ErrorCode::InvalidRequest);
    let result = server
        .client()
        .register(&registration("alice", "12345678"))
        .await;
    assert!(result.is_ok(), "eight characters are enough: {result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_the_tokens_and_kills_the_old_refresh_token() {
    let server = TestServer::spawn().await;
    let (_, first) = server.user("alice").await;
    let second = server.client().refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.user.user_id, first.user.user_id);
    let me = server
        .client()
        .with_token(second.access_token.clone())
        .me()
        .await;
    assert_eq!(me.unwrap().username, "alice");
    // The new refresh token is live and rotates in turn.
    let third = server
        .client()
        .refresh(&second.refresh_token)
        .await
        .unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reusing_a_refresh_token_revokes_the_whole_session() {
    let server = TestServer::spawn().await;
    let (_, first) = server.user("alice").await;
    let second = server.client().refresh(&first.refresh_token).await.unwrap();

    // Someone presents the already-used token again: reuse detected.
    let reuse = server.client().refresh(&first.refresh_token).await;
    assert_api_error(reuse, ErrorCode::Unauthorized);

    // The legitimate holder's newer tokens are dead too.
    let refreshed = server.client().refresh(&second.refresh_token).await;
    assert_api_error(refreshed, ErrorCode::Unauthorized);
    let me = server.client().with_token(second.access_token).me().await;
    assert_api_error(me, ErrorCode::Unauthorized);
    let me = server.client().with_token(first.access_token).me().await;
    assert_api_error(me, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_detection_leaves_the_users_other_sessions_alone() {
    let server = TestServer::spawn().await;
    let (_, phone) = server.user("alice").await;
    let laptop = server.client().login("alice", PASSWORD).await.unwrap();
    server.client().refresh(&phone.refresh_token).await.unwrap();
    let reuse = server.client().refresh(&phone.refresh_token).await;
    assert_api_error(reuse, ErrorCode::Unauthorized);
    let me = server.client().with_token(laptop.access_token).me().await;
    assert!(me.is_ok(), "the other session still works: {me:?}");
    assert!(server.client().refresh(&laptop.refresh_token).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_refresh_tokens_are_unauthorized() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let result = server.client().refresh("not-a-refresh-token").await;
    assert_api_error(result, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_answers_204_and_kills_the_sessions_tokens() {
    let server = TestServer::spawn().await;
    let (alice, auth) = server.user("alice").await;
    let body = json!({"refresh_token": auth.refresh_token});
    let response = raw_json(&alice, Method::POST, "/api/v1/auth/logout", &body).await;
    assert_eq!(response.status, 204, "{}", response.text());
    assert_api_error(alice.me().await, ErrorCode::Unauthorized);
    let refreshed = server.client().refresh(&auth.refresh_token).await;
    assert_api_error(refreshed, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_of_one_session_keeps_the_other_sessions_working() {
    let server = TestServer::spawn().await;
    let (phone, phone_auth) = server.user("alice").await;
    let laptop = server.client().login("alice", PASSWORD).await.unwrap();
    phone.logout(&phone_auth.refresh_token).await.unwrap();
    assert_api_error(phone.me().await, ErrorCode::Unauthorized);
    let me = server.client().with_token(laptop.access_token).me().await;
    assert!(me.is_ok(), "{me:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_errors_are_problem_details() {
    let server = TestServer::spawn().await;
    let body = json!({"username": "nobody", "password": "whatever123"});
    let response = raw_json(&server.client(), Method::POST, "/api/v1/auth/login", &body).await;
    assert_problem(&response, ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_session_keeps_working_across_token_rotation() {
    let server = TestServer::spawn().await;
    let mut session =
        natter_client::Session::register(&server.client(), &registration("alice", PASSWORD))
            .await
            .unwrap();
    let first_refresh = session.refresh_token().to_owned();
    session.refresh().await.unwrap();
    assert_ne!(session.refresh_token(), first_refresh);
    assert_eq!(session.client().me().await.unwrap().username, "alice");
    let client = session.client().clone();
    session.logout().await.unwrap();
    assert_api_error(client.me().await, ErrorCode::Unauthorized);
}
