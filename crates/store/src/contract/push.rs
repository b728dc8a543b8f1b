//! Push subscriptions: keyed by endpoint, activated by their own token
//! only, pushed only while active on a live device. The settings are in
//! `settings`, the queue in `queue`.

use super::devices::{subscribe_active, subscription_ids};
use super::{Backend, Fixture, subscription};
use crate::{Activation, Store, StoreError, Subscribed, SubscriptionRow};

/// Starts each `(session, user)` at 100, live until 10,000.
pub(super) async fn sessions(store: &dyn Store, sessions: &[(&str, &str)]) {
    for (session, user) in sessions {
        store
            .create_session(
                session,
                user,
                "device",
                &format!("h-{session}"),
                100,
                10_000,
            )
            .await
            .unwrap();
    }
}

/// The stored row of [`subscription`]`(id, user, session, endpoint)`.
fn row(id: &str, user: &str, session: &str, endpoint: &str, active: bool) -> SubscriptionRow {
    SubscriptionRow {
        id: id.into(),
        user_id: user.into(),
        session_id: session.into(),
        endpoint: endpoint.into(),
        p256dh: format!("key-{id}"),
        auth: format!("auth-{id}"),
        active,
        created_at: 100,
    }
}

/// A new endpoint is created pending; posted again it is unchanged only
/// while active with the same user, keys and device (the new token is
/// then ignored), and otherwise replaced in place: same id and creation
/// time, the new values, pending on the new token.
pub async fn subscribing_creates_keeps_or_replaces_by_endpoint(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    sessions(store, &[("s1", "ann"), ("s2", "ann"), ("b1", "bob")]).await;
    let e = "https://push/e";
    let first = row("p1", "ann", "s1", e, false);
    assert_eq!(
        store
            .subscribe(subscription("p1", "ann", "s1", e))
            .await
            .unwrap(),
        Subscribed::Created(first.clone())
    );

    // Posted again while pending (a lost activation push): the new token.
    let mut again = subscription("p2", "ann", "s1", e);
    (again.p256dh, again.auth, again.created_at) = ("key-p1".into(), "auth-p1".into(), 200);
    assert_eq!(
        store.subscribe(again).await.unwrap(),
        Subscribed::Replaced(first.clone())
    );
    assert_eq!(
        store.activate("ann", "p1", "hash-p1", 200).await.unwrap(),
        Activation::WrongToken,
        "the replaced token no longer activates"
    );
    assert_eq!(
        store.activate("ann", "p1", "hash-p2", 200).await.unwrap(),
        Activation::Activated
    );

    // Active, same user, keys and device: unchanged, its token kept.
    let active = row("p1", "ann", "s1", e, true);
    let mut same = subscription("p3", "ann", "s1", e);
    (same.p256dh, same.auth) = ("key-p1".into(), "auth-p1".into());
    assert_eq!(
        store.subscribe(same).await.unwrap(),
        Subscribed::Unchanged(active)
    );
    assert_eq!(
        store.activate("ann", "p1", "hash-p3", 300).await.unwrap(),
        Activation::WrongToken
    );
    assert_eq!(
        store.activate("ann", "p1", "hash-p2", 300).await.unwrap(),
        Activation::Activated
    );

    // Other keys, then another device, then another user: replaced.
    let mut keys = row("p1", "ann", "s1", e, false);
    (keys.p256dh, keys.auth) = ("key-p4".into(), "auth-p4".into());
    assert_eq!(
        store
            .subscribe(subscription("p4", "ann", "s1", e))
            .await
            .unwrap(),
        Subscribed::Replaced(keys.clone())
    );
    store.activate("ann", "p1", "hash-p4", 300).await.unwrap();
    let mut other_device = subscription("p5", "ann", "s2", e);
    (other_device.p256dh, other_device.auth) = ("key-p4".into(), "auth-p4".into());
    let mut moved = keys.clone();
    moved.session_id = "s2".into();
    assert_eq!(
        store.subscribe(other_device).await.unwrap(),
        Subscribed::Replaced(moved)
    );
    store.activate("ann", "p1", "hash-p5", 300).await.unwrap();
    let mut bobs = subscription("p6", "bob", "b1", e);
    (bobs.p256dh, bobs.auth) = ("key-p4".into(), "auth-p4".into());
    let mut taken = keys;
    (taken.user_id, taken.session_id) = ("bob".into(), "b1".into());
    assert_eq!(
        store.subscribe(bobs).await.unwrap(),
        Subscribed::Replaced(taken)
    );
    assert!(subscription_ids(store, "ann", 300).await.is_empty());
    assert_eq!(subscription_ids(store, "bob", 300).await, ["p1"]);
    assert_eq!(
        store.activate("ann", "p1", "hash-p6", 300).await.unwrap(),
        Activation::NotFound,
        "no longer ann's"
    );

    let nowhere = store
        .subscribe(subscription("p7", "ann", "ghost", "https://push/x"))
        .await;
    assert!(
        matches!(nowhere, Err(StoreError::NotFound)),
        "a device that does not exist: {nowhere:?}"
    );
}

