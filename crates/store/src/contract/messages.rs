//! History pages, reactions, and the change cursor (versions).

use super::{Backend, Fixture, text};
use crate::{Cursor, MessageRow, StoreError};
use natter_proto::messages::MessageType;

fn seqs(page: &[MessageRow]) -> Vec<i64> {
    page.iter().map(|m| m.seq).collect()
}

fn ids(page: &[MessageRow]) -> Vec<&str> {
    page.iter().map(|m| m.id.as_str()).collect()
}

/// History pages from the newest, backwards and forwards, always in
/// ascending seq order, say exactly whether more lie beyond (so a client
/// knows when to stop scrolling).
pub async fn history_pages_in_all_three_directions_and_says_whether_more_lie_beyond(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for at in 1..=10 {
        f.store.send("g", "ann", "x", at).await;
    }
    let page = |cursor, limit| f.store.list_messages("g", cursor, limit, None);

    let (latest, more) = page(Cursor::Latest, 3).await.unwrap();
    assert_eq!((seqs(&latest), more), (vec![8, 9, 10], true));
    let (older, more) = page(Cursor::Before(8), 3).await.unwrap();
    assert_eq!((seqs(&older), more), (vec![5, 6, 7], true));
    let (oldest, more) = page(Cursor::Before(3), 3).await.unwrap();
    assert_eq!((seqs(&oldest), more), (vec![1, 2], false));
    let (newer, more) = page(Cursor::After(0), 3).await.unwrap();
    assert_eq!((seqs(&newer), more), (vec![1, 2, 3], true));
    let (newest, more) = page(Cursor::After(7), 3).await.unwrap();
    assert_eq!((seqs(&newest), more), (vec![8, 9, 10], false));
    let (exact, more) = page(Cursor::Before(4), 3).await.unwrap();
    assert_eq!((seqs(&exact), more), (vec![1, 2, 3], false));
    let (all, more) = page(Cursor::Latest, 10).await.unwrap();
    assert_eq!((all.len(), more), (10, false));
}

/// A chat's media gallery pages through its images only, with their
/// files.
pub async fn history_can_be_filtered_by_message_type(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for at in 1..=6 {
        let mut message = text(&format!("m{at}"), "g", "ann", "", at);
        if at % 3 == 0 {
            message.message_type = MessageType::Image;
            message.file_id = Some(format!("f{at}"));
        }
        f.store.append_message(message).await.unwrap();
    }
    let (images, more) = f
        .store
        .list_messages("g", Cursor::Latest, 1, Some(MessageType::Image))
        .await
        .unwrap();
    assert_eq!((seqs(&images), more), (vec![6], true));
    assert_eq!(images[0].file_id.as_deref(), Some("f6"));
    assert_eq!(images[0].message_type, MessageType::Image);
}

/// A user's reaction with an emoji exists once (retries change nothing
/// and answer `None`); each real change gives the message the chat's next
/// version; reactions are listed oldest first.
pub async fn reactions_are_added_once_and_listed_oldest_first(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store.send("g", "ann", "one", 1).await;
    f.store.send("g", "ann", "two", 2).await;
    let store = &f.store;
    let add = |message: &'static str, user: &'static str, emoji: &'static str| async move {
        store.add_reaction(message, user, emoji, 10).await.unwrap()
    };
    assert_eq!(
        add("g-ann-2", "bob", "🎉").await,
        Some(3),
        "the chat's next version"
    );
    assert_eq!(add("g-ann-1", "bob", "👍").await, Some(4));
    assert_eq!(add("g-ann-1", "ann", "👍").await, Some(5));
    assert_eq!(add("g-ann-1", "bob", "👍").await, None, "nothing changed");
    assert_eq!(store.chat("g").await.unwrap().unwrap().last_version, 5);
    assert!(matches!(
        store.add_reaction("missing", "bob", "👍", 12).await,
        Err(StoreError::NotFound)
    ));

    let ids = ["g-ann-1".to_string(), "g-ann-2".to_string()];
    let listed: Vec<_> = store
        .reactions(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.message_id, r.user_id, r.emoji))
        .collect();
    let expected = [
        ("g-ann-2", "bob", "🎉"),
        ("g-ann-1", "bob", "👍"),
        ("g-ann-1", "ann", "👍"),
    ];
    assert_eq!(
        listed,
        expected.map(|(m, u, e)| (m.to_string(), u.to_string(), e.to_string()))
    );

    assert_eq!(
        store.remove_reaction("g-ann-1", "bob", "👍").await.unwrap(),
        Some(6)
    );
    assert_eq!(
        store.remove_reaction("g-ann-1", "bob", "👍").await.unwrap(),
        None
    );
    let message = store.message("g-ann-1").await.unwrap().unwrap();
    assert_eq!(message.version, 6);
    assert_eq!(store.reactions(&ids[..1]).await.unwrap().len(), 1);
}

