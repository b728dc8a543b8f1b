//! Abuse limits beyond sends and sign-ups: token refreshes per address,
//! searches, reactions and chat creation per user, and login attempts per
//! account and address together (wrong guesses from one address do not
//! lock the owner out everywhere). Each answers 429 with Retry-After and
//! leaves everyone else alone.

use crate::helpers::{PASSWORD, TestServer, assert_problem, direct, raw_get, raw_json, send};
use natter_client::{Client, Method};
use natter_proto::ErrorCode;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refresh_tokens_from_one_address_is_rate_limited() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.refresh_per_ip_per_minute = 3;
    })
    .await;
    let garbage = json!({"refresh_token": "not-a-token"});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = raw_json(
            &server.client(),
            Method::POST,
            "/api/v1/auth/refresh",
            &garbage,
        )
        .await;
        statuses.push(response.status);
        if response.status == 429 {
            assert_problem(&response, ErrorCode::RateLimited);
            assert!(response.headers.contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

async fn search(client: &Client) -> u16 {
    raw_get(client, Method::GET, "/api/v1/search/messages?q=hello")
        .await
        .status
}

async fn react(client: &Client, message_id: &str, emoji: &str) -> u16 {
    let path = format!("/api/v1/messages/{message_id}/reactions/{emoji}");
    raw_get(client, Method::PUT, &path).await.status
}

async fn create_direct(client: &Client, other: &str) -> u16 {
    let body = json!({"type": "direct", "member_ids": [other]});
    raw_json(client, Method::POST, "/api/v1/chats", &body)
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_reactions_and_new_chats_are_limited_per_user() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.searches_per_user_per_minute = 2;
        settings.rate_limit.reactions_per_user_per_minute = 2;
        settings.rate_limit.chats_per_user_per_minute = 2;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_, carol_auth) = server.user("carol").await;
    let (_, dave_auth) = server.user("dave").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let id = send(&bob, &chat_id, "hello there").await.message_id;

    let searches = [
        search(&alice).await,
        search(&alice).await,
        search(&alice).await,
    ];
    assert_eq!(searches, [200, 200, 429]);
    let reactions = [
        react(&alice, &id, "a").await,
        react(&alice, &id, "b").await,
        react(&alice, &id, "c").await,
    ];
    assert_eq!(reactions, [204, 204, 429]);
    // One chat was created above; one more, then the limit.
    assert_eq!(create_direct(&alice, &carol_auth.user.user_id).await, 201);
    assert_eq!(create_direct(&alice, &dave_auth.user.user_id).await, 429);
    // Bob's budget is his own.
    assert_eq!(search(&bob).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_from_another() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.login_per_account_per_minute = 3;
    })
    .await;
    server.user("victim").await;
    let wrong = json!({"username": "victim", "password": "wrong password"});
    let mut limited = false;
    for _ in 0..6 {
        let response = raw_json(&server.client(), Method::POST, "/api/v1/auth/login", &wrong).await;
        limited |= response.status == 429;
    }
    assert!(limited, "the guesser is limited");
    // The owner, from another address (127.0.0.2 reaches the loopback
    // server too), logs in at once.
    let elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let response = elsewhere
        .post(format!("{}/api/v1/auth/login", server.base_url()))
        .json(&json!({"username": "victim", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
