//! The data the contract tests build on, written once for every backend:
//! users, chats, messages, push subscriptions and deliveries with
//! predictable ids, and the shorthands the assertions read through.

use super::PATIENCE;
use crate::{
    Appended, CommitFeed, MessageRow, NewChat, NewDelivery, NewMessage, NewSubscription, NewUser,
    SearchQuery, SearchRow, Store, StoreResult,
};
use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use std::sync::Arc;

/// Shorthands for filling any store with test data; panic if the store
/// refuses.
#[async_trait]
pub trait Fixture {
    /// Creates users whose id, username and display name are `names`
    /// (display names upper-cased).
    async fn users(&self, names: &[&str]);
    /// A group chat `id` named "`id` name", owned by the first of
    /// `members` (the others plain members), created at `at`.
    async fn group(&self, id: &str, members: &[&str], at: i64);
    /// Sends `content` as `sender` at `at`, with the id
    /// `{chat}-{sender}-{at}`; returns its seq.
    async fn send(&self, chat: &str, sender: &str, content: &str, at: i64) -> i64;
    /// Searches with the words of `text`.
    async fn search_words(
        &self,
        user_id: &str,
        text: &str,
        chat_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<SearchRow>>;
}

#[async_trait]
impl<S: Store + ?Sized> Fixture for S {
    async fn users(&self, names: &[&str]) {
        for name in names {
            self.create_user(new_user(name, name)).await.unwrap();
        }
    }

    async fn group(&self, id: &str, members: &[&str], at: i64) {
        let chat = NewChat {
            e2ee: false,
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
        assert!(self.create_chat(chat).await.unwrap().1);
    }

    async fn send(&self, chat: &str, sender: &str, content: &str, at: i64) -> i64 {
        let message = text(&format!("{chat}-{sender}-{at}"), chat, sender, content, at);
        match self.append_message(message).await.unwrap() {
            Appended::New(row) => row.seq,
            other => panic!("not stored: {other:?}"),
        }
    }

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

/// A user `id` named `username`, display name `id` upper-cased.
pub fn new_user(id: &str, username: &str) -> NewUser {
    NewUser {
        id: id.into(),
        username: username.into(),
        display_name: id.to_uppercase(),
        password_hash: "hash".into(),
        created_at: 1,
    }
}

/// A text message without client id, file or metadata.
pub fn text(id: &str, chat: &str, sender: &str, content: &str, at: i64) -> NewMessage {
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
        owes_push: false,
        mls_epoch: None,
    }
}

/// The subscription `id` of `user`'s device `session` at `endpoint`,
/// with keys `key-{id}` / `auth-{id}` and activation hash `hash-{id}`,
/// made at 100.
pub fn subscription(id: &str, user: &str, session: &str, endpoint: &str) -> NewSubscription {
    NewSubscription {
        id: id.into(),
        user_id: user.into(),
        session_id: session.into(),
        endpoint: endpoint.into(),
        p256dh: format!("key-{id}"),
        auth: format!("auth-{id}"),
        activation_hash: format!("hash-{id}"),
        created_at: 100,
    }
}

/// A delivery `id` for `subscription_id`, stored at `at` (its payload
/// names it), urgency normal, expiring long after.
pub fn delivery(id: &str, subscription_id: &str, at: i64) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        subscription_id: subscription_id.into(),
        payload: format!("payload of {id}").into_bytes(),
        topic: None,
        urgency: "normal".into(),
        created_at: at,
        expires_at: at + 100_000,
    }
}

/// The direct chat `id` of `a` and `b` (both owners), created at 10.
pub fn direct(id: &str, a: &str, b: &str) -> NewChat {
    NewChat {
        e2ee: false,
        id: id.into(),
        chat_type: ChatType::Direct,
        name: None,
        created_by: a.into(),
        created_at: 10,
        direct_key: Some(format!("{a}:{b}")),
        members: vec![(a.into(), Role::Owner), (b.into(), Role::Owner)],
    }
}

/// The channel `id` (also its name) owned by `owner`, with `readers` as
/// plain members (who may not post), created at 1.
pub fn channel(id: &str, owner: &str, readers: &[&str]) -> NewChat {
    let mut members = vec![(owner.to_string(), Role::Owner)];
    members.extend(readers.iter().map(|r| (r.to_string(), Role::Member)));
    NewChat {
        e2ee: false,
        id: id.into(),
        chat_type: ChatType::Channel,
        name: Some(id.into()),
        created_by: owner.into(),
        created_at: 1,
        direct_key: None,
        members,
    }
}

/// The message of an append that stored one or found the original (and
/// whether it is new); panics if the append was refused.
pub fn appended(outcome: Appended) -> (MessageRow, bool) {
    match outcome {
        Appended::New(row) => (row, true),
        Appended::Existing(row) => (row, false),
        refused => panic!("the append was refused: {refused:?}"),
    }
}

/// The text of a hit's snippet, matches between `[` and `]`.
pub fn marked(row: &SearchRow) -> String {
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

/// Appends `count` text messages (ids `m0`, `m1`, ...) to chat `g` all
/// at once, the `senders` taking turns; returns their seqs, sorted.
pub async fn append_concurrently<S: Store + ?Sized>(
    store: &Arc<S>,
    senders: &[&str],
    count: i64,
) -> Vec<i64> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let store = store.clone();
            let sender = senders[i as usize % senders.len()].to_owned();
            tokio::spawn(async move {
                let message = text(
                    &format!("m{i}"),
                    "g",
                    &sender,
                    &format!("message {i}"),
                    100 + i,
                );
                appended(store.append_message(message).await.unwrap()).0.seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    seqs
}

/// The next message the store reports as committed; panics if none comes
/// within [`PATIENCE`].
pub async fn next_commit(commits: &mut CommitFeed) -> MessageRow {
    match tokio::time::timeout(PATIENCE, commits.next()).await {
        Ok(Some(row)) => row,
        Ok(None) => panic!("the commit feed ended"),
        Err(_) => panic!("no commit reported within {PATIENCE:?}"),
    }
}
