//! The append path: gap-free sequence numbers under concurrency and
//! across restarts, idempotent retries, who may post, and the feed of
//! committed messages.

use super::{Backend, Fixture, append_concurrently, appended, channel, next_commit, text};
use crate::{Appended, Conflict, Cursor, StoreError};
use natter_proto::messages::Metadata;

/// Messages sent to one chat at the same moment get the seqs 1..N, each
/// once, with no gap: clients detect missed messages by gaps.
pub async fn concurrent_appends_to_one_chat_get_seqs_one_to_n_without_gaps(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let store = &f.store;

    let seqs = append_concurrently(store, &["ann", "bob"], 50).await;
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    assert_eq!(store.chat("g").await.unwrap().unwrap().last_seq, 50);
    let (page, has_more) = store
        .list_messages("g", Cursor::Latest, 100, None)
        .await
        .unwrap();
    assert!(!has_more);
    assert_eq!(
        page.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<i64>>()
    );
}

/// A client resending after a lost answer (same sender, same
/// `client_msg_id`) gets the original message back and nothing is stored
/// twice; another sender's equal client id is another message.
pub async fn a_retried_client_msg_id_returns_the_original_and_stores_nothing(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let mut first = text("m1", "g", "ann", "hello", 100);
    first.client_msg_id = Some("c1".into());
    first.metadata = Metadata {
        mentions: Some(vec!["bob".into()]),
        ..Metadata::default()
    };
    let (original, created) = appended(f.store.append_message(first).await.unwrap());
    assert!(created);

    let mut retry = text("m2", "g", "ann", "hello again", 200);
    retry.client_msg_id = Some("c1".into());
    let (again, created) = appended(f.store.append_message(retry).await.unwrap());
    assert!(!created);
    assert_eq!(again, original);
    assert_eq!(again.metadata.mentions, Some(vec!["bob".to_string()]));
    assert_eq!(f.store.chat("g").await.unwrap().unwrap().last_seq, 1);
    assert!(f.store.message("m2").await.unwrap().is_none());

    // The key is per sender: bob may use the same client id.
    let mut bobs = text("m3", "g", "bob", "hi", 300);
    bobs.client_msg_id = Some("c1".into());
    assert_eq!(
        appended(f.store.append_message(bobs).await.unwrap()).0.seq,
        2
    );
}

/// After a restart, a chat's next message continues its seqs and its
/// history is all there.
pub async fn seq_survives_close_and_reopen(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for at in 1..=3 {
        f.store.send("g", "ann", "before restart", at).await;
    }
    let f = backend.reopen(f).await;
    assert_eq!(f.store.send("g", "ann", "after restart", 4).await, 4);
    assert_eq!(
        f.store
            .list_messages("g", Cursor::Latest, 10, None)
            .await
            .unwrap()
            .0
            .len(),
        4
    );
}

/// An append that is refused or fails (no such chat, a duplicate message
/// id) takes no seq: the next message still follows without a gap.
pub async fn appending_to_a_missing_chat_is_refused_and_uses_no_seq(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    let missing = f
        .store
        .append_message(text("m1", "nope", "ann", "x", 1))
        .await;
    assert!(matches!(missing, Ok(Appended::NotMember)), "{missing:?}");
    // A failing insert (duplicate message id) rolls back its seq too.
    f.store.send("g", "ann", "one", 2).await;
    let duplicate = f
        .store
        .append_message(text("g-ann-2", "g", "ann", "x", 3))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(Conflict::Message))),
        "{duplicate:?}"
    );
    assert_eq!(f.store.send("g", "ann", "two", 4).await, 2);
}

/// The append is the authorization point of sending: non-members and
/// plain members of a channel are refused, and a removed member is
/// refused from the moment the removal is stored.
pub async fn only_members_allowed_to_post_can_append(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store
        .create_chat(channel("news", "ann", &["bob"]))
        .await
        .unwrap();
    let append = |id: &str, chat: &str, sender: &str| {
        f.store.append_message(text(id, chat, sender, "hi", 2))
    };
    assert!(matches!(
        append("c1", "g", "cat").await,
        Ok(Appended::NotMember)
    ));
    assert!(matches!(
        append("b1", "news", "bob").await,
        Ok(Appended::ReadOnly)
    ));
    assert!(matches!(
        append("a1", "news", "ann").await,
        Ok(Appended::New(_))
    ));

    assert!(matches!(
        append("b2", "g", "bob").await,
        Ok(Appended::New(_))
    ));
    assert!(f.store.remove_member("g", "bob").await.unwrap());
    assert!(
        matches!(append("b3", "g", "bob").await, Ok(Appended::NotMember)),
        "refused from the moment the removal is stored"
    );
    assert_eq!(f.store.chat("g").await.unwrap().unwrap().last_seq, 1);
}

/// Every new message reaches the commit feed once, in seq order (so
/// `core` announces a chat's messages in order); a retry that stored
/// nothing is not announced again.
pub async fn committed_messages_are_reported_in_seq_order_and_retries_are_not(
    backend: &dyn Backend,
) {
    let mut f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let mut first = text("first", "g", "ann", "first", 1);
    first.client_msg_id = Some("c0".into());
    f.store.append_message(first.clone()).await.unwrap();
    first.id = "first-again".into();
    assert!(matches!(
        f.store.append_message(first).await.unwrap(),
        Appended::Existing(_)
    ));
    let seqs = append_concurrently(&f.store, &["ann", "bob"], 30).await;
    assert_eq!(seqs, (2..=31).collect::<Vec<i64>>());
    // A reported retry would come second, before the concurrent ones.
    let mut reported = Vec::new();
    for _ in 1..=31 {
        reported.push(next_commit(&mut f.commits).await.seq);
    }
    assert_eq!(reported, (1..=31).collect::<Vec<i64>>());
    assert!(f.commits.try_next().is_none(), "nothing else was reported");
}

/// A connection may have several sends in flight: appends queued one
/// after the other are stored in that order, and each reaches the commit
/// feed even if the sender stopped waiting for its outcome (it hung up).
pub async fn queued_appends_keep_their_order_and_reach_the_feed_even_unawaited(
    backend: &dyn Backend,
) {
    let mut f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    let mut pending = Vec::new();
    for at in 1..=5 {
        let message = text(&format!("q{at}"), "g", "ann", "queued", at);
        pending.push(f.store.queue_append(message).await.unwrap());
    }
    drop(pending.remove(2));
    let mut seqs = Vec::new();
    for outcome in pending {
        seqs.push(appended(outcome.await.unwrap()).0.seq);
    }
    assert_eq!(seqs, [1, 2, 4, 5]);

    let mut reported = Vec::new();
    for _ in 1..=5 {
        reported.push(next_commit(&mut f.commits).await.id);
    }
    assert_eq!(reported, ["q1", "q2", "q3", "q4", "q5"]);
    assert_eq!(f.store.message("q3").await.unwrap().unwrap().seq, 3);
}
