//! History pages, edits and tombstones, reactions, and full-text search.

use super::*;

fn seqs(page: &[natter_store::MessageRow]) -> Vec<i64> {
    page.iter().map(|m| m.seq).collect()
}

#[tokio::test]
async fn history_pages_in_all_three_directions_and_says_whether_more_lie_beyond() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    for at in 1..=10 {
        f.send("g", "ann", "x", at).await;
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

#[tokio::test]
async fn history_can_be_filtered_by_message_type() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
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

#[tokio::test]
async fn edits_and_deletes_are_reflected_in_search() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    f.send("g", "ann", "Meet me at the café tomorrow", 1).await;
    let message_id = "g-ann-1";
    let search = |q: &'static str| f.store.search_words("bob", q, None, 10);

    let hits = search("cafe").await.unwrap();
    assert_eq!(hits.len(), 1, "diacritics are folded");
    assert!(marked(&hits[0]).contains("[café]"), "{}", marked(&hits[0]));

    let edited = f
        .store
        .edit_message(message_id, "Lunch at noon instead", 5)
        .await
        .unwrap();
    assert_eq!(
        (edited.content.as_str(), edited.edited_at),
        ("Lunch at noon instead", Some(5))
    );
    assert!(
        search("cafe").await.unwrap().is_empty(),
        "old words leave the index"
    );
    assert_eq!(search("noon").await.unwrap()[0].message.id, message_id);

    f.store
        .add_reaction(message_id, "bob", "👍", 6)
        .await
        .unwrap();
    let deleted = f.store.delete_message(message_id, 7).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(
        (deleted.content.as_str(), deleted.file_id.as_deref()),
        ("", None)
    );
    assert!(search("noon").await.unwrap().is_empty());
    assert!(
        f.store
            .reactions(&[message_id.to_string()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        f.store.edit_message(message_id, "again", 8).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.delete_message(message_id, 8).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(f.store.message(message_id).await.unwrap().unwrap(), deleted);
}

#[tokio::test]
async fn search_only_covers_chats_the_user_is_a_member_of_now() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat"]).await;
    f.group("ours", &["ann", "bob"], 1).await;
    f.group("theirs", &["cat", "ann"], 1).await;
    f.send("ours", "ann", "secret plans one", 1).await;
    f.send("theirs", "cat", "secret plans two", 2).await;
    f.send("theirs", "cat", "secret plans three plans", 3).await;

    let chats_of = |hits: Vec<natter_store::SearchRow>| {
        hits.into_iter()
            .map(|h| h.message.chat_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        chats_of(
            f.store
                .search_words("bob", "secret", None, 10)
                .await
                .unwrap()
        ),
        ["ours"]
    );
    assert_eq!(
        f.store
            .search_words("ann", "secret", None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    let only_theirs = f
        .store
        .search_words("ann", "plans", Some("theirs"), 10)
        .await
        .unwrap();
    assert_eq!(
        only_theirs[0].message.id, "theirs-cat-3",
        "more matches rank first"
    );
    assert_eq!(chats_of(only_theirs), ["theirs", "theirs"]);
    assert_eq!(
        f.store
            .search_words("ann", "secret", None, 1)
            .await
            .unwrap()
            .len(),
        1
    );

    assert!(f.store.remove_member("theirs", "ann").await.unwrap());
    assert_eq!(
        chats_of(
            f.store
                .search_words("ann", "secret", None, 10)
                .await
                .unwrap()
        ),
        ["ours"]
    );
}

#[tokio::test]
async fn reactions_are_added_once_and_listed_oldest_first() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    f.send("g", "ann", "one", 1).await;
    f.send("g", "ann", "two", 2).await;
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

#[tokio::test]
async fn every_change_to_a_message_gives_it_the_chats_next_version() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    f.group("other", &["ann"], 1).await;
    for at in 1..=3 {
        f.send("g", "ann", "text", at).await;
    }
    f.send("other", "ann", "elsewhere", 4).await;
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
    let ids: Vec<&str> = page.iter().map(|m| m.id.as_str()).collect();
    assert_eq!((ids, more), (vec!["g-ann-1", "g-ann-3"], true));
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
