//! The change cursor: every message carries the chat `version` of its
//! last change, chats carry `last_version` (in `ready` and the chat list),
//! and `?changed_after=V` pages through what changed since V, so that an
//! edit, a delete or a reaction made while a client was away reaches it
//! when it comes back (REST, and the Rust realtime client on resume and
//! on a restart from saved cursors).

use crate::helpers::{TestServer, assert_api_error, group, send, summary};
use crate::helpers::{next_realtime, realtime_messages_until, realtime_options};
use crate::proxy::CutProxy;
use crate::resume::{connected, disconnected, realtime};
use natter_client::HistoryQuery;
use natter_client::ws::{RealtimeClient, RealtimeEvent, RealtimeOptions, Start};
use natter_proto::ErrorCode;
use natter_proto::messages::Message;
use std::collections::HashMap;

/// Collects `Changed` events (by message id) until `changes` distinct
/// messages changed and at least one new message came.
async fn changes_and_new_messages(
    client: &mut RealtimeClient,
    changes: usize,
) -> (HashMap<String, Message>, Vec<Message>) {
    let mut changed: HashMap<String, Message> = HashMap::new();
    let mut new_messages = Vec::new();
    next_realtime(client, "the changes and the new message", |event| {
        match event {
            RealtimeEvent::Changed(message) => {
                changed.insert(message.message_id.clone(), message.clone());
            }
            RealtimeEvent::Message(message) => new_messages.push(message.clone()),
            _ => {}
        }
        (changed.len() == changes && !new_messages.is_empty()).then_some(())
    })
    .await;
    (changed, new_messages)
}

fn versions(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.version).collect()
}

#[tokio::test]
async fn every_change_raises_the_chat_version_and_changed_after_pages_through_them_in_order() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "edits", &[&bob_auth]).await.summary.chat_id;
    let first = send(&alice, &chat_id, "one").await;
    let second = send(&alice, &chat_id, "two").await;
    let third = send(&alice, &chat_id, "three").await;
    let held = summary(&bob, &chat_id).await.last_version;
    let page = bob.messages(&chat_id, &HistoryQuery::new()).await.unwrap();
    assert_eq!(
        page.messages.iter().map(|m| m.version).max(),
        Some(held),
        "the chat's last_version is its newest change"
    );

    alice
        .edit_message(&first.message_id, "one, edited")
        .await
        .unwrap();
    bob.add_reaction(&second.message_id, "👍").await.unwrap();
    alice.delete_message(&third.message_id).await.unwrap();
    let fourth = send(&alice, &chat_id, "four").await;
    bob.remove_reaction(&second.message_id, "👍").await.unwrap();
    bob.add_reaction(&second.message_id, "🎉").await.unwrap();

    let now = summary(&bob, &chat_id).await.last_version;
    assert!(now > held);
    // Two at a time: more changes than one page.
    let mut changed = Vec::new();
    let mut after = held;
    let mut pages = 0;
    loop {
        let page = bob
            .messages(&chat_id, &HistoryQuery::new().changed_after(after).limit(2))
            .await
            .unwrap();
        pages += 1;
        assert!(page.messages.len() <= 2);
        let more = page.has_more;
        if let Some(last) = page.messages.last() {
            after = last.version;
        }
        changed.extend(page.messages);
        if !more {
            break;
        }
    }
    assert_eq!(pages, 2, "four changed messages, two per page");
    // Each message once, in the order of its latest change.
    let ids: Vec<&str> = changed.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            first.message_id.as_str(),
            third.message_id.as_str(),
            fourth.message_id.as_str(),
            second.message_id.as_str()
        ]
    );
    let mut sorted = versions(&changed);
    sorted.sort();
    assert_eq!(versions(&changed), sorted);
    assert!(changed.iter().all(|m| m.version > held));
    assert_eq!(changed.last().unwrap().version, now);
    assert_eq!(changed[0].content, "one, edited");
    assert!(
        changed[1].deleted && changed[1].content.is_empty(),
        "tombstones are changes"
    );
    assert_eq!(changed[3].reactions.len(), 1);
    assert_eq!(changed[3].reactions[0].emoji, "🎉");
    let nothing = bob
        .messages(&chat_id, &HistoryQuery::new().changed_after(now))
        .await
        .unwrap();
    assert!(nothing.messages.is_empty() && !nothing.has_more);
}

