//! Populating the server through its REST API with the project's client:
//! users (a few registrations in flight at once), group chats, and at the
//! end a read of every chat's `last_seq` to count what was persisted.
//! With several nodes the calls go to them in turn (call i to node
//! i mod N): user i is then registered on the node its connection uses.

use crate::cluster::rest_node;
use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use natter_client::{Client, Session};
use natter_proto::auth::RegisterRequest;
use natter_proto::chats::{ChatType, CreateChat};
use std::time::{SystemTime, UNIX_EPOCH};

/// Every benchmark user has this password.
const PASSWORD: &str = "natter-bench-password";

/// A registered user and a token for its connections.
#[derive(Clone, Debug)]
pub struct BenchUser {
    pub user_id: String,
    pub token: String,
}

/// A usable username for user `index` of the run tagged `tag`.
pub fn username(tag: &str, index: usize) -> String {
    format!("nb{tag}_{index}")
}

/// A short tag that keeps this run's usernames apart from earlier runs'
/// on an attached server.
pub fn run_tag() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{:x}", millis % 0xFFF_FFFF)
}

/// One client per node, in node order.
fn clients(base_urls: &[String]) -> Vec<Client> {
    base_urls.iter().map(Client::new).collect()
}

/// Registers `count` users, `concurrency` at a time, in index order.
pub async fn register_users(
    base_urls: &[String],
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<BenchUser>> {
    let clients = clients(base_urls);
    let tag = run_tag();
    let started = std::time::Instant::now();
    let users: Vec<BenchUser> = futures_util::stream::iter(0..count)
        .map(|index| {
            let (client, tag) = (&clients[rest_node(index, clients.len())], &tag);
            async move {
                let request = RegisterRequest {
                    username: username(tag, index),
                    password: PASSWORD.to_owned(),
                    display_name: None,
                    device_name: None,
                };
                let session = Session::register(client, &request)
                    .await
                    .with_context(|| format!("registering user {index}"))?;
                if (index + 1) % 5000 == 0 {
                    eprintln!("  registered {} users", index + 1);
                }
                anyhow::Ok(BenchUser {
                    user_id: session.user().user_id.clone(),
                    token: session.access_token().to_owned(),
                })
            }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    eprintln!(
        "registered {count} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(users)
}

/// `count` groups of `size` users each, users taken in order: group `g`
/// is users `g * size .. (g + 1) * size` (for [`create_groups`]).
pub fn consecutive_groups(count: usize, size: usize) -> Vec<Vec<usize>> {
    (0..count)
        .map(|group| (group * size..(group + 1) * size).collect())
        .collect()
}

/// Creates one group chat per entry of `groups` (indexes into `users`,
/// the first one the owner), `concurrency` at a time; returns the chat
/// ids in order.
pub async fn create_groups(
    base_urls: &[String],
    users: &[BenchUser],
    groups: &[Vec<usize>],
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let clients = clients(base_urls);
    let started = std::time::Instant::now();
    let ids: Vec<String> = futures_util::stream::iter(groups.iter().enumerate())
        .map(|(index, members)| {
            let anonymous = &clients[rest_node(index, clients.len())];
            async move {
                let owner = &users[members[0]];
                let request = CreateChat {
                    e2ee: false,
                    chat_type: ChatType::Group,
                    name: Some(format!("bench {index}")),
                    member_ids: members[1..]
                        .iter()
                        .map(|&member| users[member].user_id.clone())
                        .collect(),
                };
                let chat = anonymous
                    .with_token(owner.token.clone())
                    .create_chat(&request)
                    .await
                    .with_context(|| format!("creating chat {index}"))?;
                anyhow::Ok(chat.summary.chat_id)
            }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    eprintln!(
        "created {} chats in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

/// Sum of `last_seq` over `chats` (each read with its owner's token):
/// the number of messages the server has stored in them.
pub async fn persisted(
    base_urls: &[String],
    users: &[BenchUser],
    groups: &[Vec<usize>],
    chats: &[String],
) -> anyhow::Result<u64> {
    let clients = clients(base_urls);
    let seqs: Vec<i64> = futures_util::stream::iter(chats.iter().zip(groups).enumerate())
        .map(|(index, (chat_id, members))| {
            let client = clients[rest_node(index, clients.len())]
                .with_token(users[members[0]].token.clone());
            async move {
                let chat = client.chat(chat_id).await?;
                anyhow::Ok(chat.summary.last_seq)
            }
        })
        .buffered(8)
        .try_collect()
        .await?;
    Ok(seqs.iter().map(|&seq| seq.max(0) as u64).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_valid_for_the_api() {
        let name = username(&run_tag(), 17_999);
        assert!((3..=32).contains(&name.len()), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)),
            "{name}"
        );
    }
}
