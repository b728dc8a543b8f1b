//! The MLS KeyPackage directory: uploads counted per device, each
//! ordinary KeyPackage handed out exactly once (concurrent claims
//! included), the last-resort one when the rest are gone, owners known
//! for routing Welcomes, and nothing left of a device whose session ends.

use super::{Backend, Fixture};
use crate::{
    ClaimedKeyPackageRow, KeyPackageStock, KeyPackageUpload, NewKeyPackage, Stocked, Store,
    StoreError,
};
use std::collections::HashSet;

/// The KeyPackage `name`: its reference and bytes are `ref-{name}` and
/// `kp-{name}`, valid until `expires_at`.
fn key_package(name: &str, expires_at: i64) -> NewKeyPackage {
    NewKeyPackage {
        key_ref: format!("ref-{name}").into_bytes(),
        bytes: format!("kp-{name}").into_bytes(),
        expires_at,
    }
}

/// An upload at 1000 of `names` (valid until 1_000_000) by `user`'s
/// `device`, with `last_resort` if given, at most 200 unclaimed, nothing
/// forgotten, signed with the key `sig-{device}`.
fn upload(user: &str, device: &str, names: &[&str], last_resort: Option<&str>) -> KeyPackageUpload {
    KeyPackageUpload {
        user_id: user.into(),
        device_id: device.into(),
        key_packages: names.iter().map(|n| key_package(n, 1_000_000)).collect(),
        last_resort: last_resort.map(|n| key_package(n, 1_000_000)),
        max_unclaimed: 200,
        now: 1000,
        forget_claimed_before: 0,
        keep_claimed: 1000,
        signature_key: format!("sig-{device}").into_bytes(),
    }
}

fn stock(count: u32, last_resort: bool) -> KeyPackageStock {
    KeyPackageStock { count, last_resort }
}

/// Users `ann` and `bob`; ann has the live devices `a1` (oldest) and
/// `a2`, bob `b1`; all sessions live until 10_000_000.
async fn devices(store: &dyn Store) {
    store.users(&["ann", "bob"]).await;
    for (session, user, at) in [("a1", "ann", 100), ("a2", "ann", 200), ("b1", "bob", 100)] {
        store
            .create_session(
                session,
                user,
                session,
                &format!("h-{session}"),
                at,
                10_000_000,
            )
            .await
            .unwrap();
    }
}

/// What `claim` handed out, as `(device, bytes as text, last_resort)`.
fn handed(rows: &[ClaimedKeyPackageRow]) -> Vec<(String, String, bool)> {
    rows.iter()
        .map(|row| {
            (
                row.device_id.clone(),
                String::from_utf8(row.bytes.clone()).unwrap(),
                row.last_resort,
            )
        })
        .collect()
}

