//! What only the PostgreSQL queue has: nodes racing on one database. A
//! plan waits for a subscribe on another node that is replacing one of
//! its subscriptions, and then leaves that one out.

use crate::{PgSettings, PgStore};
use natter_store::contract::{Fixture, delivery, subscription, text};
use natter_store::{
    Activation, Messages, PushQueue, PushSubscriptions, Sessions, Store, commit_channel,
};
use natter_test_services::TestDatabase;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::Duration;

/// A hang guard only: nothing here waits for time to pass.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// How many connections to this database wait for a lock.
async fn lock_waiters(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_waits_for_a_subscribe_replacing_its_target_and_then_skips_it() {
    let database = TestDatabase::create();
    let store = PgStore::open(database.url(), &PgSettings::default(), commit_channel().0)
        .await
        .unwrap();
    let store = Arc::new(store);
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
    let mut message = text("m1", "g", "ann", "hello", 100);
    message.owes_push = true;
    store.append_message(message).await.unwrap();
    let job = store.claim_jobs(100, 1_000, 10).await.unwrap().remove(0);

    // Another node's subscribe, mid-way: the row locked and pending again
    // on new keys, not yet committed.
    let mut other = PgConnection::connect(database.url()).await.unwrap();
    let mut replacing = other.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM push_subscriptions WHERE id = 'pb' FOR UPDATE")
        .execute(&mut *replacing)
        .await
        .unwrap();
    sqlx::query("UPDATE push_subscriptions SET p256dh = 'new', active = false WHERE id = 'pb'")
        .execute(&mut *replacing)
        .await
        .unwrap();

    let planner = store.clone();
    let mut plan = tokio::spawn(async move {
        let deliveries = [delivery("d1", "pb", 100)];
        planner.plan_job(&job, &deliveries, &[]).await.unwrap();
    });
    let mut watcher = PgConnection::connect(database.url()).await.unwrap();
    let waited = tokio::time::timeout(HANG_GUARD, async {
        loop {
            if lock_waiters(&mut watcher).await > 0 {
                return true;
            }
            if plan.is_finished() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the plan either waits or finishes");
    replacing.commit().await.unwrap();
    tokio::time::timeout(HANG_GUARD, &mut plan)
        .await
        .expect("the plan finishes once the subscribe committed")
        .unwrap();

    assert_eq!(
        store.queue_depth().await.unwrap(),
        (0, 0),
        "nothing queued for the replaced subscription"
    );
    assert!(waited, "the plan waited for the subscribe");
    store.close().await;
}
