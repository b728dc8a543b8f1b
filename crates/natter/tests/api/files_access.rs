//! Who may read a file: its uploader, the members of a chat where a live
//! message carries it (a removed member, or everyone after the message is
//! deleted, loses it), and anyone holding a valid signed link while the
//! user it was issued to may read the file (each recipient of a message
//! gets links of their own). Links that are tampered with or expired open
//! nothing; no credentials at all is 401. Uploads nobody posted are swept after the orphan TTL.

use crate::fixtures::{
    file_message, file_path, get, jpeg, ok, pdf, png, query_param, upload, with_param,
};
use crate::helpers::{TestServer, WAIT, assert_problem, eventually, group, history, new_messages};
use natter_client::Client;
use natter_proto::ErrorCode;
use natter_proto::messages::MessageType;
use std::time::{SystemTime, UNIX_EPOCH};

/// Asserts that `client` reading `url` gets 404 problem details.
async fn assert_hidden(client: &Client, url: &str, who: &str) {
    let response = get(client, url).await;
    assert_eq!(response.status, 404, "{who}: {}", response.text());
    assert_problem(&response, ErrorCode::NotFound);
}

/// Asserts that `client` reading `url` gets the bytes.
async fn assert_readable(client: &Client, url: &str, who: &str) {
    ok(get(client, url).await, who);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uploader_and_members_of_the_chat_read_it_by_token_and_outsiders_do_not() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, _) = server.user("carol").await;
    let chat = group(&alice, "pair", &[&bob_auth]).await;
    let info = upload(&alice, "plan.pdf", &pdf(3_000), "application/pdf").await;
    let path = file_path(&info.file_id);

    assert_readable(&alice, &path, "the uploader, before posting").await;
    assert_hidden(&bob, &path, "a member, before it is posted").await;

    let message = file_message(&chat.summary.chat_id, MessageType::File, &info.file_id, "");
    alice.send(&message).await.expect("a file message");
    assert_readable(&alice, &path, "the uploader").await;
    assert_readable(&bob, &path, "a member of the chat").await;
    assert_hidden(&carol, &path, "a non-member").await;
    assert_hidden(
        &carol,
        &format!("{path}?variant=thumb"),
        "a non-member's thumb",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_loses_access_to_the_chats_files() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "team", &[&bob_auth]).await;
    let info = upload(&alice, "team.png", &png(100, 80), "image/png").await;
    let message = file_message(&chat.summary.chat_id, MessageType::Image, &info.file_id, "");
    alice.send(&message).await.expect("an image message");
    let path = file_path(&info.file_id);
    assert_readable(&bob, &path, "bob while a member").await;

    alice
        .remove_member(&chat.summary.chat_id, &bob_auth.user.user_id)
        .await
        .expect("removing bob");
    assert_hidden(&bob, &path, "bob after removal").await;
    assert_hidden(&bob, &format!("{path}?variant=thumb"), "bob's thumbnail").await;
    assert_readable(&alice, &path, "the uploader").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_message_takes_the_file_away_from_that_chat_only() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, carol_auth) = server.user("carol").await;
    let first = group(&alice, "first", &[&bob_auth]).await;
    let second = group(&alice, "second", &[&bob_auth, &carol_auth]).await;
    let info = upload(&alice, "shared.pdf", &pdf(1_000), "application/pdf").await;
    let path = file_path(&info.file_id);
    let in_first = alice
        .send(&file_message(
            &first.summary.chat_id,
            MessageType::File,
            &info.file_id,
            "",
        ))
        .await
        .expect("posted in the first chat");
    let in_second = alice
        .send(&file_message(
            &second.summary.chat_id,
            MessageType::File,
            &info.file_id,
            "",
        ))
        .await
        .expect("posted in the second chat");

    alice.delete_message(&in_second.message_id).await.unwrap();
    assert_hidden(&carol, &path, "carol, whose only chat lost it").await;
    assert_readable(&bob, &path, "bob, who still has it in the first chat").await;

    alice.delete_message(&in_first.message_id).await.unwrap();
    assert_hidden(&bob, &path, "bob, once both messages are gone").await;
    assert_readable(&alice, &path, "the uploader").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_link_opens_nothing() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let anonymous = alice.without_token();
    let photo = upload(&alice, "a.jpg", &jpeg(400, 300), "image/jpeg").await;
    let other = upload(&alice, "b.pdf", &pdf(500), "application/pdf").await;
    assert_readable(&anonymous, &photo.url, "the genuine link").await;

    let sig = query_param(&photo.url, "sig").expect("a signature");
    let expires: u64 = query_param(&photo.url, "expires")
        .and_then(|e| e.parse().ok())
        .expect("an expiry");
    let mut flipped = sig.to_owned().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let tampered = [
        (
            with_param(&photo.url, "sig", &flipped),
            "one signature character",
        ),
        (
            with_param(&photo.url, "sig", &sig[..sig.len() - 2]),
            "a cut signature",
        ),
        (
            with_param(&photo.url, "sig", "not*base64"),
            "garbage signature",
        ),
        (
            with_param(&photo.url, "expires", &(expires + 86_400).to_string()),
            "a later expiry",
        ),
        (
            with_param(&photo.url, "variant", "thumb"),
            "another variant",
        ),
        (
            photo.url.replace(&photo.file_id, &other.file_id),
            "another file's id",
        ),
    ];
    for (url, what) in tampered {
        assert_hidden(&anonymous, &url, what).await;
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_opens_nothing_but_the_token_still_works() {
    let server = TestServer::spawn_with(|settings| settings.files.link_ttl_secs = 1).await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "a.png", &png(64, 64), "image/png").await;
    let expires: u64 = query_param(&info.url, "expires")
        .and_then(|e| e.parse().ok())
        .expect("an expiry");
    // Waits (with a deadline) for the clock to pass the link's expiry.
    eventually("the link's expiry to pass", WAIT, || async {
        (unix_now() > expires).then_some(())
    })
    .await;
    let anonymous = alice.without_token();
    assert_hidden(&anonymous, &info.url, "the expired link").await;
    assert_hidden(
        &anonymous,
        &info.thumbnail_url.clone().unwrap(),
        "the expired thumbnail link",
    )
    .await;
    let backdated = with_param(&info.url, "expires", &(unix_now() - 60).to_string());
    assert_hidden(&anonymous, &backdated, "a link made to look older").await;
    assert_readable(&alice, &file_path(&info.file_id), "the uploader's token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_or_a_signature_a_file_is_unauthorized() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let info = upload(&alice, "a.pdf", &pdf(500), "application/pdf").await;
    let anonymous = alice.without_token();
    let path = file_path(&info.file_id);
    let response = get(&anonymous, &path).await;
    assert_problem(&response, ErrorCode::Unauthorized);
    let expires_only = format!("{path}?expires={}", unix_now() + 600);
    assert_problem(
        &get(&anonymous, &expires_only).await,
        ErrorCode::Unauthorized,
    );
    let bad_token = anonymous.with_token("not-a-jwt");
    assert_problem(&get(&bad_token, &path).await, ErrorCode::Unauthorized);
    // And an unknown file is a plain 404 to a signed-in user.
    let unknown = file_path("01900000-0000-7000-8000-000000000000");
    assert_hidden(&alice, &unknown, "an unknown id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_nobody_posted_is_swept_while_posted_files_and_avatars_stay() {
    let mut server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = group(&alice, "keep", &[&bob_auth]).await;
    let orphan = upload(&alice, "forgotten.pdf", &pdf(700), "application/pdf").await;
    let posted = upload(&alice, "kept.pdf", &pdf(800), "application/pdf").await;
    let avatar = upload(&alice, "me.png", &png(80, 80), "image/png").await;
    alice
        .send(&file_message(
            &chat.summary.chat_id,
            MessageType::File,
            &posted.file_id,
            "",
        ))
        .await
        .expect("posting one file");
    alice
        .update_me(&natter_proto::users::UpdateMe {
            avatar_file_id: Some(avatar.file_id.clone()),
            ..Default::default()
        })
        .await
        .expect("setting the avatar");

    // Every upload is now older than the orphan TTL; the sweep runs often.
    server
        .restart_with(|settings| {
            settings.files.orphan_ttl_secs = 0;
            settings.files.orphan_sweep_secs = 1;
        })
        .await;
    let alice = alice.with_base_url(server.base_url());
    let bob = bob.with_base_url(server.base_url());
    let orphan_path = file_path(&orphan.file_id);
    eventually("the orphan to be swept", WAIT, || async {
        (get(&alice, &orphan_path).await.status == 404).then_some(())
    })
    .await;
    assert_hidden(&alice, &orphan_path, "the swept upload").await;
    for (who, client) in [("alice", &alice), ("bob", &bob)] {
        assert_readable(client, &file_path(&posted.file_id), who).await;
        assert_readable(client, &file_path(&avatar.file_id), who).await;
    }
    // A later sweep (proved by a new orphan going) keeps them too.
    let marker = upload(&alice, "marker.pdf", &pdf(100), "application/pdf").await;
    let marker_path = file_path(&marker.file_id);
    eventually("a later sweep", WAIT, || async {
        (get(&alice, &marker_path).await.status == 404).then_some(())
    })
    .await;
    assert_readable(&bob, &file_path(&posted.file_id), "bob, later").await;
    assert_readable(&alice, &file_path(&avatar.file_id), "the avatar, later").await;
}

/// The links of a file object: the original's and the thumbnail's.
fn links_of(file: &natter_proto::messages::FileRef) -> [String; 2] {
    [
        file.url.clone(),
        file.thumbnail_url
            .clone()
            .expect("an image has a thumbnail"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_links_name_their_user_and_die_with_that_users_access() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (_carol, carol_auth) = server.user("carol").await;
    let chat = group(&alice, "team", &[&bob_auth, &carol_auth]).await;
    let chat_id = chat.summary.chat_id.clone();
    let (mut bob_socket, _) = server.socket(&bob_auth.access_token).await;
    let (mut carol_socket, _) = server.socket(&carol_auth.access_token).await;
    let info = upload(&alice, "team.png", &png(100, 80), "image/png").await;
    let message = file_message(&chat_id, MessageType::Image, &info.file_id, "");
    alice.send(&message).await.expect("an image message");

    // Each recipient's live copy carries links issued to them.
    let live_for_bob = new_messages(&mut bob_socket, &chat_id, 1).await.remove(0);
    let live_for_carol = new_messages(&mut carol_socket, &chat_id, 1).await.remove(0);
    let bob_live = links_of(live_for_bob.file.as_ref().expect("a file"));
    let carol_live = links_of(live_for_carol.file.as_ref().expect("a file"));
    for (links, auth) in [(&bob_live, &bob_auth), (&carol_live, &carol_auth)] {
        for link in links {
            assert_eq!(
                query_param(link, "user"),
                Some(auth.user.user_id.as_str()),
                "{link}"
            );
        }
    }
    // And so does what they read over REST.
    let page = history(&bob, &chat_id).await;
    let bob_rest = links_of(page[0].file.as_ref().expect("a file"));
    assert_eq!(
        query_param(&bob_rest[0], "user"),
        Some(bob_auth.user.user_id.as_str())
    );

    let anonymous = server.client();
    for link in bob_live.iter().chain(&bob_rest).chain(&carol_live) {
        assert_readable(&anonymous, link, "a member's link").await;
    }
    // Naming another user breaks the signature.
    let forged = with_param(&bob_live[0], "user", &alice_auth.user.user_id);
    assert_hidden(&anonymous, &forged, "a link given another user").await;

    alice
        .remove_member(&chat_id, &bob_auth.user.user_id)
        .await
        .expect("removing bob");
    for link in bob_live.iter().chain(&bob_rest) {
        assert_hidden(&anonymous, link, "bob's link after his removal").await;
    }
    for link in &carol_live {
        assert_readable(&anonymous, link, "carol's link, who is still a member").await;
    }
    assert_readable(&anonymous, &info.url, "the uploader's own link").await;
}
