//! `fanout`: `--groups` group chats of `--members` members each, of whom
//! `--online` are connected and `--senders-per-group` send. Every
//! message is delivered to every online member (its sender included):
//! deliveries/s = msg/s x online. The figure is deliveries/s and the
//! send -> receive latency measured at every recipient.
//!
//! Against several nodes the users take the nodes in turn (user i on
//! node i mod N). A group's members are consecutive users, so its online
//! members spread over every node and its senders sit on consecutive
//! nodes: most of each message's deliveries cross nodes.

use super::{Output, connect_fleet, plan, record_steps, run_scenario, steps, watch};
use crate::cli::FanoutArgs;
use crate::cluster::node_of;
use crate::protocol::ConnPlan;
use crate::setup::{BenchUser, consecutive_groups, create_groups, register_users};
use std::time::Instant;

pub async fn run(args: &FanoutArgs) -> anyhow::Result<()> {
    run_scenario(
        "fanout",
        args,
        &args.common,
        async |server, output, started| measure(args, server, output, started).await,
    )
    .await
}

async fn measure(
    args: &FanoutArgs,
    server: &crate::server::Server,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<()> {
    let common = &args.common;
    let base_urls = server.base_urls();
    let online = args.online.unwrap_or(args.members);
    let users = register_users(
        &base_urls,
        args.groups * args.members,
        common.register_concurrency,
    )
    .await?;
    let groups = consecutive_groups(args.groups, args.members);
    let chat_ids = create_groups(&base_urls, &users, &groups, 4).await?;
    output.users = users.len();
    output.chats = chat_ids.len();
    let shape = Shape {
        online,
        senders_per_group: args.senders_per_group,
        nodes: server.nodes.len(),
    };
    let plans = layout(&users, &groups, &chat_ids, &shape);
    let senders = (args.groups * args.senders_per_group) as u64;
    let workers = common.workers_for(plans.len());
    let shares = round_robin(plans, workers);
    let mut fleet = connect_fleet(server, common, shares, output, started).await?;
    let watch = watch(server, &fleet);
    let load = &args.load;
    let (warmup, results) = steps(&mut fleet, &watch, load, senders, |rate, secs| {
        plan(load, rate, secs)
    })
    .await?;
    record_steps(output, warmup, results);
    fleet.close().await;
    Ok(())
}

/// How many of each group connect and send, over how many nodes.
struct Shape {
    online: usize,
    senders_per_group: usize,
    nodes: usize,
}

/// The connections: the first `online` members of every group, the
/// first `senders_per_group` of them sending into it, each on its user's
/// node. The groups are interleaved (member 0 of every group, then
/// member 1 ...) so that the workers share the groups.
fn layout(
    users: &[BenchUser],
    groups: &[Vec<usize>],
    chat_ids: &[String],
    shape: &Shape,
) -> Vec<ConnPlan> {
    let mut plans = Vec::with_capacity(groups.len() * shape.online);
    for member in 0..shape.online {
        for (members, chat_id) in groups.iter().zip(chat_ids) {
            let user = members[member];
            let chats = if member < shape.senders_per_group {
                vec![(chat_id.clone(), 1)]
            } else {
                Vec::new()
            };
            plans.push(ConnPlan {
                token: users[user].token.clone(),
                chats,
                node: node_of(user, shape.nodes),
            });
        }
    }
    plans
}

/// Deals items to `parts` shares like cards, so consecutive items (the
/// members of one group, the senders) spread over every share.
fn round_robin<T>(items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let mut shares: Vec<Vec<T>> = (0..parts.max(1)).map(|_| Vec::new()).collect();
    let count = shares.len();
    for (index, item) in items.into_iter().enumerate() {
        shares[index % count].push(item);
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `groups` groups of `members`, laid out over `nodes`.
    fn laid_out(groups: usize, members: usize, shape: &Shape) -> Vec<ConnPlan> {
        let users: Vec<BenchUser> = (0..groups * members)
            .map(|index| BenchUser {
                user_id: format!("u{index}"),
                token: format!("t{index}"),
            })
            .collect();
        let chat_ids: Vec<String> = (0..groups).map(|group| format!("g{group}")).collect();
        layout(
            &users,
            &consecutive_groups(groups, members),
            &chat_ids,
            shape,
        )
    }

    /// The user behind a plan (tokens are `t<user>`).
    fn user(plan: &ConnPlan) -> usize {
        plan.token[1..].parse().unwrap()
    }

    #[test]
    fn every_group_reaches_every_node_and_its_senders_differ() {
        // 4 groups over 2 nodes: a group count the node count divides,
        // which an interleaved numbering would have kept on one node each.
        for nodes in [2, 3] {
            let shape = Shape {
                online: 8,
                senders_per_group: 2,
                nodes,
            };
            let plans = laid_out(4, 10, &shape);
            assert_eq!(plans.len(), 32);
            for group in 0..4 {
                let members: Vec<&ConnPlan> = plans
                    .iter()
                    .filter(|plan| user(plan) / 10 == group)
                    .collect();
                assert_eq!(members.len(), 8);
                let mut on: Vec<usize> = members.iter().map(|plan| plan.node).collect();
                on.sort_unstable();
                on.dedup();
                assert_eq!(on.len(), nodes, "group {group} misses a node");
                let senders: Vec<&&ConnPlan> = members
                    .iter()
                    .filter(|plan| !plan.chats.is_empty())
                    .collect();
                assert_eq!(senders.len(), 2);
                assert_eq!((senders[1].node + nodes - senders[0].node) % nodes, 1);
                for sender in senders {
                    let elsewhere = members.iter().filter(|plan| plan.node != sender.node);
                    assert!(elsewhere.count() >= 8 / nodes, "few cross-node receivers");
                }
            }
        }
    }

    #[test]
    fn one_node_keeps_the_interleaved_order() {
        let shape = Shape {
            online: 2,
            senders_per_group: 1,
            nodes: 1,
        };
        let plans = laid_out(2, 3, &shape);
        let order: Vec<(usize, usize, bool)> = plans
            .iter()
            .map(|plan| (user(plan), plan.node, !plan.chats.is_empty()))
            .collect();
        assert_eq!(
            order,
            [(0, 0, true), (3, 0, true), (1, 0, false), (4, 0, false)]
        );
    }
}
