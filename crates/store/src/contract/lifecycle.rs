//! Closing: a server shutting down must see calls fail in a way it can
//! tell from a broken database (`Unavailable`), never hang or panic.

use super::{Backend, Fixture, new_user};
use crate::StoreError;

/// After `close`, writes fail with `Unavailable`, and closing again (two
/// shutdown paths racing) is harmless.
pub async fn a_closed_store_refuses_writes_and_still_answers_close(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.close().await;
    f.store.close().await;
    let refused = f
        .store
        .create_user(new_user("u1", "ann"))
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
}

/// `/readyz` answers while the store is open and turns unavailable once
/// it is closed, like every read.
pub async fn a_closed_store_answers_reads_and_pings_as_unavailable(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann"]).await;
    f.store.ping().await.unwrap();
    f.store.close().await;
    let ping = f.store.ping().await.unwrap_err();
    assert!(matches!(ping, StoreError::Unavailable(_)), "{ping:?}");
    let read = f.store.user_by_id("ann").await.unwrap_err();
    assert!(matches!(read, StoreError::Unavailable(_)), "{read:?}");
    let list = f.store.chats_for_user("ann").await.unwrap_err();
    assert!(matches!(list, StoreError::Unavailable(_)), "{list:?}");
}
