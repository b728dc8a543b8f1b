//! The write path: sequence numbers under concurrency, idempotent sends,
//! durability across restarts and the isolation of jobs in a batch.

use super::*;
use natter_store::StoreResult;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[tokio::test]
async fn concurrent_appends_to_one_chat_get_seqs_one_to_n_without_gaps() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    let (_dir, store) = shared(f);

    let seqs = append_concurrently(&store, &["ann", "bob"], 50).await;
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

#[tokio::test]
async fn a_retried_client_msg_id_returns_the_original_and_stores_nothing() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    let mut first = text("m1", "g", "ann", "hello", 100);
    first.client_msg_id = Some("c1".into());
    first.metadata = Metadata {
        reply_to: None,
        mentions: Some(vec!["bob".into()]),
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

#[tokio::test]
async fn seq_survives_close_and_reopen() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    for at in 1..=3 {
        f.send("g", "ann", "before restart", at).await;
    }
    let f = f.reopen().await;
    let wal = super::db_path(&f.dir).with_extension("db-wal");
    assert_eq!(
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0),
        0,
        "close checkpoints the WAL"
    );
    assert_eq!(f.send("g", "ann", "after restart", 4).await, 4);
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

#[tokio::test]
async fn appending_to_a_missing_chat_is_refused_and_uses_no_seq() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    let missing = f
        .store
        .append_message(text("m1", "nope", "ann", "x", 1))
        .await;
    assert!(matches!(missing, Ok(Appended::NotMember)), "{missing:?}");
    // A failing insert (duplicate message id) rolls back its seq too.
    f.send("g", "ann", "one", 2).await;
    let duplicate = f
        .store
        .append_message(text("g-ann-2", "g", "ann", "x", 3))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(Conflict::Message))),
        "{duplicate:?}"
    );
    assert_eq!(f.send("g", "ann", "two", 4).await, 2);
}

/// Appends `count` text messages to chat `g` all at once, the `senders`
/// taking turns; returns their seqs, sorted.
async fn append_concurrently(store: &Arc<SqliteStore>, senders: &[&str], count: i64) -> Vec<i64> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let store = store.clone();
            let sender = senders[i as usize % senders.len()].to_owned();
            tokio::spawn(async move {
                let message = text(
                    &format!("m{i}"),
                    "g",
                    &sender,
                    &format!("message {i}"),
                    100 + i,
                );
                appended(store.append_message(message).await.unwrap()).0.seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    seqs
}

/// Holds the writer inside a job until the returned sender fires, so that
/// writes submitted meanwhile queue up and then run as one batch.
async fn hold_writer(
    store: &Arc<SqliteStore>,
) -> (oneshot::Sender<()>, JoinHandle<StoreResult<()>>) {
    let (release, released) = oneshot::channel::<()>();
    let store = store.clone();
    let blocker = tokio::spawn(async move {
        store
            .writer
            .write(move |_conn| {
                let _ = released.blocking_recv();
                Ok(())
            })
            .await
    });
    // Let the blocker reach the writer before anything else is queued.
    tokio::time::sleep(Duration::from_millis(50)).await;
    (release, blocker)
}

/// Lets spawned writes reach the writer's queue.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn one_failing_job_in_a_batch_does_not_fail_the_other_jobs() {
    let f = Fixture::new().await;
    f.users(&["taken", "ann"]).await;
    let (_dir, store) = shared(f);

    let (release, blocker) = hold_writer(&store).await;
    let names = ["a1", "taken", "a2", "twin", "twin", "a3"];
    let users: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let store = store.clone();
            let user = new_user(&format!("id{i}"), name);
            tokio::spawn(async move { store.create_user(user).await })
        })
        .collect();
    // A multi-statement job failing after its first write (the chat row):
    // its savepoint must take the chat row back.
    let bad_chat = {
        let store = store.clone();
        let mut chat = direct("bad", "ann", "ann");
        chat.direct_key = None;
        tokio::spawn(async move { store.create_chat(chat).await })
    };
    settle().await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();

    let mut conflicts = 0;
    for (task, name) in users.into_iter().zip(names) {
        match task.await.unwrap() {
            Ok(user) => assert_eq!(user.username, name),
            Err(StoreError::Conflict(Conflict::Username)) => conflicts += 1,
            Err(other) => panic!("unexpected error for {name}: {other:?}"),
        }
    }
    assert_eq!(conflicts, 2, "the taken name and one of the twins");
    for name in ["a1", "a2", "a3", "twin"] {
        assert!(
            store.user_by_username(name).await.unwrap().is_some(),
            "{name} was committed"
        );
    }
    let bad = bad_chat.await.unwrap();
    assert!(
        matches!(bad, Err(StoreError::Conflict(Conflict::Member))),
        "{bad:?}"
    );
    assert!(
        store.chat("bad").await.unwrap().is_none(),
        "the failed job left nothing"
    );
}

