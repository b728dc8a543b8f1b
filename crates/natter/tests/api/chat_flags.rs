//! A member's own marks on a chat (`PATCH /api/v1/chats/{chat_id}/me`):
//! pinned, archived and marked unread are set and cleared one by one,
//! show in the caller's summaries only, reach the caller's other
//! connections as `chat.updated` and never the other members; a read
//! (REST or socket frame) clears `marked_unread` and says so the same
//! way; bad bodies are 400 and a chat the caller is not in is 404.

use crate::helpers::{
    PASSWORD, TestServer, assert_problem, direct, events_until, raw_json, send, summary, wait_for,
};
use natter_client::ws::Connection;
use natter_client::{Client, Method};
use natter_proto::ErrorCode;
use natter_proto::chats::{ChatSummary, MyChatFlags, UpdateMyChat};
use natter_proto::events::{ClientFrame, ServerEvent};
use serde_json::{Value, json};

fn me_path(chat_id: &str) -> String {
    format!("/api/v1/chats/{chat_id}/me")
}

/// PATCHes the caller's marks (through the Rust client) and returns the
/// summary it answers.
async fn patch_mine(client: &Client, chat_id: &str, body: Value) -> ChatSummary {
    let marks: UpdateMyChat = serde_json::from_value(body).expect("valid marks");
    client
        .update_my_chat(chat_id, &marks)
        .await
        .expect("marks set")
}

fn flags(summary: &ChatSummary) -> MyChatFlags {
    summary
        .mine
        .expect("a summary for its member carries their marks")
}

