//! Encrypted chats: their kind of message, the Commit's epoch
//! precondition under concurrency and inside one batch, one direct chat
//! of each kind per pair, pending Welcomes per device and the latest
//! GroupInfo per chat.

use super::{Backend, Fixture, appended, direct, text};
use crate::{Appended, NewChat, NewMessage, NewWelcome, Store};
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use std::sync::Arc;

/// An encrypted group `id` owned by the first of `members`.
async fn encrypted_group<S: Store + ?Sized>(store: &S, id: &str, members: &[&str]) {
    let members = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let role = if i == 0 { Role::Owner } else { Role::Member };
            (m.to_string(), role)
        })
        .collect();
    store
        .create_chat(NewChat {
            id: id.into(),
            chat_type: ChatType::Group,
            name: Some(format!("{id} name")),
            created_by: "ann".into(),
            created_at: 1,
            direct_key: None,
            members,
            e2ee: true,
        })
        .await
        .unwrap();
}

/// An `mls` message; a Commit for `epoch` if one is given.
fn mls(id: &str, chat: &str, sender: &str, epoch: Option<i64>) -> NewMessage {
    NewMessage {
        message_type: MessageType::Mls,
        mls_epoch: epoch,
        ..text(id, chat, sender, &format!("ciphertext {id}"), 100)
    }
}

/// Of many Commits for one epoch sent at the same moment exactly one is
/// stored, and the chat moves to the next epoch once; the others learn
/// the epoch it is at now. The next epoch takes a Commit again.
pub async fn concurrent_commits_for_one_epoch_store_exactly_one(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    encrypted_group(&*f.store, "g", &["ann", "bob"]).await;
    let store: &Arc<dyn Store> = &f.store;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let sender = if i % 2 == 0 { "ann" } else { "bob" };
            let commit = mls(&format!("c{i}"), "g", sender, Some(0));
            tokio::spawn(async move { store.append_message(commit).await.unwrap() })
        })
        .collect();
    let mut stored = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Appended::New(row) => stored.push(row),
            Appended::StaleEpoch { current } => assert_eq!(current, 1),
            other => panic!("a Commit answered {other:?}"),
        }
    }
    assert_eq!(stored.len(), 1, "exactly one Commit for epoch 0");
    assert_eq!(stored[0].seq, 1);
    let chat = store.chat("g").await.unwrap().unwrap();
    assert_eq!((chat.mls_epoch, chat.last_seq), (1, 1));
    assert!(chat.e2ee);

    let (next, _) = appended(
        store
            .append_message(mls("next", "g", "bob", Some(1)))
            .await
            .unwrap(),
    );
    assert_eq!(next.seq, 2);
    let stale = store
        .append_message(mls("late", "g", "ann", Some(1)))
        .await
        .unwrap();
    assert_eq!(stale, Appended::StaleEpoch { current: 2 });
    assert_eq!(store.chat("g").await.unwrap().unwrap().mls_epoch, 2);
}