/// Every change to a message (append, edit, reaction, deletion) takes
/// its chat's next version, so a resuming client asks for what changed
/// after the version it holds and gets exactly that, tombstones included.
pub async fn every_change_to_a_message_gives_it_the_chats_next_version(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store.group("other", &["ann"], 1).await;
    for at in 1..=3 {
        f.store.send("g", "ann", "text", at).await;
    }
    f.store.send("other", "ann", "elsewhere", 4).await;
    let version = |chat: &'static str| {
        let store = &f.store;
        async move { store.chat(chat).await.unwrap().unwrap().last_version }
    };
    assert_eq!((version("g").await, version("other").await), (3, 1));
    let edited = f.store.edit_message("g-ann-1", "new", 5).await.unwrap();
    assert_eq!(edited.version, 4);
    assert_eq!(
        f.store
            .add_reaction("g-ann-3", "bob", "👍", 6)
            .await
            .unwrap(),
        Some(5)
    );
    f.store
        .add_reaction("g-ann-2", "bob", "👍", 6)
        .await
        .unwrap();
    let deleted = f.store.delete_message("g-ann-2", 7).await.unwrap();
    assert_eq!(deleted.version, 8, "its reaction went first, at 7");
    assert_eq!(version("g").await, 8);
    assert_eq!(version("other").await, 1, "versions are per chat");

    let (page, more) = f.store.changed_messages("g", 3, 2, None).await.unwrap();
    assert_eq!((ids(&page), more), (vec!["g-ann-1", "g-ann-3"], true));
    let (page, more) = f.store.changed_messages("g", 5, 2, None).await.unwrap();
    assert_eq!(page.len(), 1);
    assert!(page[0].deleted && !more);
    assert!(
        f.store
            .changed_messages("g", 8, 10, None)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

/// A gallery catching up asks for the changed images only, in version
/// order, and learns whether more changed images lie beyond the page.
pub async fn the_change_cursor_can_be_filtered_by_message_type(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for at in 1..=4 {
        let mut message = text(&format!("m{at}"), "g", "ann", "caption", at);
        if at % 2 == 0 {
            message.message_type = MessageType::Image;
            message.file_id = Some(format!("f{at}"));
        }
        f.store.append_message(message).await.unwrap();
    }
    f.store.edit_message("m1", "edited", 5).await.unwrap();
    let changed = |after, limit, kind| f.store.changed_messages("g", after, limit, Some(kind));

    let (page, more) = changed(0, 10, MessageType::Image).await.unwrap();
    assert_eq!((ids(&page), more), (vec!["m2", "m4"], false));
    let (page, more) = changed(0, 1, MessageType::Image).await.unwrap();
    assert_eq!((ids(&page), more), (vec!["m2"], true));
    let (page, more) = changed(2, 1, MessageType::Image).await.unwrap();
    assert_eq!((ids(&page), more), (vec!["m4"], false));
    let (page, more) = changed(0, 10, MessageType::Text).await.unwrap();
    assert_eq!(
        (ids(&page), more),
        (vec!["m3", "m1"], false),
        "m1's edit (version 5) came after m3"
    );
}

/// Whatever mix of new and changed messages lies after a version, each
/// message comes once, at its latest change, in version order, and pages
/// of any size add up to the same list.
pub async fn the_change_cursor_lists_each_message_once_at_its_latest_change(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    for at in 1..=40 {
        f.store.send("g", "ann", &format!("m{at}"), at).await;
    }
    let held = f.store.chat("g").await.unwrap().unwrap().last_version;
    // After `held`: new messages, some of them changed later, and changes
    // to old ones, interleaved.
    for at in 41..=60 {
        f.store.send("g", "bob", &format!("m{at}"), at).await;
        if at % 5 == 0 {
            let old = format!("g-ann-{}", at - 40);
            f.store.edit_message(&old, "changed", at).await.unwrap();
        }
        if at % 7 == 0 {
            let new = format!("g-bob-{at}");
            f.store.add_reaction(&new, "ann", "👍", at).await.unwrap();
        }
    }
    let everything = |after: i64, limit: u32| {
        let store = &f.store;
        async move {
            let (mut all, mut after) = (Vec::new(), after);
            loop {
                let (page, more) = store
                    .changed_messages("g", after, limit, None)
                    .await
                    .unwrap();
                if let Some(last) = page.last() {
                    after = last.version;
                }
                all.extend(page);
                if !more {
                    return all;
                }
            }
        }
    };
    let all = everything(held, 200).await;
    let versions: Vec<i64> = all.iter().map(|m| m.version).collect();
    let mut sorted = versions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(versions, sorted, "ascending, no message twice");
    assert_eq!(all.len(), 20 + 4, "20 new messages and 4 old ones edited");
    assert!(all.iter().all(|m| m.version > held));
    let last = f.store.chat("g").await.unwrap().unwrap().last_version;
    assert_eq!(all.last().unwrap().version, last);
    for page_size in [1, 3, 7] {
        let paged = everything(held, page_size).await;
        assert_eq!(paged, all, "pages of {page_size}");
    }
    assert_eq!(
        everything(0, 200).await.len(),
        60,
        "from the start: every message"
    );
    assert!(everything(last, 5).await.is_empty());
    let versions_of = |id: &str| all.iter().filter(|m| m.id == id).count();
    assert_eq!(versions_of("g-bob-42"), 1, "appended then reacted to: once");
    let reacted = all.iter().position(|m| m.id == "g-bob-42").unwrap();
    let next = all.iter().position(|m| m.id == "g-bob-43").unwrap();
    assert!(reacted < next, "the reaction came before the next message");
}
