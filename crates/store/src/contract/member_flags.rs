//! A member's own marks on a chat: set and kept per member, shown in
//! that member's chat list only, cleared (`marked_unread`) by a read
//! advance that moves, and gone with the membership.

use super::{Backend, Fixture};
use crate::{ChatNotifyRow, MarkerKind, MemberFlags, MemberFlagsChange};

/// Marks are per member: each change keeps what it does not name, the
/// chat list shows the member's own marks and `muted_until`, a read that
/// moves clears `marked_unread` (and says so) while a delivered advance
/// or a read that moves nothing does not, and a non-member has none.
pub async fn member_flags_are_per_member_and_a_read_clears_marked_unread(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    let flags = |pinned, archived, marked_unread| MemberFlags {
        pinned,
        archived,
        marked_unread,
    };

    let set = f
        .store
        .set_member_flags(
            "g",
            "ann",
            MemberFlagsChange {
                pinned: Some(true),
                marked_unread: Some(true),
                ..MemberFlagsChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(set, Some(flags(true, false, true)));
    let set = f
        .store
        .set_member_flags(
            "g",
            "ann",
            MemberFlagsChange {
                archived: Some(true),
                pinned: Some(false),
                ..MemberFlagsChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(set, Some(flags(false, true, true)), "marked_unread kept");
    let anns = f.store.chat_for_user("g", "ann").await.unwrap().unwrap();
    assert_eq!(anns.flags, flags(false, true, true));
    let bobs = f.store.chats_for_user("bob").await.unwrap();
    assert_eq!(bobs[0].flags, MemberFlags::default(), "Ann's marks only");
    assert_eq!(bobs[0].muted_until, None);

    let muted = ChatNotifyRow {
        level: None,
        muted_until: Some(5_000),
    };
    f.store
        .set_chat_notifications("bob", "g", &muted)
        .await
        .unwrap();
    let bobs = f.store.chat_for_user("g", "bob").await.unwrap().unwrap();
    assert_eq!(bobs.muted_until, Some(5_000));

    f.store.send("g", "bob", "one", 10).await;
    f.store.send("g", "bob", "two", 11).await;
    let delivered = f
        .store
        .advance_marker("g", "ann", MarkerKind::Delivered, 2, 12)
        .await
        .unwrap()
        .unwrap();
    assert!(!delivered.cleared_unread);
    let read = f
        .store
        .advance_marker("g", "ann", MarkerKind::Read, 1, 13)
        .await
        .unwrap()
        .unwrap();
    assert!(read.cleared_unread, "the read cleared the mark");
    let anns = f.store.chat_for_user("g", "ann").await.unwrap().unwrap();
    assert_eq!(anns.flags, flags(false, true, false), "archive kept");
    let again = f
        .store
        .advance_marker("g", "ann", MarkerKind::Read, 2, 14)
        .await
        .unwrap()
        .unwrap();
    assert!(!again.cleared_unread, "nothing left to clear");

    let outsider = f
        .store
        .set_member_flags(
            "g",
            "cat",
            MemberFlagsChange {
                pinned: Some(true),
                ..MemberFlagsChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(outsider, None);
    assert!(f.store.remove_member("g", "ann").await.unwrap());
    f.store
        .add_member("g", "ann", natter_proto::chats::Role::Member, 20)
        .await
        .unwrap();
    let back = f.store.chat_for_user("g", "ann").await.unwrap().unwrap();
    assert_eq!(
        back.flags,
        MemberFlags::default(),
        "marks end with the membership"
    );
}
