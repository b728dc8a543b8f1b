//! Who a queued push still reaches: only a subscription that is what the
//! push was meant for. Planned only while active, never to one replaced
//! meanwhile (pending again, maybe another user's now); what was queued
//! for a replaced one is gone; nothing goes out to a device that is no
//! longer live; and one user cannot touch another's queue.

use super::devices::subscribe_active;
use super::push::sessions;
use super::{Backend, Fixture, delivery, subscription, text};
use crate::{DeliveryRow, Store, Subscribed};

/// The ids of claimed deliveries, in the order handed out.
fn ids(deliveries: &[DeliveryRow]) -> Vec<&str> {
    deliveries.iter().map(|d| d.id.as_str()).collect()
}

/// Everything claimable at `now`, leased for 1,000.
async fn claim_all(store: &dyn Store, now: i64) -> Vec<DeliveryRow> {
    store.claim_deliveries(now, now + 1_000, 100).await.unwrap()
}

/// A plan stores the deliveries of subscriptions active at that moment
/// only: one replaced since its targets were read (here taken over by
/// another user, and pending on its new token), a pending one and a gone
/// one get nothing, not even after the new owner activates it.
pub async fn a_plan_stores_deliveries_only_for_subscriptions_still_active(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob", "cat", "dan"]).await;
    store.group("g", &["ann", "bob", "cat", "dan"], 1).await;
    sessions(store, &[("b1", "bob"), ("c1", "cat"), ("d1", "dan")]).await;
    subscribe_active(store, "pb", "bob", "b1").await;
    subscribe_active(store, "pc", "cat", "c1").await;
    store
        .subscribe(subscription("pd", "dan", "d1", "https://push/pd"))
        .await
        .unwrap();
    let mut message = text("m1", "g", "ann", "hello", 100);
    message.owes_push = true;
    store.append_message(message).await.unwrap();
    let job = store.claim_jobs(100, 1_000, 10).await.unwrap().remove(0);
    let targets = store
        .push_targets(&["bob".into(), "cat".into(), "dan".into()], 100)
        .await
        .unwrap();
    let target_ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(target_ids, ["pb", "pc"], "what the planner read");

    // Between the planner's read and its plan, dan's device takes bob's
    // endpoint over.
    let taken = store
        .subscribe(subscription("px", "dan", "d1", "https://push/pb"))
        .await
        .unwrap();
    assert!(
        matches!(&taken, Subscribed::Replaced(row) if row.id == "pb" && !row.active),
        "{taken:?}"
    );
    let planned = [
        delivery("d-pb", "pb", 100),
        delivery("d-pc", "pc", 100),
        delivery("d-pd", "pd", 100),
        delivery("d-gone", "ghost", 100),
    ];
    store.plan_job(&job, &planned, &[]).await.unwrap();
    assert_eq!(store.queue_depth().await.unwrap(), (0, 1));
    store.activate("dan", "pb", "hash-px", 200).await.unwrap();
    let claimed = claim_all(store, 200).await;
    assert_eq!(ids(&claimed), ["d-pc"], "bob's message never reaches dan");
    assert_eq!(claimed[0].subscription.user_id, "cat");
}

/// Unsubscribing someone else's subscription fails and leaves it, and
/// what is queued for it, alone; the owner's own unsubscribe takes both.
pub async fn a_failed_unsubscribe_leaves_the_owners_deliveries_claimable(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    sessions(store, &[("a1", "ann"), ("b1", "bob")]).await;
    subscribe_active(store, "pa", "ann", "a1").await;
    store
        .enqueue(&[delivery("d1", "pa", 100), delivery("d2", "pa", 110)])
        .await
        .unwrap();

    assert!(!store.unsubscribe("bob", "pa").await.unwrap(), "ann's");
    assert!(!store.unsubscribe("bob", "nope").await.unwrap());
    assert_eq!(store.queue_depth().await.unwrap(), (0, 2));
    let claimed = claim_all(store, 200).await;
    assert_eq!(ids(&claimed), ["d1", "d2"]);
    assert_eq!(claimed[0].subscription.user_id, "ann");

    store.enqueue(&[delivery("d3", "pa", 300)]).await.unwrap();
    assert!(store.unsubscribe("ann", "pa").await.unwrap());
    assert_eq!(store.queue_depth().await.unwrap(), (0, 0));
}

/// What was queued for a subscription is dropped when it is replaced
/// (encrypted for its old keys, or meant for its old owner) and kept when
/// a post leaves it unchanged; other subscriptions keep theirs.
pub async fn a_replaced_subscription_has_lost_its_queued_deliveries(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann"]).await;
    sessions(store, &[("a1", "ann")]).await;
    subscribe_active(store, "pa", "ann", "a1").await;
    subscribe_active(store, "pb", "ann", "a1").await;
    store
        .enqueue(&[
            delivery("d1", "pa", 100),
            delivery("d2", "pa", 110),
            delivery("d3", "pb", 120),
        ])
        .await
        .unwrap();

    let mut same = subscription("p2", "ann", "a1", "https://push/pa");
    (same.p256dh, same.auth) = ("key-pa".into(), "auth-pa".into());
    let kept = store.subscribe(same).await.unwrap();
    assert!(matches!(kept, Subscribed::Unchanged(_)), "{kept:?}");
    assert_eq!(store.queue_depth().await.unwrap(), (0, 3), "unchanged");

    let new_keys = store
        .subscribe(subscription("p3", "ann", "a1", "https://push/pa"))
        .await
        .unwrap();
    assert!(matches!(new_keys, Subscribed::Replaced(_)), "{new_keys:?}");
    assert_eq!(store.queue_depth().await.unwrap(), (0, 1));
    store.activate("ann", "pa", "hash-p3", 200).await.unwrap();
    assert_eq!(ids(&claim_all(store, 200).await), ["d3"]);
}

/// A delivery whose device is no longer live when it would go out (its
/// session expired since it was queued) is dropped unsent, and is not
/// handed out later either; deliveries of live devices go out.
pub async fn deliveries_to_devices_no_longer_live_are_dropped_unsent(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann"]).await;
    sessions(store, &[("a1", "ann")]).await;
    store
        .create_session("old", "ann", "old", "h-old", 100, 1_000)
        .await
        .unwrap();
    subscribe_active(store, "pa", "ann", "a1").await;
    subscribe_active(store, "po", "ann", "old").await;
    store
        .enqueue(&[
            delivery("d1", "po", 100),
            delivery("d2", "pa", 110),
            delivery("d3", "po", 120),
        ])
        .await
        .unwrap();
    let early = store.claim_deliveries(500, 600, 1).await.unwrap();
    assert_eq!(ids(&early), ["d1"], "live at 500");
    store.retry_delivery("d1", 700).await.unwrap();

    let claimed = claim_all(store, 1_000).await;
    assert_eq!(ids(&claimed), ["d2"], "the old device expired at 1,000");
    assert_eq!(store.queue_depth().await.unwrap(), (0, 1), "and are gone");
    assert_eq!(
        ids(&claim_all(store, 5_000).await),
        ["d2"],
        "after its lease: the dropped ones never come back"
    );
}