#[tokio::test]
async fn changed_after_goes_with_no_other_cursor_and_is_for_members_only() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (stranger, _) = server.user("stranger").await;
    let chat_id = group(&alice, "private", &[]).await.summary.chat_id;
    send(&alice, &chat_id, "hello").await;
    let both = HistoryQuery::new().after_seq(0).changed_after(0);
    assert_api_error(
        alice.messages(&chat_id, &both).await,
        ErrorCode::InvalidRequest,
    );
    let negative = HistoryQuery::new().changed_after(-1);
    assert_api_error(
        alice.messages(&chat_id, &negative).await,
        ErrorCode::InvalidRequest,
    );
    assert_api_error(
        stranger
            .messages(&chat_id, &HistoryQuery::new().changed_after(0))
            .await,
        ErrorCode::NotFound,
    );
}

#[tokio::test]
async fn ready_and_the_chat_list_carry_the_same_last_version() {
    let server = TestServer::spawn().await;
    let (alice, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "cursor", &[&bob_auth]).await.summary.chat_id;
    let ack = send(&alice, &chat_id, "hi").await;
    alice.add_reaction(&ack.message_id, "👋").await.unwrap();
    let (_socket, ready) = server.socket(&alice_auth.access_token).await;
    let cursor = ready
        .chats
        .iter()
        .find(|chat| chat.chat_id == chat_id)
        .expect("the chat is in ready");
    let listed = summary(&alice, &chat_id).await;
    assert_eq!(cursor.last_version, listed.last_version);
    assert_eq!((cursor.last_seq, listed.last_seq), (1, 1));
    assert!(
        cursor.last_version > cursor.last_seq,
        "the reaction is a change after the message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_a_delete_and_a_reaction_made_while_away_reach_the_client_when_it_is_back() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "away", &[&bob_auth]).await.summary.chat_id;
    let proxy = CutProxy::start(server.base_url()).await;
    let mut bob = realtime(&proxy.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;
    let edited = send(&alice, &chat_id, "typo").await;
    let deleted = send(&alice, &chat_id, "oops").await;
    let liked = send(&alice, &chat_id, "lunch?").await;
    realtime_messages_until(&mut bob, &chat_id, 3).await;

    proxy.cut();
    disconnected(&mut bob).await;
    alice
        .edit_message(&edited.message_id, "no typo")
        .await
        .unwrap();
    alice.delete_message(&deleted.message_id).await.unwrap();
    alice.add_reaction(&liked.message_id, "👍").await.unwrap();
    let new = send(&alice, &chat_id, "while you were away").await;
    proxy.restore();

    let (changed, new_messages) = changes_and_new_messages(&mut bob, 3).await;
    assert_eq!(changed[&edited.message_id].content, "no typo");
    assert!(changed[&edited.message_id].edited_at.is_some());
    assert!(changed[&deleted.message_id].deleted);
    assert_eq!(changed[&liked.message_id].reactions[0].emoji, "👍");
    assert_eq!(new_messages.len(), 1, "the new message comes as a message");
    assert_eq!(new_messages[0].message_id, new.message_id);
    assert!(
        !changed.contains_key(&new.message_id),
        "a message delivered in its current state is no change"
    );

    // Once caught up, a later reconnect fetches nothing again.
    proxy.cut();
    disconnected(&mut bob).await;
    proxy.restore();
    connected(&mut bob).await;
    send(&alice, &chat_id, "after").await;
    let mut again = Vec::new();
    next_realtime(&mut bob, "the next message", |event| match event {
        RealtimeEvent::Changed(message) => {
            again.push(message.clone());
            None
        }
        RealtimeEvent::Message(message) if message.seq == 5 => Some(()),
        _ => None,
    })
    .await;
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn saved_cursors_carry_the_version_so_a_restarted_client_gets_what_changed_while_it_was_stopped()
 {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "saved", &[&bob_auth]).await.summary.chat_id;
    let mut bob = realtime(server.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;
    let edited = send(&alice, &chat_id, "typo").await;
    let liked = send(&alice, &chat_id, "lunch?").await;
    realtime_messages_until(&mut bob, &chat_id, 2).await;
    let saved = bob.handle().cursors().await.expect("the cursors");
    assert_eq!(saved[&chat_id].seq, 2);
    assert!(saved[&chat_id].version.is_some(), "{saved:?}");
    bob.shutdown().await;

    alice
        .edit_message(&edited.message_id, "no typo")
        .await
        .unwrap();
    alice.add_reaction(&liked.message_id, "👍").await.unwrap();
    let new = send(&alice, &chat_id, "while you were out").await;

    let options = RealtimeOptions {
        start: Start::Cursors(saved),
        ..realtime_options()
    };
    let mut bob = realtime(server.base_url(), &bob_auth, options);
    let (changed, new_messages) = changes_and_new_messages(&mut bob, 2).await;
    assert_eq!(changed[&edited.message_id].content, "no typo");
    assert_eq!(changed[&liked.message_id].reactions[0].emoji, "👍");
    assert_eq!(new_messages[0].message_id, new.message_id);
}
