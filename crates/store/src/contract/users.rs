//! Accounts and sessions: unique usernames, profile updates, and refresh
//! tokens that rotate and give away a stolen copy when reused.

use super::{Backend, Fixture, new_user};
use crate::{Conflict, RefreshOutcome, SessionOwner, StoreError};

/// Usernames are unique whatever their case, sign-in finds them in any
/// case, the user search matches prefixes of usernames and display names
/// literally, and profile updates change only what they are given.
pub async fn usernames_are_unique_case_insensitively_and_searchable_by_prefix(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    let store = &f.store;
    let ann = store.create_user(new_user("u1", "Ann")).await.unwrap();
    assert_eq!(ann.username, "ann");
    let taken = store.create_user(new_user("u2", "ann")).await.unwrap_err();
    assert!(
        matches!(taken, StoreError::Conflict(Conflict::Username)),
        "{taken:?}"
    );
    store.create_user(new_user("u3", "annika")).await.unwrap();
    store.create_user(new_user("u4", "bob_x")).await.unwrap();

    assert_eq!(
        store.user_by_username("ANN").await.unwrap(),
        Some(ann.clone())
    );
    let found = store.search_users("AN", 10).await.unwrap();
    let names: Vec<_> = found.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["ann", "annika"]);
    // `_` is literal, not a wildcard; display names (here "U4") match too.
    assert_eq!(store.search_users("bob_", 10).await.unwrap().len(), 1);
    assert!(store.search_users("bo_", 10).await.unwrap().is_empty());
    assert_eq!(store.search_users("u4", 10).await.unwrap()[0].id, "u4");

    let updated = store
        .update_user("u1", Some("Annie".into()), Some("f1".into()))
        .await
        .unwrap();
    assert_eq!(
        (
            updated.display_name.as_str(),
            updated.avatar_file_id.as_deref()
        ),
        ("Annie", Some("f1"))
    );
    let kept = store.update_user("u1", None, None).await.unwrap();
    assert_eq!(kept, updated);
    assert!(matches!(
        store.update_user("zz", None, None).await,
        Err(StoreError::NotFound)
    ));
    store.set_last_seen("u1", 77).await.unwrap();
    assert_eq!(
        store.user_by_id("u1").await.unwrap().unwrap().last_seen,
        Some(77)
    );
}

/// Lookups of unknown users find nobody, a user search stops at its
/// limit, and presence may report the last seen time of a user deleted
/// meanwhile without an error.
pub async fn unknown_users_are_found_nowhere_and_their_last_seen_is_ignored(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &f.store;
    store.users(&["ann", "anna"]).await;
    let ann = store.user_by_id("ann").await.unwrap().unwrap();
    assert_eq!(
        (ann.display_name.as_str(), ann.last_seen, ann.avatar_file_id),
        ("ANN", None, None),
        "never connected, no avatar"
    );
    assert_eq!(store.user_by_id("ghost").await.unwrap(), None);
    assert_eq!(store.user_by_username("ghost").await.unwrap(), None);
    assert_eq!(store.search_users("ann", 1).await.unwrap().len(), 1);
    assert!(store.search_users("ghost", 10).await.unwrap().is_empty());
    store.set_last_seen("ghost", 5).await.unwrap();
    assert_eq!(store.user_by_id("ghost").await.unwrap(), None);
}

