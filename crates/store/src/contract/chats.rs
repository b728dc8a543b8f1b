//! Chats, members and the chat list.

use super::{Backend, Fixture, channel, direct};
use crate::{ChatUpdate, Conflict, MarkerKind, StoreError};
use natter_proto::chats::{ChatType, Role};

/// A pair of users has at most one direct chat: creating it again (two
/// clients opening the conversation) returns the existing one.
pub async fn creating_a_direct_chat_twice_returns_the_existing_one(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
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

/// Simultaneous creations of one pair's direct chat all end up in the
/// same chat, and exactly one of them created it.
pub async fn concurrent_direct_chat_creations_agree_on_one_chat(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let store = f.store.clone();
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

/// Members are listed in the order they joined, with their roles; one
/// can leave once; joining needs an existing chat and user; renaming
/// needs an existing chat.
pub async fn members_are_listed_oldest_first_and_can_leave(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat", "dan"]).await;
    f.store.group("g", &["cat", "ann", "bob"], 1).await;
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

    let rename = |name: &str| ChatUpdate {
        name: Some(name.to_owned()),
        ..ChatUpdate::default()
    };
    f.store.update_chat("g", &rename("renamed")).await.unwrap();
    assert_eq!(
        f.store.chat("g").await.unwrap().unwrap().name.as_deref(),
        Some("renamed")
    );
    assert!(matches!(
        f.store.update_chat("nope", &rename("x")).await,
        Err(StoreError::NotFound)
    ));
}

/// The membership reads callers authorize with (`membership`,
/// `member_role`) agree with the chat and member rows, and forget a
/// removed member at once.
pub async fn membership_and_member_role_follow_joins_and_removals(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store
        .create_chat(channel("news", "ann", &["bob"]))
        .await
        .unwrap();

    let (chat, member) = f.store.membership("g", "bob").await.unwrap().unwrap();
    assert_eq!(chat, f.store.chat("g").await.unwrap().unwrap());
    assert_eq!(member, f.store.member("g", "bob").await.unwrap().unwrap());
    assert_eq!((member.role, member.joined_at), (Role::Member, 1));
    assert!(f.store.membership("g", "cat").await.unwrap().is_none());
    assert!(f.store.membership("nope", "bob").await.unwrap().is_none());

    let role = |chat: &'static str, user: &'static str| f.store.member_role(chat, user);
    assert_eq!(
        role("g", "ann").await.unwrap(),
        Some((ChatType::Group, Role::Owner))
    );
    assert_eq!(
        role("news", "bob").await.unwrap(),
        Some((ChatType::Channel, Role::Member))
    );
    assert_eq!(role("news", "cat").await.unwrap(), None);

    let cat = f
        .store
        .add_member("g", "cat", Role::Admin, 2)
        .await
        .unwrap();
    assert_eq!(
        f.store.membership("g", "cat").await.unwrap().unwrap().1,
        cat
    );
    assert!(f.store.remove_member("g", "bob").await.unwrap());
    assert!(f.store.membership("g", "bob").await.unwrap().is_none());
    assert_eq!(role("g", "bob").await.unwrap(), None);
    let again = f
        .store
        .add_member("g", "cat", Role::Member, 3)
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Conflict(Conflict::Member)),
        "{again:?}"
    );
}

/// The chat list puts the most recently active chat first and carries
/// what the list shows: role, member count, unread count (others'
/// messages after the read marker, tombstones not counted), the last
/// message, and the peer of a direct chat.
pub async fn the_chat_list_is_most_recent_first_with_unread_counts_and_last_messages(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("quiet", &["ann", "bob", "cat"], 1).await;
    f.store.group("busy", &["bob", "ann"], 2).await;
    f.store
        .create_chat(direct("dm", "ann", "cat"))
        .await
        .unwrap();

    f.store.send("busy", "bob", "one", 20).await;
    f.store.send("busy", "bob", "two", 21).await;
    f.store.send("busy", "ann", "mine", 22).await;
    f.store.send("busy", "bob", "three", 23).await;
    f.store.send("busy", "bob", "four", 24).await;
    f.store.send("busy", "bob", "gone", 25).await;
    f.store.send("busy", "bob", "five", 26).await;
    f.store.delete_message("busy-bob-25", 27).await.unwrap();
    f.store.send("dm", "cat", "psst", 15).await;

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

/// A connecting client gets where each of its chats stands, most recent
/// first, and presence reaches the members of the user's small chats only.
pub async fn cursors_and_co_members_cover_the_users_chats(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat", "dan"]).await;
    f.store.group("small", &["ann", "bob"], 1).await;
    f.store.group("big", &["ann", "cat", "dan"], 2).await;
    f.store.send("small", "bob", "hi", 10).await;
    f.store.send("small", "bob", "there", 11).await;

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

/// A cluster's router learns where many chats stand in one call: each
/// known chat's `last_seq` and `last_version` (appends take both, an
/// edit the version only), unknown ids left out, nothing asked nothing
/// answered.
pub async fn chat_positions_tell_where_each_known_chat_stands(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    f.store.group("busy", &["ann", "bob"], 1).await;
    f.store.group("calm", &["ann", "bob"], 1).await;
    f.store.group("empty", &["ann"], 1).await;
    f.store.send("busy", "ann", "one", 10).await;
    f.store.send("busy", "bob", "two", 11).await;
    f.store.send("calm", "bob", "hello", 12).await;
    f.store
        .edit_message("busy-ann-10", "one, edited", 13)
        .await
        .unwrap();

    let asked: Vec<String> = ["calm", "nope", "busy", "empty"]
        .map(str::to_owned)
        .to_vec();
    let mut positions = f.store.chat_positions(&asked).await.unwrap();
    positions.sort();
    let view: Vec<_> = positions
        .iter()
        .map(|(id, seq, version)| (id.as_str(), *seq, *version))
        .collect();
    assert_eq!(view, [("busy", 2, 3), ("calm", 1, 1), ("empty", 0, 0)]);
    for (id, seq, version) in &positions {
        let chat = f.store.chat(id).await.unwrap().unwrap();
        assert_eq!((chat.last_seq, chat.last_version), (*seq, *version));
    }
    assert!(f.store.chat_positions(&[]).await.unwrap().is_empty());
    let unknown = ["nope".to_owned()];
    assert!(f.store.chat_positions(&unknown).await.unwrap().is_empty());
}
