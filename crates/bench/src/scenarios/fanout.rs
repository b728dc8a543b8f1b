//! `fanout`: `--groups` group chats of `--members` members each, of whom
//! `--online` are connected and `--senders-per-group` send. Every
//! message is delivered to every online member (its sender included):
//! deliveries/s = msg/s x online. The figure is deliveries/s and the
//! send -> receive latency measured at every recipient.

use super::{Output, connect_fleet, plan, record_steps, run_scenario, steps, watch};
use crate::cli::FanoutArgs;
use crate::protocol::ConnPlan;
use crate::setup::{consecutive_groups, create_groups, register_users};
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
    let base_url = server.target.base_url();
    let online = args.online.unwrap_or(args.members);
    let users = register_users(
        &base_url,
        args.groups * args.members,
        common.register_concurrency,
    )
    .await?;
    let groups = consecutive_groups(args.groups, args.members);
    let chat_ids = create_groups(&base_url, &users, &groups, 4).await?;
    output.users = users.len();
    output.chats = chat_ids.len();
    // Interleave the groups so every worker holds part of every group.
    let mut plans = Vec::with_capacity(args.groups * online);
    for member in 0..online {
        for (group, chat_id) in chat_ids.iter().enumerate() {
            let user = &users[groups[group][member]];
            let chats = if member < args.senders_per_group {
                vec![(chat_id.clone(), 1)]
            } else {
                Vec::new()
            };
            plans.push(ConnPlan {
                token: user.token.clone(),
                chats,
            });
        }
    }
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
