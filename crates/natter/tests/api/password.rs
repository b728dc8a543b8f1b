//! Changing the password: it takes the current one, the new one is held
//! to the registration rules, and on success every other session of the
//! user ends at once (their sockets close with 1008, their tokens are
//! refused) while the session that changed it goes on. Wrong guesses
//! count against the account's login limit.

use crate::helpers::{
    PASSWORD, TestServer, assert_api_error, assert_problem, assert_responsive, direct,
    expect_close, new_message_in, raw_json, send, wait_for,
};
use natter_client::Method;
use natter_proto::ErrorCode;
use serde_json::json;

const NEW_PASSWORD: &str = "a brand new secret";

async fn change(
    client: &natter_client::Client,
    current: &str,
    new: &str,
) -> natter_client::RawResponse {
    let body = json!({"current_password": current, "new_password": new});
    raw_json(client, Method::POST, "/api/v1/auth/password", &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_every_other_session_and_keeps_this_one() {
    let server = TestServer::spawn().await;
    let (alice, alice_laptop) = server.user("alice").await;
    let alice_phone = server.client().login("alice", PASSWORD).await.unwrap();
    let (_, bob) = server.user("bob").await;
    let (mut laptop, _) = server.socket(&alice_laptop.access_token).await;
    let (mut phone, _) = server.socket(&alice_phone.access_token).await;
    let (mut bob_socket, _) = server.socket(&bob.access_token).await;
    let chat_id = direct(&alice, &bob).await.summary.chat_id;

    let response = change(&alice, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(response.status, 204, "{}", response.text());

    let close = expect_close(&mut phone).await;
    assert_eq!(
        (close.code, close.reason.as_str()),
        (1008, "the session has ended")
    );
    let phone_client = server.client().with_token(alice_phone.access_token.clone());
    assert_api_error(phone_client.me().await, ErrorCode::Unauthorized);
    assert_api_error(
        server.client().refresh(&alice_phone.refresh_token).await,
        ErrorCode::Unauthorized,
    );
    let devices = alice.devices().await.unwrap();
    assert_eq!(devices.len(), 1, "only this device is left: {devices:?}");

    // This session goes on: its socket hears the chat, its token works,
    // its refresh token still rotates.
    assert_responsive(&mut laptop).await;
    send(&alice, &chat_id, "new password, same me").await;
    wait_for(&mut laptop, "alice's own message", |event| {
        new_message_in(event, &chat_id)
    })
    .await;
    assert_responsive(&mut bob_socket).await;
    assert_eq!(alice.me().await.unwrap().username, "alice");
    server
        .client()
        .refresh(&alice_laptop.refresh_token)
        .await
        .expect("the session that changed the password keeps refreshing");

    assert_api_error(
        server.client().login("alice", PASSWORD).await,
        ErrorCode::Unauthorized,
    );
    server
        .client()
        .login("alice", NEW_PASSWORD)
        .await
        .expect("the new password logs in");
    server
        .client()
        .login("bob", PASSWORD)
        .await
        .expect("bob's password is his own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_current_password_or_a_weak_new_one_changes_nothing() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let alice_phone = server.client().login("alice", PASSWORD).await.unwrap();

    let wrong = change(&alice, "not my password", NEW_PASSWORD).await;
    let problem = assert_problem(&wrong, ErrorCode::Unauthorized);
    assert_eq!(problem["detail"], "the current password is wrong");
    let weak = change(&alice, PASSWORD, "short").await;
    assert_problem(&weak, ErrorCode::InvalidRequest);
    let anonymous = change(&server.client(), PASSWORD, NEW_PASSWORD).await;
    assert_problem(&anonymous, ErrorCode::Unauthorized);

    let phone_client = server.client().with_token(alice_phone.access_token.clone());
    phone_client.me().await.expect("no other session ended");
    server
        .client()
        .login("alice", PASSWORD)
        .await
        .expect("the old password still works");
    assert_api_error(
        server.client().login("alice", NEW_PASSWORD).await,
        ErrorCode::Unauthorized,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_the_current_password_counts_against_the_login_limit() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.login_per_account_per_minute = 3;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(change(&alice, "a wrong guess", NEW_PASSWORD).await.status);
    }
    let limited = change(&alice, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(statuses, [401, 401, 401]);
    assert_problem(&limited, ErrorCode::RateLimited);
    assert_api_error(
        server.client().login("alice", PASSWORD).await,
        ErrorCode::RateLimited,
    );
}
