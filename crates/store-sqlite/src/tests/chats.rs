//! Chats, members and the chat list.

use super::*;

#[tokio::test]
async fn creating_a_direct_chat_twice_returns_the_existing_one() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    let (chat, created) = f
        .store
        .create_chat(direct("d1", "ann", "bob"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (chat.chat_type, chat.last_seq, chat.last_activity_at),
        (ChatType::Direct, 0, 10)
    );

    let (again, created) = f
        .store
        .create_chat(direct("d2", "ann", "bob"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, chat);
    assert!(f.store.chat("d2").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_direct_chat_creations_agree_on_one_chat() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob"]).await;
    let (_dir, store) = shared(f);
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_chat(direct(&format!("d{i}"), "ann", "bob"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    assert!(results.iter().all(|(chat, _)| chat.id == results[0].0.id));
}

#[tokio::test]
async fn members_are_listed_oldest_first_and_can_leave() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat", "dan"]).await;
    f.group("g", &["cat", "ann", "bob"], 1).await;
    f.store
        .add_member("g", "dan", Role::Admin, 5)
        .await
        .unwrap();
    let members = f.store.members("g").await.unwrap();
    let view: Vec<_> = members
        .iter()
        .map(|m| (m.user_id.as_str(), m.role, m.joined_at))
        .collect();
    assert_eq!(
        view,
        [
            ("cat", Role::Owner, 1),
            ("ann", Role::Member, 1),
            ("bob", Role::Member, 1),
            ("dan", Role::Admin, 5)
        ]
    );
    assert!(f.store.remove_member("g", "ann").await.unwrap());
    assert!(!f.store.remove_member("g", "ann").await.unwrap());
    assert!(f.store.member("g", "ann").await.unwrap().is_none());
    assert!(matches!(
        f.store.add_member("nope", "ann", Role::Member, 6).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        f.store.add_member("g", "ghost", Role::Member, 6).await,
        Err(StoreError::NotFound)
    ));

    f.store.rename_chat("g", "renamed").await.unwrap();
    assert_eq!(
        f.store.chat("g").await.unwrap().unwrap().name.as_deref(),
        Some("renamed")
    );
    assert!(matches!(
        f.store.rename_chat("nope", "x").await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn the_chat_list_is_most_recent_first_with_unread_counts_and_last_messages() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat"]).await;
    f.group("quiet", &["ann", "bob", "cat"], 1).await;
    f.group("busy", &["bob", "ann"], 2).await;
    f.store
        .create_chat(direct("dm", "ann", "cat"))
        .await
        .unwrap();

    f.send("busy", "bob", "one", 20).await;
    f.send("busy", "bob", "two", 21).await;
    f.send("busy", "ann", "mine", 22).await;
    f.send("busy", "bob", "three", 23).await;
    f.send("busy", "bob", "four", 24).await;
    f.send("busy", "bob", "gone", 25).await;
    f.send("busy", "bob", "five", 26).await;
    f.store.delete_message("busy-bob-25", 27).await.unwrap();
    f.send("dm", "cat", "psst", 15).await;

    let list = f.store.chats_for_user("ann").await.unwrap();
    let order: Vec<_> = list.iter().map(|c| c.chat.id.as_str()).collect();
    assert_eq!(order, ["busy", "dm", "quiet"]);

    let busy = &list[0];
    assert_eq!(
        (busy.role, busy.member_count, busy.read_seq),
        (Role::Member, 2, 3)
    );
    assert_eq!(
        busy.unread_count, 3,
        "seq 4, 5 and 7: not own, not deleted, after read_seq"
    );
    assert_eq!(busy.chat.last_seq, 7);
    let last = busy.last_message.as_ref().unwrap();
    assert_eq!((last.seq, last.content.as_str()), (7, "five"));
    assert_eq!(busy.peer, None);

    let dm = &list[1];
    assert_eq!(dm.peer, Some(("cat".to_string(), "CAT".to_string())));
    assert_eq!((dm.unread_count, dm.member_count), (1, 2));
    let quiet = &list[2];
    assert_eq!(
        (quiet.role, quiet.unread_count, quiet.last_message.as_ref()),
        (Role::Owner, 0, None)
    );
    assert_eq!(quiet.chat.name.as_deref(), Some("quiet name"));

    f.store
        .advance_marker("busy", "ann", MarkerKind::Read, 7, 30)
        .await
        .unwrap();
    let one = f.store.chat_for_user("busy", "ann").await.unwrap().unwrap();
    assert_eq!((one.unread_count, one.read_seq), (0, 7));
    assert_eq!(one.last_message, busy.last_message);
    assert!(
        f.store
            .chat_for_user("busy", "cat")
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.chats_for_user("nobody").await.unwrap().is_empty());
}

#[tokio::test]
async fn cursors_and_co_members_cover_the_users_chats() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat", "dan"]).await;
    f.group("small", &["ann", "bob"], 1).await;
    f.group("big", &["ann", "cat", "dan"], 2).await;
    f.send("small", "bob", "hi", 10).await;
    f.send("small", "bob", "there", 11).await;

    let cursors = f.store.chat_cursors("ann").await.unwrap();
    let view: Vec<_> = cursors
        .iter()
        .map(|c| (c.chat_id.as_str(), c.last_seq, c.read_seq))
        .collect();
    assert_eq!(view, [("small", 2, 0), ("big", 0, 0)]);

    let mut audience = f.store.co_members("ann", 2).await.unwrap();
    audience.sort();
    assert_eq!(audience, ["bob"], "only chats of at most two members");
    let mut audience = f.store.co_members("ann", 10).await.unwrap();
    audience.sort();
    assert_eq!(audience, ["bob", "cat", "dan"]);
}
