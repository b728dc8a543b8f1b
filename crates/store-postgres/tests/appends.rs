//! What the appender must hold whatever the timing: copies of one send
//! stored in one batch (a client resending quickly, over two sockets)
//! answer one message, and a batch whose COMMIT went unanswered is
//! answered and announced if it committed, refused if it did not. Each
//! test on a database of its own (or a server of its own, configured to
//! make commits wait); the timing is made, not hoped for: a batch is held
//! back by a lock, a COMMIT by a trigger or a missing standby, and the
//! tests wait (bounded) until the server shows it.

mod support;

use futures_util::future::join_all;
use natter_store::contract::{Fixture, appended, text};
use natter_store::{
    Appended, Appending, CommitFeed, Cursor, MessageRow, Messages, NewMessage, Store, StoreError,
    StoreResult, commit_channel,
};
use natter_store_postgres::{PgSettings, PgStore};
use natter_test_services::PrivatePostgres;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::Duration;
use support::TestDatabase;

/// How long a test waits for anything (generous: shared machines).
const PATIENCE: Duration = Duration::from_secs(30);

/// A store on `url` with its commit feed.
async fn node(url: &str) -> (Arc<PgStore>, CommitFeed) {
    let (sink, feed) = commit_channel();
    let settings = PgSettings::default();
    let opened = tokio::time::timeout(PATIENCE, PgStore::open(url, &settings, sink));
    let store = opened.await.expect("opened in time").unwrap();
    (Arc::new(store), feed)
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("a test connection")
}

/// Ann's message `id` in chat `g`, sent as `client_msg_id`.
fn resend(id: &str, client_msg_id: &str, at: i64) -> NewMessage {
    let mut message = text(id, "g", "ann", "hello", at);
    message.client_msg_id = Some(client_msg_id.to_owned());
    message
}

/// All of chat `g`'s messages, oldest first.
async fn history(store: &PgStore) -> Vec<MessageRow> {
    store
        .list_messages("g", Cursor::After(0), 1000, None)
        .await
        .unwrap()
        .0
}

/// The ids of the next `count` messages the feed reports.
async fn reported(feed: &mut CommitFeed, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let next = tokio::time::timeout(PATIENCE, feed.next()).await;
        ids.push(next.expect("reported in time").expect("feed open").id);
    }
    ids
}

/// Waits until a store's connection to `database` waits for `what` (a
/// `wait_event_type` or `wait_event` of `pg_stat_activity`); its pid.
async fn backend_waiting_for(admin: &mut PgConnection, database: &str, what: &str) -> i32 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'natter' \
             AND (wait_event_type = $2 OR wait_event = $2) LIMIT 1",
        )
        .bind(database)
        .bind(what)
        .fetch_optional(&mut *admin)
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no store connection waited for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every outcome, in order, within `PATIENCE`.
async fn outcomes(pending: Vec<Appending>) -> Vec<StoreResult<Appended>> {
    tokio::time::timeout(PATIENCE, join_all(pending))
        .await
        .expect("answered in time")
}

/// Every outcome of `pending`, while ending each store connection to
/// `database` that waits for `what`, again and again (the appends may
/// take several batches, each waiting in turn). `url` is for a
/// connection of the test's.
async fn ending_each_waiting_for(
    pending: Vec<Appending>,
    url: &str,
    database: &str,
    what: &str,
) -> Vec<StoreResult<Appended>> {
    let mut admin = connect(url).await;
    let all = outcomes(pending);
    tokio::pin!(all);
    loop {
        tokio::select! {
            answered = &mut all => return answered,
            () = end_backend_waiting_for(&mut admin, database, what) => {}
        }
    }
}

async fn end_backend_waiting_for(admin: &mut PgConnection, database: &str, what: &str) {
    let pid = backend_waiting_for(admin, database, what).await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(admin)
        .await
        .unwrap();
}

