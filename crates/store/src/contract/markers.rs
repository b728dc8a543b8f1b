//! Delivered and read markers, the receipts they give, and the facts of
//! an advance that decide who hears of it.

use super::{Backend, Fixture, Harness};
use crate::{Advance, Conflict, MarkerKind, Store, StoreError};
use natter_proto::chats::Role;

/// Markers never move back and never past the chat's last message;
/// reading implies delivery; receipts say when each other member's
/// markers first reached a message.
pub async fn markers_only_move_forward_and_receipts_report_when_they_reached_a_message(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat", "dan"]).await;
    f.store.group("g", &["ann", "bob", "cat"], 1).await;
    for at in 1..=3 {
        f.store.send("g", "ann", "x", at).await;
    }
    let store = &f.store;
    let advance = |user: &'static str, kind, seq, at| async move {
        let moved = store.advance_marker("g", user, kind, seq, at).await;
        moved.map(|moved| moved.map(|advance| advance.seq))
    };

    assert_eq!(
        advance("bob", MarkerKind::Delivered, 2, 100).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        advance("bob", MarkerKind::Delivered, 1, 110).await.unwrap(),
        None,
        "never back"
    );
    assert_eq!(
        advance("bob", MarkerKind::Delivered, 99, 200)
            .await
            .unwrap(),
        Some(3),
        "clamped to last_seq"
    );
    assert_eq!(
        advance("bob", MarkerKind::Read, 2, 300).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        advance("bob", MarkerKind::Read, 2, 310).await.unwrap(),
        None
    );
    assert_eq!(
        advance("dan", MarkerKind::Read, 2, 320).await.unwrap(),
        None,
        "not a member"
    );
    assert_eq!(
        advance("cat", MarkerKind::Read, 3, 400).await.unwrap(),
        Some(3)
    );

    let bob = f.store.member("g", "bob").await.unwrap().unwrap();
    assert_eq!((bob.delivered_seq, bob.read_seq), (3, 2));
    let cat = f.store.member("g", "cat").await.unwrap().unwrap();
    assert_eq!(
        (cat.delivered_seq, cat.read_seq),
        (3, 3),
        "reading implies delivery"
    );

    let receipts = f.store.receipts("g", 2, "ann").await.unwrap();
    let view: Vec<_> = receipts
        .iter()
        .map(|r| (r.user_id.as_str(), r.delivered_at, r.read_at))
        .collect();
    assert_eq!(
        view,
        [("bob", Some(100), Some(300)), ("cat", Some(400), Some(400))]
    );
    let receipts = f.store.receipts("g", 3, "ann").await.unwrap();
    let view: Vec<_> = receipts
        .iter()
        .map(|r| (r.user_id.as_str(), r.delivered_at, r.read_at))
        .collect();
    assert_eq!(
        view,
        [("bob", Some(200), None), ("cat", Some(400), Some(400))]
    );
}

/// A sender has read everything up to their own message, and a member
/// who joins starts with the history counted as read.
pub async fn sending_reads_what_came_before_and_joining_counts_history_as_read(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob", "cat"]).await;
    f.store.group("g", &["ann", "bob"], 1).await;
    f.store.send("g", "ann", "question", 10).await;
    f.store.send("g", "bob", "answer", 20).await;
    let bob = f.store.member("g", "bob").await.unwrap().unwrap();
    assert_eq!((bob.read_seq, bob.delivered_seq), (2, 2));
    let receipts = f.store.receipts("g", 1, "ann").await.unwrap();
    assert_eq!(
        (receipts[0].delivered_at, receipts[0].read_at),
        (Some(20), Some(20))
    );

    let cat = f
        .store
        .add_member("g", "cat", Role::Member, 30)
        .await
        .unwrap();
    assert_eq!(
        (cat.read_seq, cat.delivered_seq, cat.role),
        (2, 2, Role::Member)
    );
    let receipts = f.store.receipts("g", 1, "ann").await.unwrap();
    assert_eq!(receipts[1].user_id, "cat");
    assert_eq!(
        (receipts[1].delivered_at, receipts[1].read_at),
        (Some(30), Some(30))
    );
    let again = f
        .store
        .add_member("g", "cat", Role::Admin, 40)
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Conflict(Conflict::Member)),
        "{again:?}"
    );
}

