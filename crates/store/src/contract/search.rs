//! Full-text search: what it matches, whose chats it looks in, and how
//! it follows edits and deletions.

use super::{Backend, Fixture, marked};
use crate::{SearchRow, StoreError};

/// Search folds diacritics and marks the matched word in the snippet;
/// an edit replaces the words found, a deletion removes the message from
/// results and leaves a tombstone without reactions that cannot change
/// again.
pub async fn edits_and_deletes_are_reflected_in_search(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store
        .send("g", "ann", "Meet me at the café tomorrow", 1)
        .await;
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

/// A user finds messages only in the chats they are a member of now (not
/// in a chat they left), narrowed to one chat on request, best match
/// first, no more than the limit.
pub async fn search_only_covers_chats_the_user_is_a_member_of_now(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("ours", &["ann", "bob"], 1).await;
    f.store.group("theirs", &["cat", "ann"], 1).await;
    f.store.send("ours", "ann", "secret plans one", 1).await;
    f.store.send("theirs", "cat", "secret plans two", 2).await;
    f.store
        .send("theirs", "cat", "secret plans three plans", 3)
        .await;

    let chats_of = |hits: Vec<SearchRow>| {
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

/// Results while typing: every word is required, matched whole and in
/// any case, except the last, which also matches as a prefix; words are
/// words, never operators of the database's query language.
pub async fn search_matches_whole_words_and_the_last_one_as_a_prefix(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    f.store
        .send("g", "ann", "Meet me at the café tomorrow", 1)
        .await;
    let found = |q: &'static str| {
        let store = &f.store;
        async move { store.search_words("ann", q, None, 10).await.unwrap().len() }
    };
    assert_eq!(found("tomo").await, 1, "the last word is a prefix");
    assert_eq!(found("tomo meet").await, 0, "the others are whole words");
    assert_eq!(found("TOMORROW me").await, 1, "in any case");
    assert_eq!(found("meet lunch").await, 0, "every word is required");
    assert_eq!(found("meet OR lunch").await, 0, "OR is a word");
    assert_eq!(found("\"meet").await, 1, "nor are quotes");
}