#[tokio::test]
async fn a_message_edited_in_the_batch_that_stores_it_is_indexed_as_edited() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    let (_dir, store) = shared(f);

    let (release, blocker) = hold_writer(&store).await;
    let append = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append_message(text("m1", "g", "ann", "first draft", 2))
                .await
        })
    };
    settle().await;
    let edit = {
        let store = store.clone();
        tokio::spawn(async move { store.edit_message("m1", "final words", 3).await })
    };
    settle().await;
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    append.await.unwrap().unwrap();
    edit.await.unwrap().unwrap();

    assert!(
        store
            .search_words("ann", "draft", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .search_words("ann", "final", None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // FTS5 compares the index with the messages table.
    store
        .writer
        .write(|conn| {
            conn.execute(
                "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn with_strict_full_sync_writes_are_acknowledged_ordered_and_kept() {
    let settings = StoreSettings {
        synchronous_full: true,
        ..StoreSettings::default()
    };
    let f = Fixture::with_settings(&settings).await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    let (dir, store) = shared(f);
    let seqs = append_concurrently(&store, &["ann"], 20).await;
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    store.close().await;
    drop(store);

    let reopened = SqliteStore::open(&db_path(&dir), &settings, commit_channel().0)
        .await
        .unwrap();
    assert_eq!(reopened.chat("g").await.unwrap().unwrap().last_seq, 20);
}

#[tokio::test]
async fn senders_of_one_batch_have_read_up_to_their_last_message_in_it() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    let (_dir, store) = shared(f);

    let (release, blocker) = hold_writer(&store).await;
    let mut appends = Vec::new();
    for (id, sender, at) in [("m1", "ann", 10), ("m2", "bob", 20), ("m3", "ann", 30)] {
        let store = store.clone();
        appends.push(tokio::spawn(async move {
            store.append_message(text(id, "g", sender, id, at)).await
        }));
        // Queued in this order, so stored with seqs 1, 2, 3.
        settle().await;
    }
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for append in appends {
        append.await.unwrap().unwrap();
    }

    let ann = store.member("g", "ann").await.unwrap().unwrap();
    let bob = store.member("g", "bob").await.unwrap().unwrap();
    assert_eq!((ann.read_seq, ann.delivered_seq), (3, 3));
    assert_eq!((bob.read_seq, bob.delivered_seq), (2, 2));
    // Ann read bob's message when she sent her last one of the batch.
    let receipts = store.receipts("g", 2, "bob").await.unwrap();
    assert_eq!(
        (receipts[0].user_id.as_str(), receipts[0].read_at),
        ("ann", Some(30))
    );
}

#[tokio::test]
async fn the_log_is_folded_into_the_database_file_while_the_store_runs() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    f.group("g", &["ann"], 1).await;
    let database = db_path(&f.dir);
    let size = || std::fs::metadata(&database).unwrap().len();
    let before = size();
    let (_dir, store) = shared(f);
    // About 400 KiB of messages: they land in the log first; the writer
    // never checkpoints, so only the checkpointer can move them into the
    // database file before the store closes.
    let long = "x".repeat(1000);
    for i in 0..400 {
        let message = text(&format!("m{i}"), "g", "ann", &long, 10 + i);
        store.append_message(message).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while size() < before + 200 * 1024 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file did not grow: {} bytes, {before} before",
            size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn committed_messages_are_reported_in_seq_order_and_retries_are_not() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    let mut first = text("first", "g", "ann", "first", 1);
    first.client_msg_id = Some("c0".into());
    f.store.append_message(first.clone()).await.unwrap();
    first.id = "first-again".into();
    assert!(matches!(
        f.store.append_message(first).await.unwrap(),
        Appended::Existing(_)
    ));
    let Fixture {
        dir: _dir,
        store,
        mut commits,
    } = f;
    let store = Arc::new(store);
    let seqs = append_concurrently(&store, &["ann", "bob"], 30).await;
    assert_eq!(seqs, (2..=31).collect::<Vec<i64>>());
    let mut reported = Vec::new();
    while let Some(row) = commits.try_next() {
        reported.push(row.seq);
    }
    assert_eq!(reported, (1..=31).collect::<Vec<i64>>());
}

#[tokio::test]
async fn only_members_allowed_to_post_can_append() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    let channel = NewChat {
        id: "news".into(),
        chat_type: ChatType::Channel,
        name: Some("news".into()),
        created_by: "ann".into(),
        created_at: 1,
        direct_key: None,
        members: vec![("ann".into(), Role::Owner), ("bob".into(), Role::Member)],
    };
    f.store.create_chat(channel).await.unwrap();
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

#[tokio::test]
async fn a_member_removed_by_another_process_cannot_post_the_next_moment() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    f.send("g", "bob", "before", 2).await;
    // Another process sharing the database (a second node, an operator's
    // tool) removes bob: nothing in this store hears of it.
    let other = rusqlite::Connection::open(db_path(&f.dir)).unwrap();
    other
        .busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let removed = other
        .execute(
            "DELETE FROM members WHERE chat_id = 'g' AND user_id = 'bob'",
            [],
        )
        .unwrap();
    assert_eq!(removed, 1);
    let refused = f
        .store
        .append_message(text("after", "g", "bob", "after", 3))
        .await
        .unwrap();
    assert_eq!(refused, Appended::NotMember);
    assert_eq!(f.store.member_role("g", "bob").await.unwrap(), None);
}
