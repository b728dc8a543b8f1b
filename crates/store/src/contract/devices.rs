//! Devices: a user's live sessions, named, renamed and removed, with when
//! each was last used; and a session that ends, however it ends, taking
//! its push subscriptions (and what was queued for them) along.

use super::{Backend, Fixture, delivery, subscription};
use crate::{Activation, DeviceRow, RefreshOutcome, Store, Subscribed};

/// A device as the list shows it.
fn device(session_id: &str, name: &str, created_at: i64, last_seen_at: i64) -> DeviceRow {
    DeviceRow {
        session_id: session_id.into(),
        name: name.into(),
        created_at,
        last_seen_at,
    }
}

/// Stores the subscription `id` of `user`'s device `session` and
/// activates it (its activation hash is `hash-{id}`).
pub(super) async fn subscribe_active(store: &dyn Store, id: &str, user: &str, session: &str) {
    store
        .subscribe(subscription(
            id,
            user,
            session,
            &format!("https://push/{id}"),
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .activate(user, id, &format!("hash-{id}"), 100)
            .await
            .unwrap(),
        Activation::Activated
    );
}

/// The ids of the user's subscriptions on live devices at `now`.
pub(super) async fn subscription_ids(store: &dyn Store, user: &str, now: i64) -> Vec<String> {
    let rows = store.subscriptions_of(user, now).await.unwrap();
    rows.into_iter().map(|row| row.id).collect()
}

/// The device list is the user's live sessions, oldest first, with the
/// names they were given; a rename changes only one of the user's own
/// live devices.
pub async fn devices_are_the_users_live_sessions_and_can_be_renamed(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    store
        .create_session("s2", "ann", "phone", "h2", 200, 10_000)
        .await
        .unwrap();
    store
        .create_session("s1", "ann", "laptop", "h1", 100, 10_000)
        .await
        .unwrap();
    store
        .create_session("old", "ann", "tablet", "h3", 300, 400)
        .await
        .unwrap();
    store
        .create_session("b1", "bob", "desktop", "h4", 100, 10_000)
        .await
        .unwrap();

    assert_eq!(
        store.devices("ann", 500).await.unwrap(),
        [
            device("s1", "laptop", 100, 100),
            device("s2", "phone", 200, 200)
        ],
        "an expired session is no device"
    );
    assert_eq!(
        store
            .rename_device("ann", "s2", "work phone", 600)
            .await
            .unwrap(),
        Some(device("s2", "work phone", 200, 200))
    );
    assert_eq!(
        store.rename_device("ann", "b1", "mine", 600).await.unwrap(),
        None,
        "another user's device"
    );
    assert_eq!(
        store.rename_device("ann", "old", "new", 600).await.unwrap(),
        None,
        "an expired device"
    );
    assert_eq!(
        store
            .rename_device("ann", "nope", "new", 600)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.devices("ann", 600).await.unwrap(),
        [
            device("s1", "laptop", 100, 100),
            device("s2", "work phone", 200, 200)
        ]
    );
    assert_eq!(
        store.devices("bob", 600).await.unwrap(),
        [device("b1", "desktop", 100, 100)]
    );
    assert!(store.devices("ghost", 600).await.unwrap().is_empty());
}

/// A device was last seen at its login, its last refresh or the last
/// socket opened with it.
pub async fn a_devices_last_seen_moves_with_refreshes_and_sockets(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann"]).await;
    store
        .create_session("s1", "ann", "laptop", "h1", 100, 1_000)
        .await
        .unwrap();
    store.touch_session("s1", 150).await.unwrap();
    assert_eq!(
        store.devices("ann", 200).await.unwrap(),
        [device("s1", "laptop", 100, 150)]
    );
    assert!(matches!(
        store.rotate_refresh("h1", "h2", 300, 2_000).await.unwrap(),
        RefreshOutcome::Rotated { .. }
    ));
    assert_eq!(
        store.devices("ann", 400).await.unwrap(),
        [device("s1", "laptop", 100, 300)]
    );
    store.touch_session("ghost", 500).await.unwrap();
}

/// Removing a device ends the session at once and deletes its push
/// subscriptions with what was queued for them; the user's other devices
/// and other users' devices are untouched, and a device can be removed
/// only by its user, once.
pub async fn revoking_a_device_ends_it_and_its_subscriptions(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    for (session, user) in [("s1", "ann"), ("s2", "ann"), ("b1", "bob")] {
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
    subscribe_active(store, "p1", "ann", "s1").await;
    subscribe_active(store, "p2", "ann", "s2").await;
    subscribe_active(store, "pb", "bob", "b1").await;
    store
        .enqueue(&[delivery("d1", "p1", 100), delivery("d2", "p2", 100)])
        .await
        .unwrap();

    assert!(store.revoke_device("ann", "s1", 200).await.unwrap());
    assert_eq!(store.active_session_user("s1", 200).await.unwrap(), None);
    let devices = store.devices("ann", 200).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].session_id, "s2");
    assert_eq!(subscription_ids(store, "ann", 200).await, ["p2"]);
    assert_eq!(
        store.queue_depth().await.unwrap(),
        (0, 1),
        "the removed device's deliveries are gone with it"
    );

    assert!(
        !store.revoke_device("ann", "b1", 200).await.unwrap(),
        "another user's device"
    );
    assert!(
        !store.revoke_device("ann", "s1", 200).await.unwrap(),
        "once"
    );
    assert!(!store.revoke_device("ann", "nope", 200).await.unwrap());
    assert_eq!(
        store
            .active_session_user("b1", 200)
            .await
            .unwrap()
            .as_deref(),
        Some("bob")
    );
    assert_eq!(subscription_ids(store, "bob", 200).await, ["pb"]);
    let claimed = store.claim_deliveries(200, 1_000, 10).await.unwrap();
    let ids: Vec<&str> = claimed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["d2"]);
}

