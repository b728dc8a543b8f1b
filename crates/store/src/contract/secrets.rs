//! Shared secrets: the first candidate stored under a name is the secret,
//! for every caller and across restarts.

use super::Backend;

/// Nodes starting together each offer a freshly generated secret: the
/// first one stored wins, everyone (racing or later, before or after a
/// restart) gets exactly its bytes, and names are independent.
pub async fn a_shared_secret_is_the_first_candidate_stored_and_never_changes(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    // Bytes, not text: zeros and bytes that are no UTF-8 survive.
    let first = b"\x00\xffsigning key\x80".to_vec();
    assert_eq!(
        f.store.shared_secret("tokens", &first).await.unwrap(),
        first
    );
    assert_eq!(
        f.store.shared_secret("tokens", b"another").await.unwrap(),
        first,
        "a later candidate changes nothing"
    );
    assert_eq!(
        f.store.shared_secret("push", b"push key").await.unwrap(),
        b"push key",
        "another name, another secret"
    );

    let racers: Vec<_> = (0..8u8)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move { store.shared_secret("raced", &[i; 32]).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for racer in racers {
        seen.push(racer.await.unwrap());
    }
    assert!(seen.iter().all(|secret| *secret == seen[0]), "{seen:?}");
    assert!(
        (0..8u8).any(|i| seen[0] == [i; 32]),
        "one of the candidates"
    );

    let f = backend.reopen(f).await;
    assert_eq!(
        f.store.shared_secret("tokens", b"after").await.unwrap(),
        first
    );
    assert_eq!(
        f.store.shared_secret("raced", b"after").await.unwrap(),
        seen[0]
    );
}
