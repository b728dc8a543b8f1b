//! Devices: every login is one, named by `device_name`; its user lists,
//! renames and removes them. Removing a device (with the password) stops
//! its tokens at once, closes its sockets with 1008 and leaves the other
//! devices alone.

use crate::helpers::{
    PASSWORD, TestServer, assert_api_error, assert_problem, assert_responsive, expect_close,
    raw_get, raw_json,
};
use natter_client::{Client, Method};
use natter_proto::ErrorCode;
use natter_proto::auth::{AuthResponse, LoginRequest};

async fn login_as(server: &TestServer, username: &str, device: &str) -> AuthResponse {
    server
        .client()
        .login_with(&LoginRequest {
            username: username.into(),
            password: PASSWORD.into(),
            device_name: Some(device.into()),
        })
        .await
        .expect("login")
}

fn with(server: &TestServer, auth: &AuthResponse) -> Client {
    server.client().with_token(auth.access_token.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_login_is_a_named_device_the_user_sees_and_renames() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let phone = login_as(&server, "alice", "Phone").await;
    let laptop = login_as(&server, "alice", "  Laptop ").await;
    let (_, bob) = server.user("bob").await;

    let devices = with(&server, &laptop).devices().await.unwrap();
    let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["", "Phone", "Laptop"], "oldest first, trimmed");
    let current: Vec<bool> = devices.iter().map(|d| d.current).collect();
    assert_eq!(current, [false, false, true]);
    assert!(devices.iter().all(|d| d.last_seen_at >= d.created_at));
    // Bob sees his own device only.
    assert_eq!(with(&server, &bob).devices().await.unwrap().len(), 1);

    let phone_id = &devices[1].device_id;
    let renamed = with(&server, &laptop)
        .rename_device(phone_id, "Old phone")
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.current),
        ("Old phone", false)
    );
    assert_eq!(
        with(&server, &phone).devices().await.unwrap()[1].name,
        "Old phone"
    );
    // Someone else's device is not there to rename; a bad name is named.
    assert_api_error(
        with(&server, &bob).rename_device(phone_id, "mine").await,
        ErrorCode::NotFound,
    );
    let problem = assert_api_error(
        with(&server, &laptop).rename_device(phone_id, " ").await,
        ErrorCode::InvalidRequest,
    );
    assert!(problem.detail.contains("name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_device_stops_at_once_and_the_others_go_on() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let phone = login_as(&server, "alice", "Phone").await;
    let laptop = login_as(&server, "alice", "Laptop").await;
    let (mut phone_socket, phone_ready) = server.socket(&phone.access_token).await;
    let (mut laptop_socket, _) = server.socket(&laptop.access_token).await;
    let laptop_client = with(&server, &laptop);

    // The password is required: missing or wrong is 401, nothing ends.
    let missing = raw_json(
        &laptop_client,
        Method::DELETE,
        &format!("/api/v1/devices/{}", phone_ready.session_id),
        &serde_json::json!({}),
    )
    .await;
    assert_problem(&missing, ErrorCode::Unauthorized);
    let no_body = raw_get(
        &laptop_client,
        Method::DELETE,
        &format!("/api/v1/devices/{}", phone_ready.session_id),
    )
    .await;
    assert_problem(&no_body, ErrorCode::Unauthorized);
    assert_api_error(
        laptop_client
            .remove_device(&phone_ready.session_id, "not the password")
            .await,
        ErrorCode::Unauthorized,
    );
    assert_responsive(&mut phone_socket).await;

    laptop_client
        .remove_device(&phone_ready.session_id, PASSWORD)
        .await
        .unwrap();
    let close = expect_close(&mut phone_socket).await;
    assert_eq!(
        (close.code, close.reason.as_str()),
        (1008, "the session has ended")
    );
    // Its access token is refused now, not at expiry, and so is its
    // refresh token.
    assert_api_error(with(&server, &phone).me().await, ErrorCode::Unauthorized);
    assert_api_error(
        server.client().refresh(&phone.refresh_token).await,
        ErrorCode::Unauthorized,
    );
    // The laptop goes on and no longer lists the phone.
    assert_responsive(&mut laptop_socket).await;
    let left: Vec<String> = laptop_client
        .devices()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(left, ["", "Laptop"]);
    // Gone is gone: removing it again is 404.
    assert_api_error(
        laptop_client
            .remove_device(&phone_ready.session_id, PASSWORD)
            .await,
        ErrorCode::NotFound,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_may_remove_itself_but_not_another_users() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    let alice_device = alice.devices().await.unwrap().remove(0).device_id;
    assert_api_error(
        bob.remove_device(&alice_device, PASSWORD).await,
        ErrorCode::NotFound,
    );
    alice.remove_device(&alice_device, PASSWORD).await.unwrap();
    assert_api_error(alice.me().await, ErrorCode::Unauthorized);
    assert_api_error(
        server.client().refresh(&alice_auth.refresh_token).await,
        ErrorCode::Unauthorized,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_names_are_bounded() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let too_long = server
        .client()
        .login_with(&LoginRequest {
            username: "alice".into(),
            password: PASSWORD.into(),
            device_name: Some("x".repeat(65)),
        })
        .await;
    let problem = assert_api_error(too_long, ErrorCode::InvalidRequest);
    assert!(problem.detail.contains("device_name"));
}
