//! `throughput`: every member of many small chats sends into its chat,
//! durably (each `send.ok` means stored and its log fsynced). Without
//! a rate (`--rates 0`) each connection keeps `--window` sends in flight:
//! the figure is messages persisted per second. With a rate (e.g.
//! `--rates 5000`) the figure is the send -> `send.ok` latency at it.
//!
//! Against several nodes the users take the nodes in turn, so the members
//! of a chat (consecutive users) sit on different nodes: with the default
//! two members, each sender's only receiver is on the next node.

use super::{Output, connect_fleet, plan, record_steps, run_scenario, steps, watch};
use crate::cli::ThroughputArgs;
use crate::cluster::node_of;
use crate::fleet::split;
use crate::protocol::ConnPlan;
use crate::setup::{BenchUser, consecutive_groups, create_groups, persisted, register_users};
use std::time::Instant;

pub async fn run(args: &ThroughputArgs) -> anyhow::Result<()> {
    run_scenario(
        "throughput",
        args,
        &args.common,
        async |server, output, started| measure(args, server, output, started).await,
    )
    .await
}

async fn measure(
    args: &ThroughputArgs,
    server: &crate::server::Server,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<()> {
    let common = &args.common;
    let base_urls = server.base_urls();
    let chats = args.senders.div_ceil(args.members);
    let users = register_users(
        &base_urls,
        chats * args.members,
        common.register_concurrency,
    )
    .await?;
    let groups = consecutive_groups(chats, args.members);
    let chat_ids = create_groups(&base_urls, &users, &groups, 8).await?;
    output.users = users.len();
    output.chats = chat_ids.len();
    let plans = layout(&users, &chat_ids, args.members, server.nodes.len());
    let senders = plans.len() as u64;
    let workers = common.workers_for(plans.len());
    let mut fleet = connect_fleet(server, common, split(plans, workers), output, started).await?;
    let watch = watch(server, &fleet);
    let load = &args.load;
    let (warmup, results) = steps(&mut fleet, &watch, load, senders, |rate, secs| {
        plan(load, rate, secs)
    })
    .await?;
    let acked = record_steps(output, warmup, results);
    fleet.close().await;
    output.acknowledged_total = Some(acked);
    output.persisted_in_store = Some(persisted(&base_urls, &users, &groups, &chat_ids).await?);
    Ok(())
}

/// One connection per user, in user order, sending into its chat (user
/// i is in chat i / members) from node i mod `nodes`.
fn layout(users: &[BenchUser], chat_ids: &[String], members: usize, nodes: usize) -> Vec<ConnPlan> {
    users
        .iter()
        .enumerate()
        .map(|(index, user)| ConnPlan {
            token: user.token.clone(),
            chats: vec![(chat_ids[index / members].clone(), 1)],
            node: node_of(index, nodes),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(count: usize) -> Vec<BenchUser> {
        (0..count)
            .map(|index| BenchUser {
                user_id: format!("u{index}"),
                token: format!("t{index}"),
            })
            .collect()
    }

    /// (chat, node) of every connection.
    fn placed(plans: &[ConnPlan]) -> Vec<(&str, usize)> {
        plans
            .iter()
            .map(|plan| (plan.chats[0].0.as_str(), plan.node))
            .collect()
    }

    #[test]
    fn pairs_are_split_over_two_nodes() {
        let chats = ["a".to_owned(), "b".to_owned()];
        let plans = layout(&users(4), &chats, 2, 2);
        assert_eq!(placed(&plans), [("a", 0), ("a", 1), ("b", 0), ("b", 1)]);
    }

    #[test]
    fn every_chat_spans_as_many_nodes_as_it_has_members() {
        let chats: Vec<String> = (0..10).map(|chat| format!("c{chat}")).collect();
        for (members, nodes) in [(2, 3), (3, 3), (2, 2), (5, 3)] {
            let plans = layout(&users(10 * members), &chats, members, nodes);
            for chat in plans.chunks(members) {
                let mut on: Vec<usize> = chat.iter().map(|plan| plan.node).collect();
                on.sort_unstable();
                on.dedup();
                assert_eq!(
                    on.len(),
                    members.min(nodes),
                    "{members} members, {nodes} nodes"
                );
                assert!(chat.iter().all(|plan| plan.chats == chat[0].chats));
            }
        }
    }

    #[test]
    fn one_node_keeps_every_connection_on_it() {
        let chats = ["a".to_owned(), "b".to_owned()];
        let plans = layout(&users(4), &chats, 2, 1);
        assert_eq!(placed(&plans), [("a", 0), ("a", 0), ("b", 0), ("b", 0)]);
        assert_eq!(plans[3].token, "t3");
    }
}
