//! The write path as only this store has it: the writer's batches (a
//! job failing alone, senders' markers and the search index at the end
//! of a batch), the file and its log, strict sync, and other processes
//! sharing the file.

use super::*;
use natter_store::contract::{Fixture as _, append_concurrently, direct, new_user, text};
use natter_store::{
    Appended, Chats, Conflict, Markers, Messages, Store, StoreError, StoreResult, Users,
};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[tokio::test]
async fn closing_checkpoints_the_log_into_the_database_file() {
    let f = Fixture::new().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for at in 1..=3 {
        f.store.send("g", "ann", "before close", at).await;
    }
    f.store.close().await;
    let wal = db_path(&f.dir).with_extension("db-wal");
    assert_eq!(
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0),
        0,
        "close checkpoints the WAL"
    );
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
    f.store.users(&["taken", "ann"]).await;
    let store = f.store.clone();

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
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    let store = f.store.clone();

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
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    let Fixture { dir, store } = f;
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
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let store = f.store.clone();

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
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    let database = db_path(&f.dir);
    let size = || std::fs::metadata(&database).unwrap().len();
    let before = size();
    let store = f.store.clone();
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
async fn a_member_removed_by_another_process_cannot_post_the_next_moment() {
    let f = Fixture::new().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store.send("g", "bob", "before", 2).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_near_its_bound_under_steady_writes_with_readers_around() {
    const BOUND: u64 = 1024 * 1024;
    let settings = StoreSettings {
        wal_max_bytes: BOUND,
        ..StoreSettings::default()
    };
    let f = Fixture::with_settings(&settings).await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let mut wal = db_path(&f.dir).into_os_string();
    wal.push("-wal");
    let wal_size = move || std::fs::metadata(&wal).map_or(0, |meta| meta.len());

    // Readers that always have a query running: what kept passive
    // checkpoints from ever restarting the log.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<JoinHandle<()>> = (0..2)
        .map(|_| {
            let (store, stop) = (f.store.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = store
                        .list_messages("g", natter_store::Cursor::Latest, 200, None)
                        .await;
                }
            })
        })
        .collect();
    // About 40 MiB of log frames in all, written by 16 senders at once.
    let long = "y".repeat(2_000);
    let mut largest = 0;
    for round in 0..40 {
        let writes: Vec<JoinHandle<()>> = (0..16)
            .map(|i| {
                let (store, content) = (f.store.clone(), long.clone());
                tokio::spawn(async move {
                    for n in 0..10 {
                        let id = format!("m{round}-{i}-{n}");
                        let sender = if i % 2 == 0 { "ann" } else { "bob" };
                        store
                            .append_message(text(&id, "g", sender, &content, 5))
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap();
        }
        largest = largest.max(wal_size());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(
        f.store.chat("g").await.unwrap().unwrap().last_seq,
        40 * 16 * 10
    );
    // The writer checks after every batch: the log is never more than a
    // batch past its bound (it used to grow with every byte written, here
    // to about 90 MiB).
    assert!(
        largest <= 2 * BOUND,
        "the log reached {largest} bytes with a bound of {BOUND}"
    );
}