/// Logging out, and a reused refresh token revoking its session, delete
/// that session's subscriptions too; other sessions keep theirs.
pub async fn ending_a_session_by_its_refresh_token_ends_its_subscriptions(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann"]).await;
    for (session, hash) in [("s1", "h1"), ("s2", "k1"), ("s3", "m1")] {
        store
            .create_session(session, "ann", "device", hash, 100, 10_000)
            .await
            .unwrap();
    }
    subscribe_active(store, "p1", "ann", "s1").await;
    subscribe_active(store, "p2", "ann", "s2").await;
    subscribe_active(store, "p3", "ann", "s3").await;
    store
        .enqueue(&[delivery("d1", "p1", 100), delivery("d2", "p2", 100)])
        .await
        .unwrap();

    assert!(store.revoke_by_refresh("h1").await.unwrap().is_some());
    assert_eq!(subscription_ids(store, "ann", 200).await, ["p2", "p3"]);

    store.rotate_refresh("k1", "k2", 200, 10_000).await.unwrap();
    assert!(matches!(
        store.rotate_refresh("k1", "k3", 300, 10_000).await.unwrap(),
        RefreshOutcome::Reused { .. }
    ));
    assert_eq!(subscription_ids(store, "ann", 300).await, ["p3"]);
    assert_eq!(store.queue_depth().await.unwrap(), (0, 0));
    // Gone, not merely hidden: the endpoint is new again.
    let again = store
        .subscribe(subscription("p9", "ann", "s3", "https://push/p1"))
        .await
        .unwrap();
    assert!(matches!(again, Subscribed::Created(_)), "{again:?}");
}

/// A password change ends every other session of the user at once, with
/// their push subscriptions and what was queued for them; the session
/// that changed it and other users' sessions go on.
pub async fn revoking_the_other_sessions_keeps_only_the_current_one(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    store.users(&["ann", "bob"]).await;
    for (session, user, expires) in [
        ("s1", "ann", 10_000),
        ("s2", "ann", 10_000),
        ("s3", "ann", 10_000),
        ("old", "ann", 150),
        ("b1", "bob", 10_000),
    ] {
        store
            .create_session(
                session,
                user,
                "device",
                &format!("h-{session}"),
                100,
                expires,
            )
            .await
            .unwrap();
    }
    store.revoke_device("ann", "s3", 120).await.unwrap();
    subscribe_active(store, "p1", "ann", "s1").await;
    subscribe_active(store, "p2", "ann", "s2").await;
    subscribe_active(store, "pb", "bob", "b1").await;
    store
        .enqueue(&[
            delivery("d1", "p1", 100),
            delivery("d2", "p2", 100),
            delivery("db", "pb", 100),
        ])
        .await
        .unwrap();

    let mut ended = store.revoke_other_sessions("ann", "s1").await.unwrap();
    ended.sort();
    assert_eq!(
        ended,
        ["old", "s2"],
        "live and expired ones, not the one revoked before"
    );
    assert_eq!(store.active_session_user("s2", 200).await.unwrap(), None);
    assert_eq!(
        store
            .active_session_user("s1", 200)
            .await
            .unwrap()
            .as_deref(),
        Some("ann")
    );
    let devices = store.devices("ann", 200).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].session_id, "s1");
    assert_eq!(subscription_ids(store, "ann", 200).await, ["p1"]);
    assert_eq!(subscription_ids(store, "bob", 200).await, ["pb"]);
    assert_eq!(store.queue_depth().await.unwrap(), (0, 2));
    assert!(matches!(
        store
            .rotate_refresh("h-s2", "h-s2b", 200, 10_000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    ));
    assert!(
        store
            .revoke_other_sessions("ann", "s1")
            .await
            .unwrap()
            .is_empty(),
        "nothing left to end"
    );
}
