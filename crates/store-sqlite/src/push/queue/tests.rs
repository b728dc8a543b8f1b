//! What only the SQLite queue has: claims that find nothing cost no
//! write. Shown here by another connection holding the database's write
//! lock, as a second process could: a claim that went to the writer would
//! wait for it (then fail with `SQLITE_BUSY`), one answered by a reader
//! does not.

use crate::SqliteStore;
use natter_config::StoreSettings;
use natter_store::contract::{Fixture, delivery, subscription, text};
use natter_store::{
    Activation, Messages, PushQueue, PushSubscriptions, Sessions, Store, commit_channel,
};
use std::time::Duration;
use tempfile::TempDir;

/// A hang guard only: the claims answer at once when they work.
const HANG_GUARD: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_an_idle_queue_takes_no_write_lock_and_finds_work_once_there() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("natter.db");
    let store = SqliteStore::open(&path, &StoreSettings::default(), commit_channel().0)
        .await
        .unwrap();
    store.users(&["ann", "bob"]).await;
    store.group("g", &["ann", "bob"], 1).await;
    store
        .create_session("b1", "bob", "phone", "h-b1", 100, 10_000)
        .await
        .unwrap();
    store
        .subscribe(subscription("pb", "bob", "b1", "https://push/pb"))
        .await
        .unwrap();
    assert_eq!(
        store.activate("bob", "pb", "hash-pb", 100).await.unwrap(),
        Activation::Activated
    );

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let idle = tokio::time::timeout(HANG_GUARD, async {
        let jobs = store.claim_jobs(200, 1_000, 10).await;
        let deliveries = store.claim_deliveries(200, 1_000, 10).await;
        (jobs, deliveries)
    })
    .await
    .expect("the claims answered");
    assert!(idle.0.unwrap().is_empty());
    assert!(idle.1.unwrap().is_empty());
    other.execute_batch("ROLLBACK").unwrap();

    let mut message = text("m1", "g", "ann", "hello", 300);
    message.owes_push = true;
    store.append_message(message).await.unwrap();
    store.enqueue(&[delivery("d1", "pb", 300)]).await.unwrap();
    let jobs = store.claim_jobs(300, 1_000, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].message_id, "m1");
    let deliveries = store.claim_deliveries(300, 1_000, 10).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].id, "d1");
    assert!(
        store.claim_jobs(500, 1_000, 10).await.unwrap().is_empty(),
        "leased"
    );
    store.close().await;
}
