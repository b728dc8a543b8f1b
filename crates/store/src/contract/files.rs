//! Uploaded files' metadata: lookups, storage quotas, who may download,
//! and collecting uploads nothing refers to.

use super::{Backend, Fixture, Harness, appended, text};
use crate::FileRow;
use natter_proto::messages::MessageType;

/// A PNG `id` of `size` bytes uploaded by `owner` at `at`.
fn upload(id: &str, owner: &str, size: i64, at: i64) -> FileRow {
    FileRow {
        id: id.into(),
        owner_id: owner.into(),
        name: format!("{id}.png"),
        mime: "image/png".into(),
        size,
        sha256: "ab".repeat(32),
        width: Some(640),
        height: Some(480),
        thumbnail_mime: Some("image/webp".into()),
        created_at: at,
    }
}

/// An image message `id` in `chat` by `sender` showing `file`.
async fn post_image(f: &Harness, id: &str, chat: &str, sender: &str, file: &str) {
    let mut message = text(id, chat, sender, "", 50);
    message.message_type = MessageType::Image;
    message.file_id = Some(file.into());
    appended(f.store.append_message(message).await.unwrap());
}

/// A file's metadata reads back as uploaded, alone or in a batch (unknown
/// ids skipped), and its bytes count towards its owner's quota only.
pub async fn files_keep_their_metadata_and_count_towards_their_owners_storage(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    let (one, two, three) = (
        upload("f1", "ann", 100, 1),
        upload("f2", "ann", 50, 2),
        upload("f3", "bob", 7, 3),
    );
    for file in [&one, &two, &three] {
        f.store.create_file(file.clone()).await.unwrap();
    }
    let mut plain = upload("f4", "bob", 1, 4);
    (plain.width, plain.height, plain.thumbnail_mime) = (None, None, None);
    plain.mime = "text/plain".into();
    f.store.create_file(plain.clone()).await.unwrap();

    assert_eq!(f.store.file("f1").await.unwrap(), Some(one.clone()));
    assert_eq!(f.store.file("f4").await.unwrap(), Some(plain));
    assert_eq!(f.store.file("nope").await.unwrap(), None);
    let ids = ["f3", "nope", "f1"].map(String::from);
    let mut found = f.store.files(&ids).await.unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(found, [one, three]);
    assert!(f.store.files(&[]).await.unwrap().is_empty());

    assert_eq!(f.store.storage_used("ann").await.unwrap(), 150);
    assert_eq!(f.store.storage_used("bob").await.unwrap(), 8);
    assert_eq!(f.store.storage_used("cat").await.unwrap(), 0);
}

/// Members of a chat may download what its live messages show, anyone
/// may download an avatar, and nobody else (leaving the chat or deleting
/// the message takes the right away).
pub async fn a_file_is_visible_through_live_messages_of_the_users_chats_and_as_an_avatar(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat", "dan"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    for id in ["shown", "kept", "face"] {
        f.store.create_file(upload(id, "ann", 10, 1)).await.unwrap();
    }
    post_image(&f, "m1", "g", "ann", "shown").await;
    f.store
        .update_user("cat", None, Some("face".into()))
        .await
        .unwrap();
    let visible = |file: &'static str, user: &'static str| f.store.file_visible_to(file, user);

    assert!(visible("shown", "bob").await.unwrap());
    assert!(!visible("shown", "cat").await.unwrap(), "not a member");
    assert!(!visible("kept", "bob").await.unwrap(), "in no message");
    assert!(visible("face", "dan").await.unwrap(), "an avatar");
    assert!(!visible("nope", "bob").await.unwrap());

    assert!(f.store.remove_member("g", "bob").await.unwrap());
    assert!(!visible("shown", "bob").await.unwrap(), "left the chat");
    f.store.delete_message("m1", 60).await.unwrap();
    assert!(
        !visible("shown", "ann").await.unwrap(),
        "a tombstone shows no file"
    );
}

/// The collector finds old uploads that no message and no avatar refers
/// to, oldest first; deleting succeeds for those only (a file referred
/// to meanwhile is kept), and a deleted file no longer counts.
pub async fn only_old_files_nothing_refers_to_are_orphans_and_deletable(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.group("g", &["ann"], 1).await;
    for (id, at) in [("old", 10), ("shown", 20), ("face", 30), ("older", 5)] {
        f.store
            .create_file(upload(id, "ann", 10, at))
            .await
            .unwrap();
    }
    f.store
        .create_file(upload("new", "ann", 10, 100))
        .await
        .unwrap();
    post_image(&f, "m1", "g", "ann", "shown").await;
    f.store
        .update_user("ann", None, Some("face".into()))
        .await
        .unwrap();
    let orphans = |limit| {
        let store = &f.store;
        async move {
            let found = store.orphan_files(50, limit).await.unwrap();
            found.into_iter().map(|file| file.id).collect::<Vec<_>>()
        }
    };

    assert_eq!(orphans(10).await, ["older", "old"]);
    assert_eq!(orphans(1).await, ["older"]);
    assert!(!f.store.delete_file("shown").await.unwrap(), "in a message");
    assert!(!f.store.delete_file("face").await.unwrap(), "an avatar");
    assert!(f.store.delete_file("older").await.unwrap());
    assert_eq!(f.store.file("older").await.unwrap(), None);
    assert!(!f.store.delete_file("older").await.unwrap(), "already gone");
    assert_eq!(f.store.storage_used("ann").await.unwrap(), 40);

    post_image(&f, "m2", "g", "ann", "old").await;
    assert!(
        !f.store.delete_file("old").await.unwrap(),
        "referred to since it was listed"
    );
    f.store.delete_message("m1", 60).await.unwrap();
    assert_eq!(orphans(10).await, ["shown"], "its message is a tombstone");
    assert!(f.store.delete_file("shown").await.unwrap());
}
