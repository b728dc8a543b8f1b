//! Membership: who may add and remove members, roles (channels: only
//! owners and admins post), leaving, and what joining and removal do to
//! access, history, read markers and search.

use crate::helpers::{
    TestServer, assert_api_error, channel, direct, group, history, send, summary,
};
use natter_client::SearchQuery;
use natter_proto::ErrorCode;
use natter_proto::chats::{AddMember, Role};

fn add(user_id: &str, role: Option<Role>) -> AddMember {
    AddMember {
        user_id: user_id.to_owned(),
        role,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_adds_a_member_who_then_sees_the_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    alice
        .add_member(&chat_id, &add(&carol_auth.user.user_id, None))
        .await
        .unwrap();
    let chat = carol.chat(&chat_id).await.unwrap();
    assert_eq!(chat.summary.role, Role::Member);
    assert_eq!(chat.summary.member_count, 3);
    assert!(
        chat.members
            .iter()
            .any(|m| m.user_id == carol_auth.user.user_id)
    );
    assert_eq!(carol.chats().await.unwrap().chats.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_member_may_not_add_members_but_an_admin_may() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let (dave, dave_auth) = server.user("dave").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let result = bob
        .add_member(&chat_id, &add(&carol.user.user_id, None))
        .await;
    assert_api_error(result, ErrorCode::Forbidden);
    alice
        .add_member(&chat_id, &add(&dave_auth.user.user_id, Some(Role::Admin)))
        .await
        .unwrap();
    assert_eq!(dave.chat(&chat_id).await.unwrap().summary.role, Role::Admin);
    dave.add_member(&chat_id, &add(&carol.user.user_id, None))
        .await
        .unwrap();
    assert_eq!(alice.chat(&chat_id).await.unwrap().summary.member_count, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_an_existing_member_is_a_conflict() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let again = alice
        .add_member(&chat_id, &add(&bob.user.user_id, None))
        .await;
    assert_api_error(again, ErrorCode::Conflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_an_unknown_user_fails_without_changing_the_chat() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let ghost = add("00000000-0000-7000-8000-000000000000", None);
    let result = alice.add_member(&chat_id, &ghost).await;
    assert!(
        matches!(
            result.as_ref().err().and_then(|e| e.status()),
            Some(400 | 404)
        ),
        "{result:?}"
    );
    assert_eq!(alice.chat(&chat_id).await.unwrap().summary.member_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_chat_never_gets_a_third_member() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let chat_id = direct(&alice, &bob).await.summary.chat_id;
    let result = alice
        .add_member(&chat_id, &add(&carol.user.user_id, None))
        .await;
    assert!(
        matches!(
            result.as_ref().err().and_then(|e| e.status()),
            Some(400 | 403 | 409)
        ),
        "{result:?}"
    );
    assert_eq!(alice.chat(&chat_id).await.unwrap().members.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_channel_only_owners_and_admins_post() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let chat_id = channel(&alice, "announcements", &[&bob_auth])
        .await
        .summary
        .chat_id;
    send(&alice, &chat_id, "welcome").await;
    assert_api_error(
        bob.send_text(&chat_id, "me too").await,
        ErrorCode::Forbidden,
    );
    alice
        .add_member(&chat_id, &add(&carol_auth.user.user_id, Some(Role::Admin)))
        .await
        .unwrap();
    send(&carol, &chat_id, "admin here").await;
    let seen: Vec<_> = history(&bob, &chat_id)
        .await
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(seen, ["welcome", "admin here"], "members read the channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_member_may_not_remove_others() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_, carol) = server.user("carol").await;
    let chat_id = group(&alice, "team", &[&bob_auth, &carol])
        .await
        .summary
        .chat_id;
    let result = bob.remove_member(&chat_id, &carol.user.user_id).await;
    assert_api_error(result, ErrorCode::Forbidden);
    let result = bob.remove_member(&chat_id, &alice_auth.user.user_id).await;
    assert_api_error(result, ErrorCode::Forbidden);
    assert_eq!(alice.chat(&chat_id).await.unwrap().summary.member_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_can_leave_and_then_loses_access() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    send(&alice, &chat_id, "hello").await;
    bob.remove_member(&chat_id, &bob_auth.user.user_id)
        .await
        .unwrap();
    assert_api_error(bob.chat(&chat_id).await, ErrorCode::NotFound);
    assert!(bob.chats().await.unwrap().chats.is_empty());
    assert_eq!(alice.chat(&chat_id).await.unwrap().summary.member_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_loses_the_chat_its_history_and_its_search_results() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let message_id = send(&alice, &chat_id, "the quarterly pineapple report")
        .await
        .message_id;
    let found = bob.search(&SearchQuery::new("pineapple")).await.unwrap();
    assert_eq!(found.results.len(), 1, "members find it before removal");
    // Bob posts before his removal too: the server remembers who may post
    // where, and must forget it when he is removed.
    send(&bob, &chat_id, "noted").await;

    alice
        .remove_member(&chat_id, &bob_auth.user.user_id)
        .await
        .unwrap();
    assert_api_error(bob.chat(&chat_id).await, ErrorCode::NotFound);
    let page = bob.messages(&chat_id, &Default::default()).await;
    assert_api_error(page, ErrorCode::NotFound);
    assert_api_error(
        bob.send_text(&chat_id, "still here?").await,
        ErrorCode::NotFound,
    );
    assert_api_error(
        bob.add_reaction(&message_id, "👋").await,
        ErrorCode::NotFound,
    );
    assert_api_error(bob.receipts(&message_id).await, ErrorCode::NotFound);
    let found = bob.search(&SearchQuery::new("pineapple")).await.unwrap();
    assert!(
        found.results.is_empty(),
        "no search results from a former chat"
    );
    let scoped = bob
        .search(&SearchQuery::new("pineapple").in_chat(&chat_id))
        .await;
    assert!(scoped.map(|r| r.results.is_empty()).unwrap_or(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_member_can_read_earlier_history_which_counts_as_read() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    send(&alice, &chat_id, "before carol").await;
    send(&alice, &chat_id, "still before").await;
    alice
        .add_member(&chat_id, &add(&carol_auth.user.user_id, None))
        .await
        .unwrap();
    let entry = summary(&carol, &chat_id).await;
    assert_eq!(
        (entry.last_seq, entry.read_seq, entry.unread_count),
        (2, 2, 0)
    );
    assert_eq!(history(&carol, &chat_id).await.len(), 2);
    send(&alice, &chat_id, "after carol").await;
    assert_eq!(summary(&carol, &chat_id).await.unread_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_can_be_added_back() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    send(&bob, &chat_id, "first stay").await;
    alice
        .remove_member(&chat_id, &bob_auth.user.user_id)
        .await
        .unwrap();
    assert_api_error(bob.send_text(&chat_id, "away").await, ErrorCode::NotFound);
    alice
        .add_member(&chat_id, &add(&bob_auth.user.user_id, None))
        .await
        .unwrap();
    assert_eq!(bob.chat(&chat_id).await.unwrap().summary.role, Role::Member);
    assert_eq!(send(&bob, &chat_id, "back again").await.seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_someone_who_is_not_a_member_is_not_found() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[]).await.summary.chat_id;
    let result = alice.remove_member(&chat_id, &bob.user.user_id).await;
    assert_api_error(result, ErrorCode::NotFound);
}