/// `count` users named `{prefix}00`, `{prefix}01`, ... (made in the store).
async fn crowd(store: &dyn Store, prefix: &str, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    store.users(&refs).await;
    names
}

/// Advances and returns `(new marker, others at or past it)`, or `None`
/// if it did not move.
async fn advance(
    f: &Harness,
    chat: &str,
    user: &str,
    kind: MarkerKind,
    seq: i64,
) -> Option<(i64, u32)> {
    f.store
        .advance_marker(chat, user, kind, seq, 1_000)
        .await
        .unwrap()
        .map(|advance| (advance.seq, advance.others_reached))
}

/// An advance says how many other members are at or past the new marker
/// (0, 1, or 2 for "two or more"; a sender has their own message), which
/// is what a caller needs to decide who hears of it, in a chat of any
/// size, without reading the members.
pub async fn an_advance_counts_the_other_members_at_or_past_it_up_to_two(backend: &dyn Backend) {
    let f = backend.open().await;
    let names = crowd(&*f.store, "m", 40).await;
    let members: Vec<&str> = names.iter().map(String::as_str).collect();
    f.store.group("big", &members, 1).await;
    let (ann, bob, cat, dan, eve) = (members[0], members[1], members[2], members[3], members[4]);
    use MarkerKind::{Delivered, Read};

    f.store.send("big", ann, "hello", 10).await;
    assert_eq!(
        advance(&f, "big", bob, Delivered, 1).await,
        Some((1, 1)),
        "ann, the sender, has her own message"
    );
    assert_eq!(advance(&f, "big", cat, Delivered, 1).await, Some((1, 2)));
    assert_eq!(
        advance(&f, "big", cat, Read, 1).await,
        Some((1, 1)),
        "delivered markers do not count for reads"
    );
    assert_eq!(advance(&f, "big", dan, Read, 1).await, Some((1, 2)));
    assert_eq!(
        advance(&f, "big", eve, Delivered, 1).await,
        Some((1, 2)),
        "counted no further than 2, reads count as deliveries"
    );

    f.store.send("big", bob, "reply", 20).await;
    assert_eq!(
        advance(&f, "big", ann, Delivered, 99).await,
        Some((2, 1)),
        "counted at the clamped seq: only bob, the sender, is there"
    );
    assert_eq!(advance(&f, "big", eve, Read, 2).await, Some((2, 1)));
    assert_eq!(advance(&f, "big", cat, Read, 2).await, Some((2, 2)));
    assert_eq!(advance(&f, "big", cat, Read, 2).await, None, "did not move");
}

/// An advance reports the chat's member count as it is now, joins and
/// removals included.
pub async fn an_advance_reports_the_member_count_as_members_come_and_go(backend: &dyn Backend) {
    let f = backend.open().await;
    let names = crowd(&*f.store, "s", 5).await;
    let members: Vec<&str> = names.iter().map(String::as_str).collect();
    f.store.group("small", &members[..4], 1).await;
    f.store.send("small", members[0], "hello", 10).await;
    let count = |advance: Option<Advance>| advance.expect("moved").member_count;
    let moved = f
        .store
        .advance_marker("small", members[1], MarkerKind::Read, 1, 1_000)
        .await
        .unwrap();
    assert_eq!(count(moved), 4);
    f.store
        .add_member("small", members[4], Role::Member, 20)
        .await
        .unwrap();
    assert!(f.store.remove_member("small", members[3]).await.unwrap());
    assert!(f.store.remove_member("small", members[2]).await.unwrap());
    f.store.send("small", members[0], "again", 30).await;
    let moved = f
        .store
        .advance_marker("small", members[4], MarkerKind::Read, 2, 1_000)
        .await
        .unwrap();
    assert_eq!(count(moved), 3);
}