/// An upload reports the device's stock after it; a known reference is
/// ignored; expired ones are not counted; a dead or foreign device
/// stores nothing.
pub async fn key_packages_are_counted_per_device_and_known_ones_ignored(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    assert_eq!(
        store.key_package_stock("a1", 1000).await.unwrap(),
        stock(0, false)
    );
    assert_eq!(
        store
            .add_key_packages(upload("ann", "a1", &["1", "2", "2"], None))
            .await
            .unwrap(),
        Stocked::Stored(stock(2, false))
    );
    let mut again = upload("ann", "a1", &["2", "3"], Some("lr"));
    again.key_packages.push(key_package("old", 5000));
    assert_eq!(
        store.add_key_packages(again).await.unwrap(),
        Stocked::Stored(stock(4, true))
    );
    assert_eq!(
        store.key_package_stock("a1", 1000).await.unwrap(),
        stock(4, true)
    );
    assert_eq!(
        store.key_package_stock("a1", 5000).await.unwrap(),
        stock(3, true),
        "an expired one is not counted"
    );
    assert_eq!(
        store.key_package_stock("a2", 1000).await.unwrap(),
        stock(0, false)
    );

    for (user, device) in [("bob", "a1"), ("ann", "nope")] {
        assert!(
            matches!(
                store
                    .add_key_packages(upload(user, device, &["x"], None))
                    .await,
                Err(StoreError::NotFound)
            ),
            "{user} {device}"
        );
    }
    store.revoke_device("ann", "a2", 1000).await.unwrap();
    assert!(matches!(
        store
            .add_key_packages(upload("ann", "a2", &["x"], None))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .key_package_owners(&[b"ref-x".to_vec()])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Ten claims at once for a user whose one device has ten KeyPackages
/// get ten different ones; the claims after them get the last-resort
/// one, flagged, which stays. Twenty more at once, after a new upload of
/// five, get those five once each and the last-resort one fifteen times.
pub async fn concurrent_claims_hand_out_each_key_package_once_then_the_last_resort(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    devices(&*f.store).await;
    let names: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    f.store
        .add_key_packages(upload("bob", "b1", &names, Some("lr")))
        .await
        .unwrap();

    let claims = |count: usize| {
        let tasks: Vec<_> = (0..count)
            .map(|_| {
                let store = f.store.clone();
                tokio::spawn(
                    async move { store.claim_key_packages("bob", None, 2000).await.unwrap() },
                )
            })
            .collect();
        async move {
            let mut got = Vec::new();
            for task in tasks {
                let rows = task.await.unwrap();
                assert_eq!(rows.len(), 1, "one device, one KeyPackage: {rows:?}");
                got.extend(handed(&rows));
            }
            got
        }
    };
    let first = claims(10).await;
    let distinct: HashSet<_> = first.iter().map(|(_, bytes, _)| bytes.clone()).collect();
    assert_eq!(distinct.len(), 10, "{first:?}");
    assert!(
        first
            .iter()
            .all(|(device, bytes, last)| device == "b1" && !last && bytes != "kp-lr")
    );
    assert_eq!(
        f.store.key_package_stock("b1", 2000).await.unwrap(),
        stock(0, true)
    );

    let eleventh = f.store.claim_key_packages("bob", None, 2000).await.unwrap();
    assert_eq!(
        handed(&eleventh),
        [("b1".to_string(), "kp-lr".to_string(), true)]
    );
    assert_eq!(
        f.store.key_package_stock("b1", 2000).await.unwrap(),
        stock(0, true),
        "kept"
    );

    f.store
        .add_key_packages(upload("bob", "b1", &["n0", "n1", "n2", "n3", "n4"], None))
        .await
        .unwrap();
    let second = claims(20).await;
    let ordinary: Vec<_> = second.iter().filter(|(_, _, last)| !last).collect();
    let distinct: HashSet<_> = ordinary.iter().map(|(_, bytes, _)| bytes.clone()).collect();
    assert_eq!(ordinary.len(), 5, "{second:?}");
    assert_eq!(distinct.len(), 5, "{second:?}");
    assert!(distinct.iter().all(|bytes| bytes.starts_with("kp-n")));
    assert!(
        second
            .iter()
            .filter(|(_, _, last)| *last)
            .all(|(_, bytes, _)| bytes == "kp-lr")
    );
    assert_eq!(
        f.store.key_package_stock("b1", 2000).await.unwrap(),
        stock(0, true)
    );
}

/// A claim hands out one KeyPackage per live device that has one, oldest
/// device first and oldest KeyPackage first, never an expired one; the
/// owners of handed-out KeyPackages stay known, unknown refs are left out.
pub async fn a_claim_hands_out_one_per_live_device_and_their_owners_stay_known(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    let mut a2 = upload("ann", "a2", &["a2-first"], None);
    a2.key_packages.insert(0, key_package("a2-expired", 1500));
    store.add_key_packages(a2).await.unwrap();
    store
        .add_key_packages(upload("ann", "a1", &["a1-first", "a1-second"], None))
        .await
        .unwrap();
    store
        .add_key_packages(upload("bob", "b1", &["b1-only"], None))
        .await
        .unwrap();

    let claimed = store.claim_key_packages("ann", None, 2000).await.unwrap();
    assert_eq!(
        handed(&claimed),
        [
            ("a1".to_string(), "kp-a1-first".to_string(), false),
            ("a2".to_string(), "kp-a2-first".to_string(), false),
        ]
    );
    let claimed = store.claim_key_packages("ann", None, 2000).await.unwrap();
    assert_eq!(
        handed(&claimed),
        [("a1".to_string(), "kp-a1-second".to_string(), false)],
        "a device with none left (and no last resort) is left out"
    );
    assert!(
        store
            .claim_key_packages("ann", None, 2000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_key_packages("nobody", None, 2000)
            .await
            .unwrap()
            .is_empty()
    );

    let mut owners = store
        .key_package_owners(&[
            b"ref-a1-first".to_vec(),
            b"ref-unknown".to_vec(),
            b"ref-a2-first".to_vec(),
            b"ref-b1-only".to_vec(),
        ])
        .await
        .unwrap();
    owners.sort();
    assert_eq!(
        owners,
        [
            (
                b"ref-a1-first".to_vec(),
                "ann".to_string(),
                "a1".to_string()
            ),
            (
                b"ref-a2-first".to_vec(),
                "ann".to_string(),
                "a2".to_string()
            ),
            (b"ref-b1-only".to_vec(), "bob".to_string(), "b1".to_string()),
        ]
    );
    assert!(store.key_package_owners(&[]).await.unwrap().is_empty());
}

/// An upload that would leave the device more than its limit stores
/// nothing; a new last-resort KeyPackage replaces the old one, whose
/// owner stays known once handed out; handed-out ones are forgotten by a
/// later upload once old enough.
pub async fn the_limit_refuses_an_upload_and_a_new_last_resort_replaces_the_old(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    let mut limited = upload("ann", "a1", &["1", "2", "3"], Some("lr1"));
    limited.max_unclaimed = 3;
    assert_eq!(
        store.add_key_packages(limited.clone()).await.unwrap(),
        Stocked::Stored(stock(3, true))
    );
    limited.key_packages = vec![key_package("3", 1_000_000), key_package("4", 1_000_000)];
    limited.last_resort = Some(key_package("lr2", 1_000_000));
    assert_eq!(
        store.add_key_packages(limited).await.unwrap(),
        Stocked::Full(stock(3, true))
    );
    assert!(
        store
            .key_package_owners(&[b"ref-4".to_vec(), b"ref-lr2".to_vec()])
            .await
            .unwrap()
            .is_empty(),
        "nothing of a refused upload is kept"
    );

    // Hand out the three and the first last resort (at 2000).
    for _ in 0..4 {
        store.claim_key_packages("ann", None, 2000).await.unwrap();
    }
    store
        .add_key_packages(upload("ann", "a1", &[], Some("lr2")))
        .await
        .unwrap();
    let claimed = store.claim_key_packages("ann", None, 3000).await.unwrap();
    assert_eq!(
        handed(&claimed),
        [("a1".to_string(), "kp-lr2".to_string(), true)]
    );
    assert_eq!(
        store
            .key_package_owners(&[b"ref-lr1".to_vec()])
            .await
            .unwrap()
            .len(),
        1,
        "a replaced last resort that was handed out can still be named by a Welcome"
    );
    // Replacing one never handed out forgets it at once.
    store
        .add_key_packages(upload("ann", "a2", &[], Some("x1")))
        .await
        .unwrap();
    store
        .add_key_packages(upload("ann", "a2", &[], Some("x2")))
        .await
        .unwrap();
    assert!(
        store
            .key_package_owners(&[b"ref-x1".to_vec()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.key_package_stock("a2", 3000).await.unwrap(),
        stock(0, true)
    );

    let mut later = upload("ann", "a1", &["5"], None);
    later.forget_claimed_before = 2500;
    store.add_key_packages(later).await.unwrap();
    let mut known = store
        .key_package_owners(&[b"ref-1".to_vec(), b"ref-lr1".to_vec(), b"ref-lr2".to_vec()])
        .await
        .unwrap();
    known.sort();
    assert_eq!(
        known
            .into_iter()
            .map(|(key_ref, _, _)| key_ref)
            .collect::<Vec<_>>(),
        [b"ref-lr2".to_vec()],
        "handed out before 2500: forgotten; the live last resort stays"
    );
}

/// However a session ends (removed as a device, logged out, its token
/// reused, the other sessions ended), its KeyPackages go with it: not
/// counted, not claimed, not known.
pub async fn ending_a_session_forgets_its_key_packages(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    for (session, user) in [("a3", "ann"), ("a4", "ann")] {
        store
            .create_session(
                session,
                user,
                session,
                &format!("h-{session}"),
                300,
                10_000_000,
            )
            .await
            .unwrap();
    }
    for device in ["a1", "a2", "a3", "a4"] {
        let name = format!("{device}-kp");
        store
            .add_key_packages(upload(
                "ann",
                device,
                &[&name],
                Some(&format!("{device}-lr")),
            ))
            .await
            .unwrap();
    }
    // a1's is handed out before the end: its owner is forgotten too.
    store.claim_key_packages("ann", None, 2000).await.unwrap();

    assert!(store.revoke_device("ann", "a2", 3000).await.unwrap());
    store.revoke_by_refresh("h-a3").await.unwrap();
    assert_eq!(
        store
            .rotate_refresh("h-a4", "h-a4-next", 3000, 10_000_000)
            .await
            .unwrap(),
        crate::RefreshOutcome::Rotated {
            session_id: "a4".into(),
            user_id: "ann".into()
        }
    );
    assert!(matches!(
        store
            .rotate_refresh("h-a4", "h-a4-again", 3000, 10_000_000)
            .await
            .unwrap(),
        crate::RefreshOutcome::Reused { .. }
    ));
    for device in ["a2", "a3", "a4"] {
        assert_eq!(
            store.key_package_stock(device, 3000).await.unwrap(),
            stock(0, false),
            "{device}"
        );
    }
    let claimed = store.claim_key_packages("ann", None, 3000).await.unwrap();
    assert_eq!(
        handed(&claimed),
        [("a1".to_string(), "kp-a1-lr".to_string(), true)],
        "only the live device"
    );

    store
        .revoke_other_sessions("ann", "nothing-kept")
        .await
        .unwrap();
    assert!(
        store
            .claim_key_packages("ann", None, 3000)
            .await
            .unwrap()
            .is_empty()
    );
    let refs: Vec<Vec<u8>> = ["a1", "a2", "a3", "a4"]
        .iter()
        .flat_map(|d| {
            [
                format!("ref-{d}-kp").into_bytes(),
                format!("ref-{d}-lr").into_bytes(),
            ]
        })
        .collect();
    assert!(store.key_package_owners(&refs).await.unwrap().is_empty());
}

/// An upload first deletes the device's unclaimed KeyPackages that
/// expired, and keeps only the newest `keep_claimed` handed-out ordinary
/// ones: short-lived uploads and many claims cannot pile rows up.
pub async fn uploads_forget_expired_and_surplus_handed_out_key_packages(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    let mut short = upload("ann", "a1", &["c1", "c2", "c3"], None);
    short.key_packages.push(key_package("short", 1500));
    store.add_key_packages(short).await.unwrap();
    for at in [2000, 2001, 2002] {
        store
            .claim_key_packages("ann", Some("a2"), at)
            .await
            .unwrap();
    }
    let mut later = upload("ann", "a1", &["next"], None);
    later.now = 3000;
    later.keep_claimed = 2;
    store.add_key_packages(later).await.unwrap();
    let mut known: Vec<Vec<u8>> = store
        .key_package_owners(&[
            b"ref-short".to_vec(),
            b"ref-c1".to_vec(),
            b"ref-c2".to_vec(),
            b"ref-c3".to_vec(),
            b"ref-next".to_vec(),
        ])
        .await
        .unwrap()
        .into_iter()
        .map(|(key_ref, _, _)| key_ref)
        .collect();
    known.sort();
    assert_eq!(
        known,
        [b"ref-c2".to_vec(), b"ref-c3".to_vec(), b"ref-next".to_vec()],
        "the expired unclaimed one and the oldest handed-out one are gone"
    );
}

/// A user claiming their own KeyPackages leaves the calling device out;
/// the KeyPackages of a session that expired (no revoke) are forgotten by
/// the next claim of that user's.
pub async fn a_claim_leaves_out_the_caller_and_forgets_expired_sessions(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    store
        .create_session("a0", "ann", "a0", "h-a0", 50, 5000)
        .await
        .unwrap();
    for device in ["a0", "a1", "a2"] {
        let name = format!("{device}-kp");
        store
            .add_key_packages(upload("ann", device, &[&name], None))
            .await
            .unwrap();
    }
    let claimed = store
        .claim_key_packages("ann", Some("a1"), 2000)
        .await
        .unwrap();
    assert_eq!(
        handed(&claimed),
        [
            ("a0".to_string(), "kp-a0-kp".to_string(), false),
            ("a2".to_string(), "kp-a2-kp".to_string(), false),
        ]
    );
    store
        .add_key_packages(upload("ann", "a0", &[], Some("a0-lr")))
        .await
        .unwrap();
    let claimed = store.claim_key_packages("ann", None, 6000).await.unwrap();
    assert_eq!(
        handed(&claimed),
        [("a1".to_string(), "kp-a1-kp".to_string(), false)]
    );
    assert!(
        store
            .key_package_owners(&[b"ref-a0-kp".to_vec(), b"ref-a0-lr".to_vec()])
            .await
            .unwrap()
            .is_empty(),
        "the expired session's KeyPackages are forgotten"
    );
}

/// A device's first upload pins its signature key: an upload signed with
/// another stores nothing; the pin goes with the session.
pub async fn a_device_s_signature_key_is_pinned_by_its_first_upload(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    devices(store).await;
    store
        .add_key_packages(upload("ann", "a1", &["1"], None))
        .await
        .unwrap();
    let mut other = upload("ann", "a1", &["2"], Some("lr"));
    other.signature_key = b"sig-someone-else".to_vec();
    assert_eq!(
        store.add_key_packages(other).await.unwrap(),
        Stocked::OtherSigner
    );
    assert_eq!(
        store.key_package_stock("a1", 1000).await.unwrap(),
        stock(1, false)
    );
    assert_eq!(
        store
            .add_key_packages(upload("ann", "a1", &["2"], None))
            .await
            .unwrap(),
        Stocked::Stored(stock(2, false))
    );
    let mut own = upload("ann", "a2", &["3"], None);
    own.signature_key = b"sig-someone-else".to_vec();
    assert!(
        matches!(
            store.add_key_packages(own).await.unwrap(),
            Stocked::Stored(_)
        ),
        "each device has its own pin"
    );
    let mut signers = store
        .key_package_signers(&["a1".into(), "a2".into(), "b1".into()])
        .await
        .unwrap();
    signers.sort();
    assert_eq!(
        signers,
        vec![
            ("a1".into(), b"sig-a1".to_vec()),
            ("a2".into(), b"sig-someone-else".to_vec()),
        ],
        "the pinned keys, none for a device that never uploaded"
    );
    assert!(store.key_package_signers(&[]).await.unwrap().is_empty());
}

/// Two uploads racing for the last places under the limit: one is
/// stored, the other stores nothing, and the limit holds.
pub async fn concurrent_uploads_never_exceed_the_limit(backend: &dyn Backend) {
    let f = backend.open().await;
    devices(&*f.store).await;
    let tasks: Vec<_> = [["x1", "x2"], ["y1", "y2"]]
        .into_iter()
        .map(|names| {
            let store = f.store.clone();
            let mut racing = upload("ann", "a1", &names, None);
            racing.max_unclaimed = 3;
            tokio::spawn(async move { store.add_key_packages(racing).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes.sort_by_key(|outcome| matches!(outcome, Stocked::Full(_)));
    assert_eq!(
        outcomes,
        [
            Stocked::Stored(stock(2, false)),
            Stocked::Full(stock(2, false))
        ]
    );
    assert_eq!(
        f.store.key_package_stock("a1", 1000).await.unwrap(),
        stock(2, false)
    );
}

/// Claims racing the end of all of a user's sessions all finish (on
/// PostgreSQL, both lock the devices' KeyPackages in one order: no
/// deadlock), and hand out nothing twice.
pub async fn claims_racing_the_end_of_all_sessions_all_finish(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &f.store;
    store.users(&["ann"]).await;
    for round in 0..5 {
        let sessions: Vec<String> = (0..6).map(|i| format!("r{round}-{i}")).collect();
        for (i, session) in sessions.iter().enumerate() {
            store
                .create_session(
                    session,
                    "ann",
                    session,
                    &format!("h-{session}"),
                    i as i64,
                    10_000_000,
                )
                .await
                .unwrap();
            let names: Vec<String> = (0..3).map(|k| format!("{session}-{k}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            store
                .add_key_packages(upload(
                    "ann",
                    session,
                    &names,
                    Some(&format!("{session}-lr")),
                ))
                .await
                .unwrap();
        }
        let claims: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.claim_key_packages("ann", None, 2000).await })
            })
            .collect();
        let revoke = {
            let store = store.clone();
            tokio::spawn(async move { store.revoke_other_sessions("ann", "none").await })
        };
        let mut ordinary = HashSet::new();
        for claim in claims {
            for row in claim.await.unwrap().expect("no claim fails (deadlock)") {
                if !row.last_resort {
                    assert!(ordinary.insert(row.bytes), "handed out twice");
                }
            }
        }
        assert_eq!(
            revoke
                .await
                .unwrap()
                .expect("the revoke does not fail")
                .len(),
            6
        );
    }
}