/// Only the subscription's own token activates it (again and again),
/// and only for its owner while its device is live.
pub async fn activation_needs_the_subscriptions_own_token_and_owner(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    sessions(store, &[("s1", "ann"), ("b1", "bob")]).await;
    store
        .create_session("s2", "ann", "old", "h-s2", 100, 1_000)
        .await
        .unwrap();
    store
        .subscribe(subscription("p1", "ann", "s1", "https://push/1"))
        .await
        .unwrap();
    store
        .subscribe(subscription("p2", "ann", "s2", "https://push/2"))
        .await
        .unwrap();

    let activate = |user: &'static str, id: &'static str, hash: &'static str, now: i64| async move {
        store.activate(user, id, hash, now).await.unwrap()
    };
    assert_eq!(
        activate("ann", "p1", "wrong", 200).await,
        Activation::WrongToken
    );
    assert_eq!(
        activate("bob", "p1", "hash-p1", 200).await,
        Activation::NotFound
    );
    assert_eq!(
        activate("ann", "nope", "hash-p1", 200).await,
        Activation::NotFound
    );
    assert_eq!(
        subscription_ids(store, "ann", 200).await,
        ["p1", "p2"],
        "listed while pending"
    );
    assert!(
        store
            .push_targets(&["ann".into()], 200)
            .await
            .unwrap()
            .is_empty(),
        "never pushed while pending"
    );
    assert_eq!(
        activate("ann", "p1", "hash-p1", 200).await,
        Activation::Activated
    );
    assert_eq!(
        activate("ann", "p1", "hash-p1", 300).await,
        Activation::Activated
    );
    assert_eq!(
        activate("ann", "p1", "wrong", 300).await,
        Activation::WrongToken
    );
    assert_eq!(
        activate("ann", "p2", "hash-p2", 1_000).await,
        Activation::NotFound,
        "its device expired"
    );
    let listed = store.subscriptions_of("ann", 300).await.unwrap();
    let states: Vec<(&str, bool)> = listed.iter().map(|s| (s.id.as_str(), s.active)).collect();
    assert_eq!(states, [("p1", true), ("p2", false)]);
}

/// A push goes to the active subscriptions of live devices of its
/// recipients only; subscriptions are deleted by their owner or when the
/// push service says they are gone.
pub async fn push_targets_are_active_subscriptions_of_live_devices(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob", "cat"]).await;
    sessions(store, &[("s1", "ann"), ("b1", "bob"), ("c1", "cat")]).await;
    store
        .create_session("s2", "ann", "old", "h-s2", 100, 1_000)
        .await
        .unwrap();
    subscribe_active(store, "p1", "ann", "s1").await;
    subscribe_active(store, "p2", "ann", "s2").await;
    subscribe_active(store, "pb", "bob", "b1").await;
    subscribe_active(store, "pc", "cat", "c1").await;
    let mut pending = subscription("p0", "ann", "s1", "https://push/p0");
    pending.created_at = 50;
    store.subscribe(pending).await.unwrap();

    let targets = |users: &'static [&'static str], now: i64| async move {
        let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        let rows = store.push_targets(&users, now).await.unwrap();
        let mut ids: Vec<String> = rows.into_iter().map(|row| row.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(targets(&["ann", "bob"], 500).await, ["p1", "p2", "pb"]);
    assert_eq!(
        targets(&["ann", "bob"], 1_000).await,
        ["p1", "pb"],
        "an expired device is pushed no more"
    );
    assert!(targets(&[], 500).await.is_empty());
    assert_eq!(
        subscription_ids(store, "ann", 1_000).await,
        ["p0", "p1"],
        "oldest first, live devices only"
    );

    assert!(!store.unsubscribe("ann", "pb").await.unwrap(), "bob's");
    assert!(store.unsubscribe("ann", "p0").await.unwrap());
    assert!(!store.unsubscribe("ann", "p0").await.unwrap());
    store.drop_subscription("pc").await.unwrap();
    store.drop_subscription("pc").await.unwrap();
    assert!(targets(&["cat"], 500).await.is_empty());
    assert_eq!(
        targets(&["ann", "bob", "cat"], 500).await,
        ["p1", "p2", "pb"]
    );
}
