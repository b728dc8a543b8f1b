//! The durable push queue: a job per stored message that owes pushes
//! (written with the message, never twice), jobs and deliveries handed
//! out under leases, a job planned once, deliveries retried and finished,
//! and the notifications shown that a read takes back.

use super::devices::subscribe_active;
use super::push::sessions;
use super::{Backend, Fixture, appended, delivery, text};
use crate::{Appended, DeliveryRow, NewMessage, PushJob, Store};

/// Ann's message `id` in chat `g` at `at`, owing pushes.
fn owing(id: &str, at: i64) -> NewMessage {
    let mut message = text(id, "g", "ann", "hello", at);
    message.owes_push = true;
    message
}

/// The message ids of claimed jobs, in the order handed out.
fn job_ids(jobs: &[PushJob]) -> Vec<&str> {
    jobs.iter().map(|job| job.message_id.as_str()).collect()
}

fn delivery_ids(deliveries: &[DeliveryRow]) -> Vec<&str> {
    deliveries.iter().map(|d| d.id.as_str()).collect()
}

/// Claims every job available at `now` and plans it with no deliveries,
/// showing it to `shown` when its seq is among `shown_at`.
async fn plan_all(store: &dyn Store, now: i64, shown_at: &[i64], shown: &[String]) {
    for job in store.claim_jobs(now, now + 1_000, 100).await.unwrap() {
        let users = if shown_at.contains(&job.seq) {
            shown
        } else {
            &[]
        };
        store.plan_job(&job, &[], users).await.unwrap();
    }
}

/// A stored message that owes pushes queues exactly one job, also when
/// stored in a batch with others; a retry that finds the original, a
/// refused append and a message owing nothing queue none.
pub async fn a_message_owing_pushes_queues_one_job_and_a_retry_none(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &f.store;
    store.users(&["ann", "bob", "cat"]).await;
    store.group("g", &["ann", "bob"], 1).await;
    let mut first = owing("m1", 100);
    first.client_msg_id = Some("c1".into());
    let (row, new) = appended(store.append_message(first.clone()).await.unwrap());
    assert!(new);
    first.id = "m1-again".into();
    let (again, new) = appended(store.append_message(first).await.unwrap());
    assert!(!new && again.id == "m1", "the retry finds the original");
    store.send("g", "ann", "owes nothing", 110).await;
    let mut stranger = owing("x", 120);
    stranger.sender_id = "cat".into();
    assert_eq!(
        store.append_message(stranger).await.unwrap(),
        Appended::NotMember
    );
    let mut queued = Vec::new();
    for i in 3..8 {
        queued.push(
            store
                .queue_append(owing(&format!("m{i}"), 200 + i))
                .await
                .unwrap(),
        );
    }
    for outcome in futures_util::future::join_all(queued).await {
        assert!(appended(outcome.unwrap()).1);
    }

    assert_eq!(store.queue_depth().await.unwrap(), (6, 0));
    let jobs = store.claim_jobs(1_000, 2_000, 100).await.unwrap();
    assert_eq!(job_ids(&jobs), ["m1", "m3", "m4", "m5", "m6", "m7"]);
    assert_eq!(
        jobs[0],
        PushJob {
            message_id: "m1".into(),
            chat_id: "g".into(),
            seq: row.seq,
            created_at: 100,
        }
    );
}

/// A claimed job is not handed out again before its lease ends, and is
/// after (a sender died); claims take the oldest available first, up to
/// their limit; jobs survive a restart.
pub async fn claimed_jobs_are_leased_until_the_lease_ends(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    for (id, at) in [("j1", 100), ("j2", 200), ("j3", 300)] {
        f.store.append_message(owing(id, at)).await.unwrap();
    }
    let claim = |now: i64, lease_until: i64, limit: u32| {
        let store = f.store.clone();
        async move { store.claim_jobs(now, lease_until, limit).await.unwrap() }
    };
    assert_eq!(job_ids(&claim(250, 1_000, 10).await), ["j1", "j2"]);
    assert_eq!(job_ids(&claim(500, 1_500, 10).await), ["j3"]);
    assert!(claim(999, 5_000, 10).await.is_empty(), "all leased");
    assert_eq!(job_ids(&claim(1_000, 2_000, 10).await), ["j1", "j2"]);
    assert_eq!(
        job_ids(&claim(5_000, 6_000, 2).await),
        ["j3", "j1"],
        "the lease that ended first, then by id"
    );

    let f = backend.reopen(f).await;
    let jobs = f.store.claim_jobs(10_000, 11_000, 10).await.unwrap();
    assert_eq!(job_ids(&jobs), ["j2", "j1", "j3"]);
    assert_eq!(f.store.queue_depth().await.unwrap(), (3, 0));
}

