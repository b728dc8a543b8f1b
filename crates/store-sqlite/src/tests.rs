//! Tests of the SQLite store through the [`Store`] trait, each on a fresh
//! database in its own temporary directory.

use super::SqliteStore;
use natter_config::StoreSettings;
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use natter_store::{
    Advance, Appended, Chats, CommitFeed, Conflict, Cursor, MarkerKind, Markers, MessageRow,
    Messages, NewChat, NewMessage, NewUser, Reactions, RefreshOutcome, Search, SearchQuery,
    SearchRow, Sessions, Store, StoreError, StoreResult, Users, commit_channel,
};
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

mod bench;
mod chats;
mod markers;
mod messages;
mod writes;

/// Searches with the words of `text` (the tests' shorthand).
trait SearchWords {
    async fn search_words(
        &self,
        user_id: &str,
        text: &str,
        chat_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchRow>>;
}

impl SearchWords for SqliteStore {
    async fn search_words(
        &self,
        user_id: &str,
        text: &str,
        chat_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchRow>> {
        self.search_messages(&SearchQuery {
            user_id: user_id.into(),
            words: text.split_whitespace().map(str::to_owned).collect(),
            chat_id: chat_id.map(str::to_owned),
            limit,
        })
        .await
    }
}

/// The text of a hit's snippet, matches between `[` and `]`.
fn marked(row: &SearchRow) -> String {
    row.snippet
        .iter()
        .map(|part| {
            if part.matched {
                format!("[{}]", part.text)
            } else {
                part.text.clone()
            }
        })
        .collect()
}

/// A store in a fresh directory (kept alive as long as the fixture).
struct Fixture {
    dir: TempDir,
    store: SqliteStore,
    /// What the store reports as committed.
    commits: CommitFeed,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings(&StoreSettings::default()).await
    }

    async fn with_settings(settings: &StoreSettings) -> Fixture {
        let dir = TempDir::new().unwrap();
        let (sink, commits) = commit_channel();
        let store = SqliteStore::open(&db_path(&dir), settings, sink)
            .await
            .unwrap();
        Fixture {
            dir,
            store,
            commits,
        }
    }

    /// Closes the store and opens the same file again.
    async fn reopen(self) -> Fixture {
        self.store.close().await;
        let (sink, commits) = commit_channel();
        let store = SqliteStore::open(&db_path(&self.dir), &StoreSettings::default(), sink)
            .await
            .unwrap();
        Fixture {
            dir: self.dir,
            store,
            commits,
        }
    }

    /// Creates users whose id, username and display name are `names`.
    async fn users(&self, names: &[&str]) {
        for name in names {
            self.store.create_user(new_user(name, name)).await.unwrap();
        }
    }

    /// A group chat `id` owned by the first of `members`, created at `at`.
    async fn group(&self, id: &str, members: &[&str], at: i64) {
        let chat = NewChat {
            id: id.into(),
            chat_type: ChatType::Group,
            name: Some(format!("{id} name")),
            created_by: members[0].into(),
            created_at: at,
            direct_key: None,
            members: members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        m.to_string(),
                        if i == 0 { Role::Owner } else { Role::Member },
                    )
                })
                .collect(),
        };
        assert!(self.store.create_chat(chat).await.unwrap().1);
    }

    /// Sends `content` as `sender` at `at`; returns the seq.
    async fn send(&self, chat: &str, sender: &str, content: &str, at: i64) -> i64 {
        let message = text(&format!("{chat}-{sender}-{at}"), chat, sender, content, at);
        match self.store.append_message(message).await.unwrap() {
            Appended::New(row) => row.seq,
            other => panic!("not stored: {other:?}"),
        }
    }
}

/// The message of an append that stored one or found the original (and
/// whether it is new); panics if the append was refused.
fn appended(outcome: Appended) -> (MessageRow, bool) {
    match outcome {
        Appended::New(row) => (row, true),
        Appended::Existing(row) => (row, false),
        refused => panic!("the append was refused: {refused:?}"),
    }
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("data").join("natter.db")
}

fn new_user(id: &str, username: &str) -> NewUser {
    NewUser {
        id: id.into(),
        username: username.into(),
        display_name: id.to_uppercase(),
        password_hash: "hash".into(),
        created_at: 1,
    }
}

fn text(id: &str, chat: &str, sender: &str, content: &str, at: i64) -> NewMessage {
    NewMessage {
        id: id.into(),
        chat_id: chat.into(),
        sender_id: sender.into(),
        message_type: MessageType::Text,
        content: content.into(),
        file_id: None,
        metadata: Metadata::default(),
        client_msg_id: None,
        created_at: at,
    }
}