/// The next `chat.updated` of `chat_id` on `socket`.
async fn next_update(socket: &mut Connection, chat_id: &str) -> ChatSummary {
    wait_for(socket, "chat.updated", |event| match event {
        ServerEvent::ChatUpdated { chat } if chat.chat_id == chat_id => Some(chat.clone()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mark_is_set_and_cleared_and_shows_in_the_callers_summaries_only() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    assert_eq!(
        flags(&summary(&alice, &chat_id).await),
        MyChatFlags::default()
    );

    for (field, pick) in [
        (
            "pinned",
            (|f: MyChatFlags| f.pinned) as fn(MyChatFlags) -> bool,
        ),
        ("archived", |f| f.archived),
        ("marked_unread", |f| f.marked_unread),
    ] {
        let set = patch_mine(&alice, &chat_id, json!({ field: true })).await;
        assert!(pick(flags(&set)), "{field} set in the answer");
        assert!(
            pick(flags(&summary(&alice, &chat_id).await)),
            "{field} in GET /chats"
        );
        let detail = alice.chat(&chat_id).await.unwrap();
        assert!(pick(flags(&detail.summary)), "{field} in GET /chats/{{id}}");
        assert_eq!(
            flags(&summary(&bob, &chat_id).await),
            MyChatFlags::default(),
            "{field} is Alice's, not Bob's"
        );
        let cleared = patch_mine(&alice, &chat_id, json!({ field: false })).await;
        assert!(!pick(flags(&cleared)), "{field} cleared");
    }

    // Several at once; a mark not given stays as it is.
    patch_mine(&alice, &chat_id, json!({"pinned": true, "archived": true})).await;
    let after = patch_mine(&alice, &chat_id, json!({"marked_unread": true})).await;
    assert_eq!(
        flags(&after),
        MyChatFlags {
            pinned: true,
            archived: true,
            marked_unread: true,
            muted: false
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_the_callers_other_connection_and_not_the_other_member() {
    let server = TestServer::spawn().await;
    let (alice_phone, _) = server.user("alice").await;
    let laptop_auth = server.client().login("alice", PASSWORD).await.unwrap();
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice_phone, &bob_auth).await.summary.chat_id;
    let (mut laptop, _) = server.socket(&laptop_auth.access_token).await;
    let (mut bobs, _) = server.socket(&bob_auth.access_token).await;

    patch_mine(&alice_phone, &chat_id, json!({"pinned": true})).await;
    let seen = next_update(&mut laptop, &chat_id).await;
    assert!(flags(&seen).pinned, "the laptop sees the pin live");
    assert_eq!(seen.unread_count, 0, "Alice's own view of the chat");

    // Bob hears of Alice's next message, and of no mark before it.
    send(&bob, &chat_id, "after the pin").await;
    let before = events_until(&mut bobs, "Bob's message.new", |event| {
        matches!(event, ServerEvent::MessageNew { .. })
    })
    .await;
    assert!(
        !before
            .iter()
            .any(|event| matches!(event, ServerEvent::ChatUpdated { .. })),
        "Bob got Alice's mark: {before:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_clears_marked_unread_and_tells_the_callers_devices() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut alices, _) = server.socket(&alice_auth.access_token).await;
    let first = send(&bob, &chat_id, "one").await;

    // By REST.
    patch_mine(&alice, &chat_id, json!({"marked_unread": true})).await;
    assert!(flags(&next_update(&mut alices, &chat_id).await).marked_unread);
    alice.mark_read(&chat_id, first.seq).await.unwrap();
    let cleared = next_update(&mut alices, &chat_id).await;
    assert!(!flags(&cleared).marked_unread, "the read cleared the mark");
    assert!(!flags(&summary(&alice, &chat_id).await).marked_unread);

    // By a read frame on the socket.
    let second = send(&bob, &chat_id, "two").await;
    patch_mine(&alice, &chat_id, json!({"marked_unread": true})).await;
    assert!(flags(&next_update(&mut alices, &chat_id).await).marked_unread);
    alices
        .send_frame(&ClientFrame::Read {
            chat_id: chat_id.clone(),
            seq: second.seq,
        })
        .await
        .unwrap();
    let cleared = next_update(&mut alices, &chat_id).await;
    assert!(!flags(&cleared).marked_unread, "the read frame cleared it");

    // Marked unread with nothing new to read: a read that moves nothing
    // leaves the mark (only a moving marker clears it).
    patch_mine(&alice, &chat_id, json!({"marked_unread": true})).await;
    alice.mark_read(&chat_id, second.seq).await.unwrap();
    assert!(flags(&summary(&alice, &chat_id).await).marked_unread);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn muting_in_the_notification_settings_shows_as_muted() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (mut alices, _) = server.socket(&alice_auth.access_token).await;
    let path = format!("/api/v1/chats/{chat_id}/notifications");
    let mute = json!({"level": "all", "muted_until": "2999-01-01T00:00:00.000Z"});
    let answer = raw_json(&alice, Method::PUT, &path, &mute).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(flags(&next_update(&mut alices, &chat_id).await).muted);
    assert!(flags(&summary(&alice, &chat_id).await).muted);

    let past = json!({"level": "all", "muted_until": "2001-01-01T00:00:00.000Z"});
    raw_json(&alice, Method::PUT, &path, &past).await;
    assert!(
        !flags(&summary(&alice, &chat_id).await).muted,
        "a mute that ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_400_and_a_chat_of_others_is_404() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (carol, _) = server.user("carol").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;

    for body in [
        json!({}),
        json!({"pinned": "yes"}),
        json!({"archived": 1}),
        json!({"pinned": true, "colour": "red"}),
        json!({"muted": true}),
        json!(true),
    ] {
        let answer = raw_json(&alice, Method::PATCH, &me_path(&chat_id), &body).await;
        assert_eq!(answer.status, 400, "{body} answered {}", answer.text());
        assert_problem(&answer, ErrorCode::InvalidRequest);
    }
    let answer = raw_json(
        &carol,
        Method::PATCH,
        &me_path(&chat_id),
        &json!({"pinned": true}),
    )
    .await;
    assert_problem(&answer, ErrorCode::NotFound);
    let answer = raw_json(
        &alice,
        Method::PATCH,
        &me_path("no-such-chat"),
        &json!({"pinned": true}),
    )
    .await;
    assert_problem(&answer, ErrorCode::NotFound);
    assert_eq!(
        flags(&summary(&alice, &chat_id).await),
        MyChatFlags::default(),
        "nothing was changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_tells_the_chat_without_the_renamers_marks() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat = crate::helpers::group(&alice, "team", &[&bob_auth]).await;
    let chat_id = chat.summary.chat_id;
    patch_mine(&alice, &chat_id, json!({"pinned": true})).await;
    let (mut bobs, _) = server.socket(&bob_auth.access_token).await;
    alice.rename_chat(&chat_id, "crew").await.unwrap();
    let renamed = next_update(&mut bobs, &chat_id).await;
    assert_eq!(renamed.name.as_deref(), Some("crew"));
    assert_eq!(renamed.mine, None, "Alice's pin is not Bob's business");
}
