//! Delivered and read markers, and the receipts they give.

use super::*;

#[tokio::test]
async fn markers_only_move_forward_and_receipts_report_when_they_reached_a_message() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat", "dan"]).await;
    f.group("g", &["ann", "bob", "cat"], 1).await;
    for at in 1..=3 {
        f.send("g", "ann", "x", at).await;
    }
    let advance =
        |user: &'static str, kind, seq, at| f.store.advance_marker("g", user, kind, seq, at);

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

#[tokio::test]
async fn sending_reads_what_came_before_and_joining_counts_history_as_read() {
    let f = Fixture::new().await;
    f.users(&["ann", "bob", "cat"]).await;
    f.group("g", &["ann", "bob"], 1).await;
    f.send("g", "ann", "question", 10).await;
    f.send("g", "bob", "answer", 20).await;
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
    assert!(matches!(again, StoreError::Conflict("member")), "{again:?}");
}