fn direct(id: &str, a: &str, b: &str) -> NewChat {
    NewChat {
        id: id.into(),
        chat_type: ChatType::Direct,
        name: None,
        created_by: a.into(),
        created_at: 10,
        direct_key: Some(format!("{a}:{b}")),
        members: vec![(a.into(), Role::Owner), (b.into(), Role::Owner)],
    }
}

#[tokio::test]
async fn refresh_rotation_kills_the_old_token_and_reuse_revokes_the_session() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    let store = &f.store;
    store
        .create_session("s1", "ann", "h1", 100, 1_000)
        .await
        .unwrap();
    assert!(store.session_active("s1", 200).await.unwrap());
    assert!(
        !store.session_active("s1", 1_000).await.unwrap(),
        "expired at expires_at"
    );

    let rotated = store.rotate_refresh("h1", "h2", 200, 2_000).await.unwrap();
    assert_eq!(
        rotated,
        RefreshOutcome::Rotated {
            session_id: "s1".into(),
            user_id: "ann".into()
        }
    );
    assert!(
        store.session_active("s1", 1_500).await.unwrap(),
        "rotation extends the session"
    );

    let reused = store.rotate_refresh("h1", "h3", 300, 3_000).await.unwrap();
    assert_eq!(
        reused,
        RefreshOutcome::Reused {
            session_id: "s1".into()
        }
    );
    assert!(!store.session_active("s1", 300).await.unwrap());
    assert_eq!(
        store.rotate_refresh("h2", "h4", 300, 3_000).await.unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store
            .rotate_refresh("nope", "h5", 300, 3_000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}

#[tokio::test]
async fn expired_sessions_do_not_rotate_and_logout_revokes_by_any_token() {
    let f = Fixture::new().await;
    f.users(&["ann"]).await;
    let store = &f.store;
    store
        .create_session("s1", "ann", "h1", 100, 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh("h1", "h2", 1_000, 2_000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );

    store
        .create_session("s2", "ann", "k1", 100, 1_000)
        .await
        .unwrap();
    store.rotate_refresh("k1", "k2", 200, 1_000).await.unwrap();
    assert_eq!(
        store.revoke_by_refresh("k1").await.unwrap(),
        Some("s2".into())
    );
    assert!(!store.session_active("s2", 300).await.unwrap());
    assert_eq!(
        store.rotate_refresh("k2", "k3", 300, 1_000).await.unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(store.revoke_by_refresh("unknown").await.unwrap(), None);
}

#[tokio::test]
async fn usernames_are_unique_case_insensitively_and_searchable_by_prefix() {
    let f = Fixture::new().await;
    let store = &f.store;
    let ann = store.create_user(new_user("u1", "Ann")).await.unwrap();
    assert_eq!(ann.username, "ann");
    let taken = store.create_user(new_user("u2", "ann")).await.unwrap_err();
    assert!(
        matches!(taken, StoreError::Conflict(Conflict::Username)),
        "{taken:?}"
    );
    store.create_user(new_user("u3", "annika")).await.unwrap();
    store.create_user(new_user("u4", "bob_x")).await.unwrap();

    assert_eq!(
        store.user_by_username("ANN").await.unwrap(),
        Some(ann.clone())
    );
    let found = store.search_users("AN", 10).await.unwrap();
    let names: Vec<_> = found.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["ann", "annika"]);
    // `_` is literal, not a wildcard; display names (here "U4") match too.
    assert_eq!(store.search_users("bob_", 10).await.unwrap().len(), 1);
    assert!(store.search_users("bo_", 10).await.unwrap().is_empty());
    assert_eq!(store.search_users("u4", 10).await.unwrap()[0].id, "u4");

    let updated = store
        .update_user("u1", Some("Annie".into()), Some("f1".into()))
        .await
        .unwrap();
    assert_eq!(
        (
            updated.display_name.as_str(),
            updated.avatar_file_id.as_deref()
        ),
        ("Annie", Some("f1"))
    );
    let kept = store.update_user("u1", None, None).await.unwrap();
    assert_eq!(kept, updated);
    assert!(matches!(
        store.update_user("zz", None, None).await,
        Err(StoreError::NotFound)
    ));
    store.set_last_seen("u1", 77).await.unwrap();
    assert_eq!(
        store.user_by_id("u1").await.unwrap().unwrap().last_seen,
        Some(77)
    );
}

#[tokio::test]
async fn a_closed_store_refuses_writes_and_still_answers_close() {
    let f = Fixture::new().await;
    f.store.close().await;
    f.store.close().await;
    let refused = f
        .store
        .create_user(new_user("u1", "ann"))
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
}

/// Keeps the fixture's store shareable between spawned tasks.
fn shared(f: Fixture) -> (TempDir, Arc<SqliteStore>) {
    (f.dir, Arc::new(f.store))
}
