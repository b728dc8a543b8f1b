//! Notification settings: a member's per chat and a user's own, read
//! back as set (defaults when never set), and a message's recipients
//! with everything that decides whether each is pushed, in one call.

use super::devices::subscribe_active;
use super::push::sessions;
use super::{Backend, Fixture, subscription};
use crate::{ChatNotifyRow, MarkerKind, NotifyLevel, RecipientSettings, UserNotifyRow};

/// Settings read back as set (defaults when never set); a message's
/// recipients are the other members with an active subscription on a
/// live device, each with their settings for the chat, their own, and
/// their read marker.
pub async fn recipients_honour_settings_and_need_an_active_subscription(backend: &dyn Backend) {
    let f = backend.open().await;
    let store = &*f.store;
    let everyone = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"];
    store.users(&everyone).await;
    store.group("g", &everyone[..6], 1).await;
    store.group("h", &["ann", "bob"], 1).await;
    sessions(
        store,
        &[
            ("a1", "ann"),
            ("b1", "bob"),
            ("c1", "cat"),
            ("d1", "dan"),
            ("g1", "gus"),
        ],
    )
    .await;
    store
        .create_session("e1", "eve", "old", "h-e1", 100, 400)
        .await
        .unwrap();
    for (id, user, session) in [
        ("pa", "ann", "a1"),
        ("pb", "bob", "b1"),
        ("pc", "cat", "c1"),
        ("pe", "eve", "e1"),
        ("pg", "gus", "g1"),
    ] {
        subscribe_active(store, id, user, session).await;
    }
    store
        .subscribe(subscription("pd", "dan", "d1", "https://push/pd"))
        .await
        .unwrap();

    assert_eq!(
        store.chat_notifications("bob", "g").await.unwrap(),
        ChatNotifyRow::default()
    );
    assert_eq!(
        store.user_notifications("bob").await.unwrap(),
        UserNotifyRow::default()
    );
    let bob_in_g = ChatNotifyRow {
        level: Some(NotifyLevel::Mentions),
        muted_until: Some(900),
    };
    let bob = UserNotifyRow {
        dnd_until: Some(800),
        keywords: vec!["lunch".into(), "release".into()],
        previews: false,
    };
    let cat_in_g = ChatNotifyRow {
        level: Some(NotifyLevel::None),
        muted_until: None,
    };
    store
        .set_chat_notifications(
            "bob",
            "h",
            &ChatNotifyRow {
                level: Some(NotifyLevel::All),
                muted_until: None,
            },
        )
        .await
        .unwrap();
    store
        .set_chat_notifications("bob", "g", &ChatNotifyRow::default())
        .await
        .unwrap();
    store
        .set_chat_notifications("bob", "g", &bob_in_g)
        .await
        .unwrap();
    store
        .set_chat_notifications("cat", "g", &cat_in_g)
        .await
        .unwrap();
    store
        .set_user_notifications("bob", &UserNotifyRow::default())
        .await
        .unwrap();
    store.set_user_notifications("bob", &bob).await.unwrap();
    assert_eq!(
        store.chat_notifications("bob", "g").await.unwrap(),
        bob_in_g
    );
    assert_eq!(store.user_notifications("bob").await.unwrap(), bob);
    assert_eq!(
        store.chat_notifications("bob", "h").await.unwrap().level,
        Some(NotifyLevel::All)
    );

    store.send("g", "ann", "one", 200).await;
    store.send("g", "ann", "two", 201).await;
    store
        .advance_marker("g", "bob", MarkerKind::Read, 1, 300)
        .await
        .unwrap();

    let mut found = store.recipients("g", "ann", 500).await.unwrap();
    found.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(
        found,
        [
            RecipientSettings {
                user_id: "bob".into(),
                chat: bob_in_g,
                user: bob,
                read_seq: 1,
            },
            RecipientSettings {
                user_id: "cat".into(),
                chat: cat_in_g,
                user: UserNotifyRow::default(),
                read_seq: 0,
            },
        ],
        "not the sender, not dan (pending), eve (expired), fay (none), gus (no member)"
    );
    let mut for_bob: Vec<String> = store
        .recipients("g", "bob", 500)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.user_id)
        .collect();
    for_bob.sort();
    assert_eq!(for_bob, ["ann", "cat"]);
    let ann = &store.recipients("h", "bob", 500).await.unwrap()[..];
    assert_eq!(ann.len(), 1);
    assert_eq!(
        (ann[0].user_id.as_str(), ann[0].read_seq, &ann[0].chat),
        ("ann", 0, &ChatNotifyRow::default())
    );
}