/// Planning a job stores its deliveries, records what shows, and deletes
/// it in one step: planned again (by a sender whose lease ran out) it
/// stores nothing.
pub async fn a_job_is_planned_once(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob", "cat"]).await;
    store.group("g", &["ann", "bob", "cat"], 1).await;
    sessions(store, &[("b1", "bob"), ("c1", "cat")]).await;
    subscribe_active(store, "pb", "bob", "b1").await;
    subscribe_active(store, "pc", "cat", "c1").await;
    store.append_message(owing("m1", 100)).await.unwrap();
    let job = store.claim_jobs(100, 1_000, 10).await.unwrap().remove(0);

    let deliveries = [delivery("d1", "pb", 100), delivery("d2", "pc", 100)];
    let shown = ["bob".to_string(), "cat".to_string()];
    store.plan_job(&job, &deliveries, &shown).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 2));
    store
        .plan_job(&job, &[delivery("d3", "pb", 100)], &shown[..1])
        .await
        .unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 2), "planned once");
    assert!(store.claim_jobs(5_000, 6_000, 10).await.unwrap().is_empty());
    let claimed = store.claim_deliveries(200, 1_000, 10).await.unwrap();
    assert_eq!(delivery_ids(&claimed), ["d1", "d2"]);
    assert!(store.take_shown("bob", "g", job.seq).await.unwrap());
    assert!(store.take_shown("cat", "g", job.seq).await.unwrap());
    assert!(!store.take_shown("ann", "g", job.seq).await.unwrap());
}

/// Deliveries go out oldest first with their subscription, leased;
/// a retry waits and counts an attempt; finished ones and those of a
/// dropped subscription are gone; one whose subscription is gone is
/// never handed out.
pub async fn deliveries_are_claimed_retried_and_finished(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann"]).await;
    sessions(store, &[("s1", "ann")]).await;
    subscribe_active(store, "pa", "ann", "s1").await;
    subscribe_active(store, "pb", "ann", "s1").await;
    let mut first = delivery("d1", "pa", 100);
    (first.topic, first.urgency) = (Some("chat1".into()), "high".into());
    store
        .enqueue(&[first, delivery("d2", "pa", 200), delivery("d3", "pb", 300)])
        .await
        .unwrap();
    store.enqueue(&[delivery("d0", "ghost", 50)]).await.unwrap();
    store.enqueue(&[]).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 4));

    let claimed = store.claim_deliveries(150, 1_000, 10).await.unwrap();
    let pa = store.subscriptions_of("ann", 150).await.unwrap().remove(0);
    assert_eq!(
        claimed,
        [DeliveryRow {
            id: "d1".into(),
            subscription: pa,
            payload: b"payload of d1".to_vec(),
            topic: Some("chat1".into()),
            urgency: "high".into(),
            created_at: 100,
            expires_at: 100_100,
            attempts: 0,
        }],
        "the orphan d0 is not handed out"
    );
    assert_eq!(store.queue_depth().await.unwrap(), (0, 3), "and is gone");
    let claimed = store.claim_deliveries(500, 1_000, 10).await.unwrap();
    assert_eq!(delivery_ids(&claimed), ["d2", "d3"]);
    assert_eq!(claimed[1].subscription.id, "pb");
    assert!(
        store
            .claim_deliveries(999, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    store.retry_delivery("d1", 2_000).await.unwrap();
    let claimed = store.claim_deliveries(1_500, 3_000, 1).await.unwrap();
    assert_eq!(delivery_ids(&claimed), ["d2"], "the limit");
    let claimed = store.claim_deliveries(2_000, 3_000, 10).await.unwrap();
    assert_eq!(delivery_ids(&claimed), ["d3", "d1"]);
    assert_eq!((claimed[0].attempts, claimed[1].attempts), (0, 1));

    store.finish_delivery("d2").await.unwrap();
    store.finish_delivery("d2").await.unwrap();
    store.drop_subscription("pb").await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 1));
    let claimed = store.claim_deliveries(9_000, 9_500, 10).await.unwrap();
    assert_eq!(delivery_ids(&claimed), ["d1"]);
    assert_eq!(claimed[0].attempts, 1, "a claim is not an attempt");
    store.finish_delivery("d1").await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 0));
}

/// A read takes back the notifications it covers: all of them (nothing
/// shows any more), or the older ones (a later one still shows); reads
/// that cover none take nothing.
pub async fn a_read_takes_back_the_notifications_it_covers(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    store.group("g", &["ann", "bob"], 1).await;
    for i in 1..=5 {
        store
            .append_message(owing(&format!("m{i}"), i))
            .await
            .unwrap();
    }
    let bob = ["bob".to_string()];
    plan_all(store, 100, &[3, 5], &bob).await;

    let take = |read_seq: i64| async move { store.take_shown("bob", "g", read_seq).await.unwrap() };
    assert!(!take(2).await, "nothing at or below 2 shows");
    assert!(take(4).await, "3 showed; 5 still shows");
    assert!(!take(4).await);
    assert!(take(5).await);
    assert!(!take(9).await, "nothing shows any more");
    assert!(!store.take_shown("ann", "g", 9).await.unwrap());

    // Planned out of order: the record spans both.
    for i in 6..=7 {
        store
            .append_message(owing(&format!("m{i}"), i))
            .await
            .unwrap();
    }
    let mut jobs = store.claim_jobs(200, 1_000, 10).await.unwrap();
    jobs.sort_by_key(|job| std::cmp::Reverse(job.seq));
    for job in &jobs {
        store.plan_job(job, &[], &bob).await.unwrap();
    }
    assert!(take(6).await);
    assert!(!take(6).await);
    assert!(take(7).await);
    assert!(!take(7).await);
}
