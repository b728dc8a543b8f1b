//! Full-text message search: ranking, HTML-safe highlights, edits and
//! deletes reflected, and visibility limited to the caller's current chats.

use crate::helpers::{TestServer, assert_api_error, group, raw_get, send};
use natter_client::{Method, SearchQuery};
use natter_proto::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_matching_messages_with_a_marked_highlight() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let hit = send(&alice, &chat_id, "the deploy is done").await;
    send(&alice, &chat_id, "lunch at noon").await;
    let found = alice.search(&SearchQuery::new("deploy")).await.unwrap();
    assert_eq!(found.results.len(), 1);
    let result = &found.results[0];
    assert_eq!(result.message.message_id, hit.message_id);
    assert_eq!(result.message.chat_id, chat_id);
    assert!(
        result.highlight.contains("<mark>deploy</mark>"),
        "{}",
        result.highlight
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn highlights_escape_html_in_the_content() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    send(&alice, &chat_id, "<script>kiwi</script> & co").await;
    let found = alice.search(&SearchQuery::new("kiwi")).await.unwrap();
    assert_eq!(found.results.len(), 1);
    let highlight = &found.results[0].highlight;
    assert!(!highlight.contains("<script>"), "{highlight}");
    assert!(
        highlight.contains("&lt;script&gt;<mark>kiwi</mark>&lt;/script&gt;"),
        "{highlight}"
    );
    assert!(highlight.contains("&amp;"), "{highlight}");
    assert_eq!(
        found.results[0].message.content,
        "<script>kiwi</script> & co"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn better_matches_rank_first() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let weak = send(
        &alice,
        &chat_id,
        "a long message about many things such as weather, trains, lunch, \
         meetings, holidays and finally one mention of mango near the end",
    )
    .await;
    let strong = send(&alice, &chat_id, "mango mango mango").await;
    let found = alice.search(&SearchQuery::new("mango")).await.unwrap();
    let ids: Vec<_> = found
        .results
        .iter()
        .map(|r| r.message.message_id.as_str())
        .collect();
    assert_eq!(ids, [strong.message_id.as_str(), weak.message_id.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reflects_edits_and_deletes() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let edited = send(&alice, &chat_id, "meet at the apple tree").await;
    let deleted = send(&alice, &chat_id, "the secret word is walnut").await;
    alice
        .edit_message(&edited.message_id, "meet at the pear tree")
        .await
        .unwrap();
    alice.delete_message(&deleted.message_id).await.unwrap();
    let count = |q: &'static str| {
        let alice = alice.clone();
        async move {
            alice
                .search(&SearchQuery::new(q))
                .await
                .unwrap()
                .results
                .len()
        }
    };
    assert_eq!(
        count("apple").await,
        0,
        "old content is gone from the index"
    );
    assert_eq!(count("pear").await, 1, "new content is indexed");
    assert_eq!(count("walnut").await, 0, "tombstones are not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_only_covers_chats_the_caller_is_in() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, _) = server.user("carol").await;
    let shared = group(&alice, "shared", &[&bob_auth]).await.summary.chat_id;
    let private = group(&alice, "private", &[]).await.summary.chat_id;
    send(&alice, &shared, "banana for everyone").await;
    send(&alice, &private, "banana for alice").await;
    assert_eq!(
        alice
            .search(&SearchQuery::new("banana"))
            .await
            .unwrap()
            .results
            .len(),
        2
    );
    let bobs = bob
        .search(&SearchQuery::new("banana"))
        .await
        .unwrap()
        .results;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].message.chat_id, shared);
    assert!(
        carol
            .search(&SearchQuery::new("banana"))
            .await
            .unwrap()
            .results
            .is_empty()
    );
    let scoped = bob
        .search(&SearchQuery::new("banana").in_chat(&private))
        .await;
    match scoped {
        Ok(results) => assert!(results.results.is_empty()),
        Err(error) => assert_eq!(error.status(), Some(404), "{error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_can_be_limited_to_one_chat_and_a_count() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let one = group(&alice, "one", &[]).await.summary.chat_id;
    let two = group(&alice, "two", &[]).await.summary.chat_id;
    for i in 0..3 {
        send(&alice, &one, &format!("cherry {i}")).await;
        send(&alice, &two, &format!("cherry {i}")).await;
    }
    let scoped = alice
        .search(&SearchQuery::new("cherry").in_chat(&two))
        .await
        .unwrap();
    assert_eq!(scoped.results.len(), 3);
    assert!(scoped.results.iter().all(|r| r.message.chat_id == two));
    let limited = alice
        .search(&SearchQuery::new("cherry").limit(4))
        .await
        .unwrap();
    assert_eq!(limited.results.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_query_is_an_invalid_request() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let result = alice.search(&SearchQuery::new("")).await;
    assert_api_error(result, ErrorCode::InvalidRequest);
    let response = raw_get(&alice, Method::GET, "/api/v1/search/messages").await;
    assert_eq!(response.status, 400, "{}", response.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_syntax_characters_never_cause_a_server_error() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    send(
        &alice,
        &chat_id,
        "quotes \"and\" stars* (parens) NEAR OR AND",
    )
    .await;
    for q in [
        "\"unbalanced",
        "stars*",
        "(parens",
        "NOT",
        "a OR",
        "col:umn",
        "^caret",
        "-minus",
        "'",
    ] {
        let result = alice.search(&SearchQuery::new(q)).await;
        match result {
            Ok(_) => {}
            Err(error) => assert_eq!(error.status(), Some(400), "{q:?}: {error}"),
        }
    }
    let found = alice.search(&SearchQuery::new("parens")).await.unwrap();
    assert_eq!(found.results.len(), 1);
}