/// Queued one behind the other (one write batch), the first Commit for
/// an epoch wins and the second fails alone: the messages around it are
/// stored with gap-free seqs.
pub async fn a_stale_commit_fails_alone_in_its_batch(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    encrypted_group(&*f.store, "g", &["ann", "bob"]).await;
    let queued = [
        mls("c1", "g", "ann", Some(0)),
        mls("a1", "g", "bob", None),
        mls("c2", "g", "bob", Some(0)),
        mls("a2", "g", "ann", None),
        mls("c3", "g", "bob", Some(1)),
    ];
    let mut pending = Vec::new();
    for message in queued {
        pending.push(f.store.queue_append(message).await.unwrap());
    }
    let mut outcomes = Vec::new();
    for answer in pending {
        outcomes.push(match answer.await.unwrap() {
            Appended::New(row) => format!("{} seq {}", row.id, row.seq),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(
        outcomes,
        [
            "c1 seq 1",
            "a1 seq 2",
            "StaleEpoch { current: 1 }",
            "a2 seq 3",
            "c3 seq 4"
        ]
    );
    let chat = f.store.chat("g").await.unwrap().unwrap();
    assert_eq!((chat.mls_epoch, chat.last_seq), (2, 4));
}

/// An encrypted chat takes `mls` messages (and the server's call
/// entries), nothing else; a plain chat takes no `mls` message. `mls`
/// messages are never found by search, and deleting one leaves search
/// working.
pub async fn encrypted_chats_take_only_mls_messages_and_search_never_sees_them(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    encrypted_group(&*f.store, "secret", &["ann", "bob"]).await;
    f.store.group("plain", &["ann", "bob"], 1).await;
    let refused = f
        .store
        .append_message(text("t1", "secret", "ann", "hello", 10))
        .await
        .unwrap();
    assert_eq!(refused, Appended::Encryption { e2ee: true });
    let refused = f
        .store
        .append_message(mls("x1", "plain", "ann", None))
        .await
        .unwrap();
    assert_eq!(refused, Appended::Encryption { e2ee: false });
    let commit_in_plain = f
        .store
        .append_message(mls("x2", "plain", "ann", Some(0)))
        .await
        .unwrap();
    assert_eq!(commit_in_plain, Appended::Encryption { e2ee: false });
    assert_eq!(f.store.chat("secret").await.unwrap().unwrap().last_seq, 0);

    let mut findable = mls("m1", "secret", "ann", None);
    findable.content = "findme ciphertext".into();
    appended(f.store.append_message(findable).await.unwrap());
    let call = NewMessage {
        message_type: MessageType::Call,
        content: String::new(),
        metadata: Metadata::default(),
        ..text("call1", "secret", "ann", "", 20)
    };
    appended(f.store.append_message(call).await.unwrap());
    f.store
        .send("plain", "bob", "findme in the clear", 30)
        .await;
    let found = f
        .store
        .search_words("bob", "findme", None, 10)
        .await
        .unwrap();
    assert_eq!(
        found
            .iter()
            .map(|hit| hit.message.id.as_str())
            .collect::<Vec<_>>(),
        ["plain-bob-30"]
    );
    f.store.delete_message("m1", 40).await.unwrap();
    let found = f
        .store
        .search_words("bob", "clear", None, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

/// A pair may have one plain and one encrypted direct chat: two chats,
/// each found again by its own key.
pub async fn a_pair_has_one_plain_and_one_encrypted_direct_chat(backend: &dyn Backend) {
    let f = backend.open().await;
    f.store.users(&["ann", "bob"]).await;
    let (plain, _) = f
        .store
        .create_chat(direct("d1", "ann", "bob"))
        .await
        .unwrap();
    let encrypted = |id: &str| NewChat {
        direct_key: Some("ann:bob:e2ee".into()),
        e2ee: true,
        ..direct(id, "ann", "bob")
    };
    let (secret, created) = f.store.create_chat(encrypted("d2")).await.unwrap();
    assert!(created);
    assert_ne!(plain.id, secret.id);
    assert!(!plain.e2ee && secret.e2ee);
    let (again, created) = f.store.create_chat(encrypted("d3")).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, "d2");
    let listed = f.store.chat_for_user("d2", "bob").await.unwrap().unwrap();
    assert!(listed.chat.e2ee);
    assert_eq!(listed.chat.mls_epoch, 0);
}

/// A Welcome waits for its one device, from the moment its Commit is
/// stored, until that device acknowledges it or its session ends; a
/// refused Commit's Welcomes are dropped. The chat keeps only its latest
/// GroupInfo.
pub async fn welcomes_wait_for_their_device_and_the_latest_group_info_is_kept(
    backend: &dyn Backend,
) {
    let f = backend.open().await;
    let store = &f.store;
    store.users(&["ann", "bob"]).await;
    encrypted_group(&**store, "g", &["ann", "bob"]).await;
    for (session, user, hash) in [("b1", "bob", "h1"), ("b2", "bob", "h2")] {
        store
            .create_session(session, user, "phone", hash, 10, 10_000)
            .await
            .unwrap();
    }
    let welcome = |id: &str, session: &str, at: i64| NewWelcome {
        id: id.into(),
        chat_id: "g".into(),
        message_id: "c1".into(),
        user_id: "bob".into(),
        session_id: session.into(),
        epoch: 1,
        welcome: "the Welcome of c1".into(),
        created_at: at,
    };
    store
        .add_welcomes(&[
            welcome("w2", "b1", 20),
            welcome("w1", "b1", 10),
            welcome("w3", "b2", 10),
        ])
        .await
        .unwrap();
    let ids = |rows: Vec<crate::WelcomeRow>| rows.into_iter().map(|w| w.id).collect::<Vec<_>>();
    assert!(
        store.welcomes_for("b1").await.unwrap().is_empty(),
        "pending only once their Commit is stored"
    );
    appended(
        store
            .append_message(mls("c1", "g", "ann", Some(0)))
            .await
            .unwrap(),
    );
    let pending = store.welcomes_for("b1").await.unwrap();
    assert!(pending.iter().all(|w| w.welcome == "the Welcome of c1"));
    assert_eq!(ids(pending), ["w1", "w2"]);
    assert_eq!(ids(store.welcomes_for("b2").await.unwrap()), ["w3"]);
    assert!(!store.delete_welcome("b2", "w1").await.unwrap(), "not b2's");
    assert!(store.delete_welcome("b1", "w1").await.unwrap());
    assert!(!store.delete_welcome("b1", "w1").await.unwrap());
    assert_eq!(ids(store.welcomes_for("b1").await.unwrap()), ["w2"]);
    assert!(store.revoke_device("bob", "b1", 50).await.unwrap());
    assert!(store.welcomes_for("b1").await.unwrap().is_empty());
    store
        .add_welcomes(&[welcome("w4", "b1", 60)])
        .await
        .unwrap();
    assert!(
        store.welcomes_for("b1").await.unwrap().is_empty(),
        "an ended session gets no new Welcome"
    );
    // The Welcomes of a Commit that was refused are dropped.
    let refused = NewWelcome {
        message_id: "c-refused".into(),
        ..welcome("w5", "b2", 70)
    };
    store.add_welcomes(&[refused]).await.unwrap();
    store.discard_welcomes("c-refused").await.unwrap();
    store.discard_welcomes("c-never").await.unwrap();
    assert!(!store.delete_welcome("b2", "w5").await.unwrap(), "gone");
    assert_eq!(ids(store.welcomes_for("b2").await.unwrap()), ["w3"]);

    assert_eq!(store.group_info("g").await.unwrap(), None);
    store.put_group_info("g", 2, "info 2", 70).await.unwrap();
    store.put_group_info("g", 1, "info 1", 80).await.unwrap();
    assert_eq!(
        store.group_info("g").await.unwrap(),
        Some((2, "info 2".to_string()))
    );
    store.put_group_info("g", 3, "info 3", 90).await.unwrap();
    assert_eq!(
        store.group_info("g").await.unwrap(),
        Some((3, "info 3".to_string()))
    );
    assert!(store.remove_member("g", "bob").await.unwrap());
    assert!(
        store.welcomes_for("b2").await.unwrap().is_empty(),
        "a removed member's devices get no way back into the group"
    );
}
