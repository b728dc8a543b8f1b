//! A group's profile: topic, description and avatar set by its owner or
//! admins in `PATCH /api/v1/chats/{id}`, checked against their limits,
//! announced as `chat.updated`, and an avatar every member (also a later
//! one) can load while the orphan sweep leaves its file alone.

use crate::fixtures::{decode, file_path, get, ok, pdf, png, upload};
use crate::helpers::{
    TestServer, WAIT, assert_api_error, assert_problem, direct, eventually, group, raw_json,
    summary, wait_for,
};
use natter_client::Method;
use natter_proto::ErrorCode;
use natter_proto::chats::{AddMember, Role, UpdateChat};
use natter_proto::events::ServerEvent;

fn topic(text: &str) -> UpdateChat {
    UpdateChat {
        topic: Some(Some(text.to_owned())),
        ..Default::default()
    }
}

fn avatar(file_id: &str) -> UpdateChat {
    UpdateChat {
        avatar_file_id: Some(Some(file_id.to_owned())),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_sets_topic_and_description_and_members_hear_of_it() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let (mut bob_socket, _) = server.socket(&bob_auth.access_token).await;

    let changed = alice
        .update_chat(
            &chat_id,
            &UpdateChat {
                name: Some("Team".into()),
                topic: Some(Some("  Release on Friday ".into())),
                description: Some(Some("Line one\nLine two".into())),
                ..Default::default()
            },
        )
        .await
        .expect("the owner changes the profile");
    assert_eq!(changed.summary.name.as_deref(), Some("Team"));
    assert_eq!(changed.summary.topic.as_deref(), Some("Release on Friday"));
    assert_eq!(changed.description.as_deref(), Some("Line one\nLine two"));

    let heard = wait_for(&mut bob_socket, "chat.updated", |event| match event {
        ServerEvent::ChatUpdated { chat } if chat.chat_id == chat_id => Some(chat.clone()),
        _ => None,
    })
    .await;
    assert_eq!(heard.topic.as_deref(), Some("Release on Friday"));
    assert_eq!(heard.name.as_deref(), Some("Team"));
    let seen = bob.chat(&chat_id).await.unwrap();
    assert_eq!(seen.description.as_deref(), Some("Line one\nLine two"));
    assert_eq!(
        summary(&bob, &chat_id).await.topic.as_deref(),
        Some("Release on Friday")
    );

    // Absent fields stay; null and "" clear.
    let kept = alice.update_chat(&chat_id, &topic("Next")).await.unwrap();
    assert_eq!(kept.description.as_deref(), Some("Line one\nLine two"));
    let cleared = raw_json(
        &alice,
        Method::PATCH,
        &format!("/api/v1/chats/{chat_id}"),
        &serde_json::json!({"topic": null, "description": ""}),
    )
    .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    let chat = bob.chat(&chat_id).await.unwrap();
    assert_eq!((chat.summary.topic, chat.description), (None, None));
    assert_eq!(chat.summary.name.as_deref(), Some("Team"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owner_and_admins_change_a_groups_profile_and_never_a_direct_chats() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let (mallory, _) = server.user("mallory").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    alice
        .add_member(
            &chat_id,
            &AddMember {
                user_id: carol_auth.user.user_id.clone(),
                role: Some(Role::Admin),
            },
        )
        .await
        .unwrap();

    assert_api_error(
        bob.update_chat(&chat_id, &topic("mine")).await,
        ErrorCode::Forbidden,
    );
    assert_api_error(
        mallory.update_chat(&chat_id, &topic("mine")).await,
        ErrorCode::NotFound,
    );
    let by_admin = carol
        .update_chat(&chat_id, &topic("admin's"))
        .await
        .unwrap();
    assert_eq!(by_admin.summary.topic.as_deref(), Some("admin's"));

    let pair = direct(&alice, &bob_auth).await.summary.chat_id;
    let problem = assert_api_error(
        alice.update_chat(&pair, &topic("us")).await,
        ErrorCode::InvalidRequest,
    );
    assert!(problem.detail.contains("direct"), "{problem:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_fields_have_limits_named_in_the_answer() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let path = format!("/api/v1/chats/{chat_id}");
    let cases = [
        (serde_json::json!({}), "name, topic"),
        (serde_json::json!({"topic": "t".repeat(251)}), "topic"),
        (serde_json::json!({"topic": "two\nlines"}), "topic"),
        (
            serde_json::json!({"description": "d".repeat(2001)}),
            "description",
        ),
        (serde_json::json!({"name": ""}), "name"),
        (serde_json::json!({"avatar_file_id": 5}), "avatar_file_id"),
    ];
    for (body, named) in cases {
        let answer = raw_json(&alice, Method::PATCH, &path, &body).await;
        let problem = assert_problem(&answer, ErrorCode::InvalidRequest);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(named), "{body} -> {detail}");
    }
    // At the limits it is fine.
    let answer = raw_json(
        &alice,
        Method::PATCH,
        &path,
        &serde_json::json!({"topic": "t".repeat(250), "description": "d\n".repeat(1000)}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_avatar_must_be_an_image_of_the_editors_own() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let bobs = upload(&bob, "bob.png", &png(60, 60), "image/png").await;
    assert_api_error(
        alice.update_chat(&chat_id, &avatar(&bobs.file_id)).await,
        ErrorCode::NotFound,
    );
    let document = upload(&alice, "cv.pdf", &pdf(600), "application/pdf").await;
    assert_api_error(
        alice
            .update_chat(&chat_id, &avatar(&document.file_id))
            .await,
        ErrorCode::InvalidRequest,
    );
    assert_eq!(bob.chat(&chat_id).await.unwrap().summary.avatar_url, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_old_and_new_load_the_avatar_and_outsiders_do_not() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let (mallory, _) = server.user("mallory").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let picture = upload(&alice, "team.png", &png(640, 400), "image/png").await;
    let (mut bob_socket, _) = server.socket(&bob_auth.access_token).await;
    let changed = alice
        .update_chat(&chat_id, &avatar(&picture.file_id))
        .await
        .unwrap();
    assert!(changed.summary.avatar_url.is_some());
    let heard = wait_for(
        &mut bob_socket,
        "chat.updated with an avatar",
        |event| match event {
            ServerEvent::ChatUpdated { chat } if chat.chat_id == chat_id => chat.avatar_url.clone(),
            _ => None,
        },
    )
    .await;
    assert!(
        heard.contains(&format!("&user={}&", bob_auth.user.user_id)),
        "the announced link is issued to Bob, not to Alice who set it: {heard}"
    );
    ok(
        get(&bob.without_token(), &heard).await,
        "the announced link",
    );

    let link = summary(&bob, &chat_id)
        .await
        .avatar_url
        .expect("bob's avatar_url");
    let served = ok(get(&bob.without_token(), &link).await, "bob's avatar link");
    assert!(decode(&served.body).width() <= 320, "a thumbnail");
    ok(
        get(&bob, &file_path(&picture.file_id)).await,
        "bob by token",
    );
    // An outsider cannot read it by token.
    assert_eq!(
        get(&mallory, &file_path(&picture.file_id)).await.status,
        404
    );

    // A member added later sees it too.
    alice
        .add_member(
            &chat_id,
            &AddMember {
                user_id: carol_auth.user.user_id.clone(),
                role: None,
            },
        )
        .await
        .unwrap();
    let carols = summary(&carol, &chat_id)
        .await
        .avatar_url
        .expect("carol's avatar_url");
    ok(get(&carol.without_token(), &carols).await, "carol's link");
    ok(
        get(&carol, &file_path(&picture.file_id)).await,
        "carol by token",
    );

    // Cleared: no link any more.
    let cleared = raw_json(
        &alice,
        Method::PATCH,
        &format!("/api/v1/chats/{chat_id}"),
        &serde_json::json!({"avatar_file_id": null}),
    )
    .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text());
    assert_eq!(summary(&bob, &chat_id).await.avatar_url, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orphan_sweep_keeps_a_chats_avatar() {
    let mut server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let picture = upload(&alice, "team.png", &png(80, 80), "image/png").await;
    alice
        .update_chat(&chat_id, &avatar(&picture.file_id))
        .await
        .unwrap();
    server
        .restart_with(|settings| {
            settings.files.orphan_ttl_secs = 0;
            settings.files.orphan_sweep_secs = 1;
        })
        .await;
    let alice = alice.with_base_url(server.base_url());
    let bob = bob.with_base_url(server.base_url());
    // A sweep has run once a fresh orphan is gone.
    let marker = upload(&alice, "marker.pdf", &pdf(100), "application/pdf").await;
    let marker_path = file_path(&marker.file_id);
    eventually("a sweep", WAIT, || async {
        (get(&alice, &marker_path).await.status == 404).then_some(())
    })
    .await;
    ok(
        get(&bob, &file_path(&picture.file_id)).await,
        "the avatar after a sweep",
    );
    let link = summary(&bob, &chat_id)
        .await
        .avatar_url
        .expect("an avatar_url");
    ok(
        get(&bob.without_token(), &link).await,
        "its link after a sweep",
    );
}
