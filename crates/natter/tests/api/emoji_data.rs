//! `GET /assets/emoji.json`: the emoji list of the web client's picker
//! and `:shortcode:` completion, made by the server from Unicode's data
//! (the `emojis` crate), served and cached like the embedded assets.

use crate::helpers::{TestServer, raw_get};
use natter_client::{Method, RawResponse};
use serde_json::Value;

fn header<'a>(response: &'a RawResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The asset version `index.html` links, as in `/assets/v-VERSION/…`.
async fn asset_version(server: &TestServer) -> String {
    let index = raw_get(&server.client(), Method::GET, "/").await;
    let html = index.text();
    let start = html.find("/assets/v-").expect("versioned asset links") + "/assets/v-".len();
    html[start..]
        .split('/')
        .next()
        .expect("a version")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emoji_list_is_json_with_names_groups_and_shortcodes() {
    let server = TestServer::spawn().await;
    let response = raw_get(&server.client(), Method::GET, "/assets/emoji.json").await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.content_type(), Some("application/json"));
    let list: Vec<Value> = serde_json::from_slice(&response.body).expect("valid JSON");
    assert!(list.len() > 1_000, "only {} emoji", list.len());
    for entry in &list {
        assert!(
            entry["e"].as_str().is_some_and(|e| !e.is_empty()),
            "{entry}"
        );
        assert!(
            entry["n"].as_str().is_some_and(|n| !n.is_empty()),
            "{entry}"
        );
        assert!(entry["g"].as_str().is_some(), "{entry}");
        assert!(entry["s"].is_array(), "{entry}");
    }
    let by_code = |code: &str| {
        list.iter()
            .find(|entry| entry["s"].as_array().unwrap().iter().any(|s| s == code))
            .unwrap_or_else(|| panic!("no :{code}:"))
    };
    assert_eq!(by_code("thumbsup")["e"], "👍");
    assert_eq!(by_code("thumbsup")["n"], "thumbs up");
    assert_eq!(by_code("thumbsup")["g"], "people");
    assert_eq!(by_code("rocket")["e"], "🚀");
    assert_eq!(by_code("tada")["e"], "🎉");
    assert_eq!(by_code("tada")["g"], "activities");
    let groups: std::collections::BTreeSet<&str> = list
        .iter()
        .filter_map(|entry| entry["g"].as_str())
        .collect();
    assert_eq!(groups.len(), 9, "{groups:?}");
    assert!(groups.contains("flags") && groups.contains("smileys"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_versioned_emoji_list_is_cached_for_good_and_revalidates() {
    let server = TestServer::spawn().await;
    let client = server.client();
    let version = asset_version(&server).await;
    let versioned = raw_get(
        &client,
        Method::GET,
        &format!("/assets/v-{version}/emoji.json"),
    )
    .await;
    assert_eq!(versioned.status, 200);
    assert_eq!(
        header(&versioned, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let plain = raw_get(&client, Method::GET, "/assets/emoji.json").await;
    assert_eq!(header(&plain, "cache-control"), "no-cache");
    assert_eq!(plain.body, versioned.body);
    let etag = header(&plain, "etag").to_owned();
    assert!(etag.starts_with('"'), "an ETag: {etag:?}");
    let again = client
        .request(Method::GET, "/assets/emoji.json")
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("an HTTP answer");
    assert_eq!(again.status().as_u16(), 304);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_emoji_asset_is_a_404_problem() {
    let server = TestServer::spawn().await;
    let response = raw_get(&server.client(), Method::GET, "/assets/emojis.json").await;
    assert_eq!(response.status, 404);
    assert_eq!(response.content_type(), Some("application/problem+json"));
}