/// Stores `first` in a batch of its own and all of `together` in the
/// next one: `first` is held at chat `g`'s lock (taken from outside)
/// until the others are queued behind it.
async fn in_one_batch(
    store: &PgStore,
    database: &TestDatabase,
    first: NewMessage,
    together: Vec<NewMessage>,
) -> Vec<StoreResult<Appended>> {
    let mut holder = connect(&database.url).await;
    let mut lock = holder.begin().await.unwrap();
    sqlx::query("SELECT id FROM chats WHERE id = 'g' FOR UPDATE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let mut pending = vec![store.queue_append(first).await.unwrap()];
    let mut admin = connect(&database.url).await;
    backend_waiting_for(&mut admin, database.name(), "Lock").await;
    for message in together {
        pending.push(store.queue_append(message).await.unwrap());
    }
    lock.commit().await.unwrap();
    outcomes(pending).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_of_a_stored_message_in_one_batch_all_answer_it() {
    let database = TestDatabase::create().await;
    let (store, mut feed) = node(&database.url).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;
    let (original, new) = appended(store.append_message(resend("m1", "c1", 2)).await.unwrap());
    assert!(new);

    let retries = (0..4)
        .map(|i| resend(&format!("again-{i}"), "c1", 3))
        .collect();
    let answered = in_one_batch(&store, &database, text("m2", "g", "ann", "x", 4), retries).await;
    assert!(matches!(&answered[0], Ok(Appended::New(row)) if row.seq == 2));
    for retry in &answered[1..] {
        assert!(
            matches!(retry, Ok(Appended::Existing(row)) if *row == original),
            "{retry:?}"
        );
    }
    let stored: Vec<_> = history(&store).await.into_iter().map(|m| m.id).collect();
    assert_eq!(stored, ["m1", "m2"]);
    assert_eq!(reported(&mut feed, 2).await, ["m1", "m2"]);
    assert!(feed.try_next().is_none(), "retries are not announced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_a_new_message_in_one_batch_store_it_once() {
    let database = TestDatabase::create().await;
    let (store, mut feed) = node(&database.url).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;

    let copies = (0..4)
        .map(|i| resend(&format!("copy-{i}"), "c1", 3))
        .collect();
    let answered = in_one_batch(&store, &database, text("m1", "g", "ann", "x", 2), copies).await;
    assert!(matches!(&answered[0], Ok(Appended::New(row)) if row.seq == 1));
    let Ok(Appended::New(first)) = &answered[1] else {
        panic!("the first copy is stored: {:?}", answered[1]);
    };
    assert_eq!((first.id.as_str(), first.seq), ("copy-0", 2));
    for copy in &answered[2..] {
        assert!(
            matches!(copy, Ok(Appended::Existing(row)) if row == first),
            "{copy:?}"
        );
    }
    let stored: Vec<_> = history(&store).await.into_iter().map(|m| m.id).collect();
    assert_eq!(stored, ["m1", "copy-0"]);
    assert_eq!(reported(&mut feed, 2).await, ["m1", "copy-0"]);
    assert!(feed.try_next().is_none(), "copies are not announced");

    let later = store.append_message(resend("copy-5", "c1", 5)).await;
    assert!(matches!(later, Ok(Appended::Existing(row)) if row == *first));
}

/// Each COMMIT waits for a synchronous standby that does not exist, and
/// the appender's server process is ended meanwhile: the transaction is
/// committed (locally) but its answer never comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_committed_without_answering_is_answered_and_announced() {
    let server = PrivatePostgres::start_with(&["synchronous_standby_names=no_such_standby"]);
    let waiting = server.url();
    // Connections whose commits do not wait for the standby.
    let local = format!("{waiting}?options[synchronous_commit]=local");
    let (other_node, _other_feed) = node(&local).await;
    other_node.users(&["ann"]).await;
    other_node.group("g", &["ann"], 1).await;
    other_node.send("g", "ann", "before", 2).await;

    let (store, mut feed) = node(&waiting).await;
    let mut pending = Vec::new();
    for message in [
        text("m1", "g", "ann", "one", 3),
        text("m2", "g", "ann", "two", 4),
        resend("m3", "c3", 5),
    ] {
        pending.push(store.queue_append(message).await.unwrap());
    }
    let answered = ending_each_waiting_for(pending, &local, "postgres", "SyncRep").await;
    let seqs: Vec<i64> = answered
        .iter()
        .map(|outcome| match outcome {
            Ok(Appended::New(row)) => row.seq,
            other => panic!("committed, so stored: {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(reported(&mut feed, 3).await, ["m1", "m2", "m3"]);

    let retry = other_node.append_message(resend("m3-again", "c3", 6)).await;
    assert!(matches!(retry, Ok(Appended::Existing(row)) if row.id == "m3"));
    assert_eq!(other_node.send("g", "ann", "after", 7).await, 5);
    let stored: Vec<_> = history(&other_node)
        .await
        .into_iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(stored, [1, 2, 3, 4, 5]);
    assert!(feed.try_next().is_none(), "each once");
    store.close().await;
    other_node.close().await;
}

/// A deferred trigger stalls each COMMIT and the appender's server
/// process is ended meanwhile: each transaction is rolled back, so its appends
/// fail and nothing is announced, and no seq is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_ended_before_its_commit_is_refused_and_not_announced() {
    let database = TestDatabase::create().await;
    let (store, mut feed) = node(&database.url).await;
    store.users(&["ann"]).await;
    store.group("g", &["ann"], 1).await;
    store.send("g", "ann", "before", 2).await;
    assert_eq!(reported(&mut feed, 1).await, ["g-ann-2"]);
    let mut admin = connect(&database.url).await;
    sqlx::raw_sql(
        "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$; \
         CREATE CONSTRAINT TRIGGER stall_commits AFTER INSERT ON messages \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stall()",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let mut pending = Vec::new();
    for message in [text("m1", "g", "ann", "one", 3), resend("m2", "c2", 4)] {
        pending.push(store.queue_append(message).await.unwrap());
    }
    let answered =
        ending_each_waiting_for(pending, &database.url, database.name(), "PgSleep").await;
    for outcome in answered {
        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "{outcome:?}"
        );
    }
    assert!(feed.try_next().is_none(), "nothing was stored");

    sqlx::raw_sql("DROP TRIGGER stall_commits ON messages")
        .execute(&mut admin)
        .await
        .unwrap();
    assert_eq!(store.send("g", "ann", "after", 5).await, 2, "no seq lost");
    let retry = store.append_message(resend("m2-again", "c2", 6)).await;
    assert!(matches!(retry, Ok(Appended::New(row)) if row.seq == 3));
    let stored: Vec<_> = history(&store).await.into_iter().map(|m| m.id).collect();
    assert_eq!(stored, ["g-ann-2", "g-ann-5", "m2-again"]);
}