/// A refresh token works once: rotating it makes the new one live and
/// extends the session; presenting the old one again (a stolen copy)
/// revokes the whole session.
pub async fn refresh_rotation_kills_the_old_token_and_reuse_revokes_the_session(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    let store = &f.store;
    store
        .create_session("s1", "ann", "laptop", "h1", 100, 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .active_session_user("s1", 200)
            .await
            .unwrap()
            .as_deref(),
        Some("ann"),
        "a live session names its user"
    );
    assert!(
        store
            .active_session_user("s1", 1_000)
            .await
            .unwrap()
            .is_none(),
        "expired at expires_at"
    );

    let rotated = store.rotate_refresh("h1", "h2", 200, 2_000).await.unwrap();
    assert_eq!(
        rotated,
        RefreshOutcome::Rotated {
            session_id: "s1".into(),
            user_id: "ann".into()
        }
    );
    assert!(
        store
            .active_session_user("s1", 1_500)
            .await
            .unwrap()
            .is_some(),
        "rotation extends the session"
    );

    let reused = store.rotate_refresh("h1", "h3", 300, 3_000).await.unwrap();
    assert_eq!(
        reused,
        RefreshOutcome::Reused {
            session_id: "s1".into(),
            user_id: "ann".into()
        }
    );
    assert!(
        store
            .active_session_user("s1", 300)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.rotate_refresh("h2", "h4", 300, 3_000).await.unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh("nope", "h5", 300, 3_000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}

/// An expired session cannot be refreshed, and logging out with a used
/// token of a session still ends it.
pub async fn expired_sessions_do_not_rotate_and_logout_revokes_by_any_token(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    let store = &f.store;
    store
        .create_session("s1", "ann", "laptop", "h1", 100, 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh("h1", "h2", 1_000, 2_000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );

    store
        .create_session("s2", "ann", "laptop", "k1", 100, 1_000)
        .await
        .unwrap();
    store.rotate_refresh("k1", "k2", 200, 1_000).await.unwrap();
    assert_eq!(
        store.revoke_by_refresh("k1").await.unwrap(),
        Some(owner("s2", "ann"))
    );
    assert!(
        store
            .active_session_user("s2", 300)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.rotate_refresh("k2", "k3", 300, 1_000).await.unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(store.revoke_by_refresh("unknown").await.unwrap(), None);
}

/// Logging out with the live token ends that session only, and a
/// session nobody created is never active.
pub async fn logout_with_the_live_token_ends_the_session_and_unknown_ones_are_inactive(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    let store = &f.store;
    store
        .create_session("s1", "ann", "laptop", "h1", 100, 1_000)
        .await
        .unwrap();
    store
        .create_session("s2", "ann", "laptop", "k1", 100, 1_000)
        .await
        .unwrap();
    assert_eq!(
        store.revoke_by_refresh("h1").await.unwrap(),
        Some(owner("s1", "ann"))
    );
    assert!(
        store
            .active_session_user("s1", 200)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.rotate_refresh("h1", "h2", 200, 2_000).await.unwrap(),
        RefreshOutcome::Invalid,
        "a revoked session's token is dead"
    );
    assert!(
        store
            .active_session_user("s2", 200)
            .await
            .unwrap()
            .is_some(),
        "the other session lives on"
    );
    assert!(
        store
            .active_session_user("nope", 200)
            .await
            .unwrap()
            .is_none()
    );
}

fn owner(session_id: &str, user_id: &str) -> SessionOwner {
    SessionOwner {
        session_id: session_id.into(),
        user_id: user_id.into(),
    }
}

/// The people search finds a user by the start of any word of their
/// display name, in any case (beyond ASCII too), by the start of the
/// whole name, and still by username prefix; a rename moves the words
/// with the name, and a word's inside is no match.
pub async fn people_are_found_by_any_word_of_their_display_name(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &f.store;
    let mut bob = new_user("u1", "bobby");
    bob.display_name = "Bob Builder".into();
    store.create_user(bob).await.unwrap();
    let mut mary = new_user("u2", "mj");
    mary.display_name = "Mary-Jane Ölund".into();
    store.create_user(mary).await.unwrap();
    store.create_user(new_user("u3", "builder")).await.unwrap();
    let ids = |found: Vec<crate::UserRow>| found.into_iter().map(|u| u.id).collect::<Vec<_>>();

    assert_eq!(
        ids(store.search_users("Builder", 10).await.unwrap()),
        ["u1", "u3"],
        "ordered by username: bobby, builder"
    );
    assert_eq!(
        ids(store.search_users("build", 10).await.unwrap()),
        ["u1", "u3"]
    );
    assert_eq!(ids(store.search_users("BOB B", 10).await.unwrap()), ["u1"]);
    assert_eq!(
        ids(store.search_users("bob  bu", 10).await.unwrap()),
        ["u1"]
    );
    assert_eq!(ids(store.search_users("bob", 10).await.unwrap()), ["u1"]);
    assert_eq!(ids(store.search_users("jane", 10).await.unwrap()), ["u2"]);
    assert_eq!(ids(store.search_users("öl", 10).await.unwrap()), ["u2"]);
    assert_eq!(ids(store.search_users("ÖLUND", 10).await.unwrap()), ["u2"]);
    assert!(store.search_users("uilder", 10).await.unwrap().is_empty());
    assert!(store.search_users("%", 10).await.unwrap().is_empty());

    store
        .update_user("u1", Some("Robert Smith".into()), None)
        .await
        .unwrap();
    assert_eq!(ids(store.search_users("build", 10).await.unwrap()), ["u3"]);
    assert_eq!(ids(store.search_users("smi", 10).await.unwrap()), ["u1"]);
    assert_eq!(
        ids(store.search_users("bob", 10).await.unwrap()),
        ["u1"],
        "the username still matches"
    );
    store
        .update_user("u1", None, Some("f1".into()))
        .await
        .unwrap();
    assert_eq!(
        ids(store.search_users("smi", 10).await.unwrap()),
        ["u1"],
        "an avatar change keeps the words"
    );
}

/// A new password hash replaces the old one; an unknown user is
/// `NotFound`.
pub async fn a_password_hash_can_be_replaced(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &f.store;
    store.users(&["ann"]).await;
    store.set_password_hash("ann", "new-hash").await.unwrap();
    let ann = store.user_by_id("ann").await.unwrap().unwrap();
    assert_eq!(ann.password_hash, "new-hash");
    assert!(matches!(
        store.set_password_hash("ghost", "x").await,
        Err(StoreError::NotFound)
    ));
}
