//! Profiles: the caller's own (`/users/me`), other users by id, and search
//! by prefix.

use crate::helpers::{TestServer, assert_api_error, raw_get};
use natter_client::Method;
use natter_proto::ErrorCode;
use natter_proto::users::{PresenceStatus, UpdateMe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_returns_the_registered_profile_with_offline_presence() {
    let server = TestServer::spawn().await;
    let (alice, auth) = server.user("alice").await;
    let me = alice.me().await.unwrap();
    assert_eq!(me, auth.user);
    assert_eq!(me.username, "alice");
    assert_eq!(me.display_name, "Alice");
    assert_eq!(me.presence.status, PresenceStatus::Offline);
    assert_eq!(me.presence.last_seen, None);
    let raw = raw_get(&alice, Method::GET, "/api/v1/users/me")
        .await
        .json()
        .unwrap();
    assert_eq!(raw["presence"]["status"], "offline");
    assert!(raw["presence"]["last_seen"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_my_display_name_is_visible_to_others() {
    let server = TestServer::spawn().await;
    let (alice, auth) = server.user("alice").await;
    let (bob, _) = server.user("bob").await;
    let update = UpdateMe {
        display_name: Some("Alice in Chains".into()),
        avatar_file_id: None,
    };
    let updated = alice.update_me(&update).await.unwrap();
    assert_eq!(updated.display_name, "Alice in Chains");
    assert_eq!(updated.username, "alice");
    assert_eq!(alice.me().await.unwrap().display_name, "Alice in Chains");
    let seen = bob.user(&auth.user.user_id).await.unwrap();
    assert_eq!(seen.display_name, "Alice in Chains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_update_changes_nothing() {
    let server = TestServer::spawn().await;
    let (alice, auth) = server.user("alice").await;
    let updated = alice.update_me(&UpdateMe::default()).await.unwrap();
    assert_eq!(updated.display_name, auth.user.display_name);
    assert_eq!(updated.user_id, auth.user.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_is_found_by_id() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let seen = alice.user(&bob.user.user_id).await.unwrap();
    assert_eq!(seen.user_id, bob.user.user_id);
    assert_eq!(seen.username, "bob");
    assert_eq!(seen.display_name, "Bob");
    assert_eq!(seen.presence.status, PresenceStatus::Offline);
    let path = format!("/api/v1/users/{}", bob.user.user_id);
    let raw = raw_get(&alice, Method::GET, &path).await.text();
    assert!(!raw.contains("password"), "no password material in {raw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_id_is_not_found() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let result = alice.user("00000000-0000-7000-8000-000000000000").await;
    assert_api_error(result, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_searched_by_username_prefix() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    server.user("alicia").await;
    server.user("bob").await;
    let found = alice.search_users("ali", None).await.unwrap();
    let mut names: Vec<_> = found.users.iter().map(|u| u.username.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["alice", "alicia"]);
    let found = alice.search_users("ALI", None).await.unwrap();
    assert_eq!(found.users.len(), 2, "prefix search ignores case");
    let found = alice.search_users("lic", None).await.unwrap();
    assert!(found.users.is_empty(), "a prefix, not a substring");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_searched_by_display_name_prefix_too() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (zed, _) = server.user("zed").await;
    let update = UpdateMe {
        display_name: Some("Marvin".into()),
        avatar_file_id: None,
    };
    zed.update_me(&update).await.unwrap();
    let found = alice.search_users("marv", None).await.unwrap();
    assert_eq!(found.users.len(), 1);
    assert_eq!(found.users[0].username, "zed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_search_respects_the_limit() {
    let server = TestServer::spawn().await;
    let (caller, _) = server.user("caller").await;
    for i in 0..5 {
        server.user(&format!("sam{i}")).await;
    }
    let found = caller.search_users("sam", Some(3)).await.unwrap();
    assert_eq!(found.users.len(), 3);
    let found = caller.search_users("sam", None).await.unwrap();
    assert_eq!(found.users.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_calls_need_a_token() {
    let server = TestServer::spawn().await;
    let (_, bob) = server.user("bob").await;
    let anonymous = server.client();
    assert_api_error(
        anonymous.user(&bob.user.user_id).await,
        ErrorCode::Unauthorized,
    );
    assert_api_error(
        anonymous.search_users("b", None).await,
        ErrorCode::Unauthorized,
    );
    let update = anonymous.update_me(&UpdateMe::default()).await;
    assert_api_error(update, ErrorCode::Unauthorized);
}
