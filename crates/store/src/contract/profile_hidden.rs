//! A chat's profile (topic, description, avatar) and messages hidden by
//! one user ("delete for me"): what the store keeps of each, who it
//! touches, and what it leaves alone.

use super::{Backend, Fixture};
use crate::{ChatProfile, ChatUpdate, FileRow, StoreError};

/// A profile update changes only the fields it gives (clearing with
/// `Some(None)`); an avatar is readable by the chat's members only and is
/// never an orphan while it is one.
pub async fn a_chats_profile_changes_field_by_field_and_its_avatar_is_kept_for_members(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store
        .create_file(FileRow {
            id: "pic".into(),
            owner_id: "ann".into(),
            name: "pic.png".into(),
            mime: "image/png".into(),
            size: 10,
            sha256: "ab".repeat(32),
            width: Some(64),
            height: Some(64),
            thumbnail_mime: Some("image/png".into()),
            created_at: 1,
        })
        .await
        .unwrap();
    let update = ChatUpdate {
        topic: Some(Some("plans".into())),
        description: Some(Some("line\nline".into())),
        avatar_file_id: Some(Some("pic".into())),
        ..Default::default()
    };
    f.store.update_chat("g", &update).await.unwrap();
    let chat = f.store.chat("g").await.unwrap().unwrap();
    assert_eq!(chat.name.as_deref(), Some("g name"));
    assert_eq!(
        chat.profile,
        ChatProfile {
            topic: Some("plans".into()),
            description: Some("line\nline".into()),
            avatar_file_id: Some("pic".into()),
        }
    );
    let listed = f.store.chat_for_user("g", "bob").await.unwrap().unwrap();
    assert_eq!(listed.chat.profile, chat.profile);

    assert!(f.store.file_visible_to("pic", "bob").await.unwrap());
    assert!(
        !f.store.file_visible_to("pic", "cat").await.unwrap(),
        "not a member"
    );
    assert!(f.store.orphan_files(i64::MAX, 10).await.unwrap().is_empty());
    assert!(
        !f.store.delete_file("pic").await.unwrap(),
        "a chat's avatar"
    );

    let rename_and_clear = ChatUpdate {
        name: Some("new".into()),
        topic: Some(None),
        ..Default::default()
    };
    f.store.update_chat("g", &rename_and_clear).await.unwrap();
    let chat = f.store.chat("g").await.unwrap().unwrap();
    assert_eq!(chat.name.as_deref(), Some("new"));
    assert_eq!(chat.profile.topic, None);
    assert_eq!(chat.profile.description.as_deref(), Some("line\nline"));
    f.store
        .update_chat(
            "g",
            &ChatUpdate {
                avatar_file_id: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(f.store.orphan_files(i64::MAX, 10).await.unwrap().len(), 1);
    assert!(matches!(
        f.store.update_chat("nope", &ChatUpdate::default()).await,
        Err(StoreError::NotFound)
    ));
}

/// Hiding is per user and idempotent; the hider's search and chat list
/// skip the message, another member's do not.
pub async fn a_hidden_message_is_hidden_for_its_hider_only(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store.send("g", "ann", "first pineapple", 10).await;
    f.store.send("g", "ann", "second pineapple", 11).await;
    let (first, second) = ("g-ann-10".to_owned(), "g-ann-11".to_owned());

    assert!(f.store.hide_message("bob", &second, 20).await.unwrap());
    assert!(
        !f.store.hide_message("bob", &second, 21).await.unwrap(),
        "twice"
    );
    assert!(matches!(
        f.store.hide_message("bob", "nope", 22).await,
        Err(StoreError::NotFound)
    ));
    let ids = [first.clone(), second.clone(), "nope".to_owned()];
    assert_eq!(
        f.store.hidden_among("bob", &ids).await.unwrap(),
        std::slice::from_ref(&second)
    );
    assert!(f.store.hidden_among("ann", &ids).await.unwrap().is_empty());
    assert!(f.store.hidden_among("bob", &[]).await.unwrap().is_empty());

    let hits = |user: &'static str| {
        let store = &f.store;
        async move {
            let found = store
                .search_words(user, "pineapple", None, 10)
                .await
                .unwrap();
            let mut ids: Vec<String> = found.into_iter().map(|hit| hit.message.id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(hits("bob").await, std::slice::from_ref(&first));
    assert_eq!(hits("ann").await, [first.clone(), second.clone()]);

    let last = |user: &'static str| {
        let store = &f.store;
        async move {
            let entry = store.chat_for_user("g", user).await.unwrap().unwrap();
            (entry.chat.last_seq, entry.last_message.map(|m| m.id))
        }
    };
    assert_eq!(last("bob").await, (2, Some(first.clone())));
    assert_eq!(last("ann").await, (2, Some(second.clone())));
    assert!(f.store.hide_message("bob", &first, 23).await.unwrap());
    assert_eq!(last("bob").await, (2, None));
    let listed = f.store.chats_for_user("bob").await.unwrap();
    assert_eq!(listed.len(), 1, "the chat stays listed");
    assert_eq!(listed[0].last_message, None);
}
