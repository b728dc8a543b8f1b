//! `throughput`: every member of many small chats sends into its chat,
//! durably (each `send.ok` means stored and its log fsynced). Without
//! a rate (`--rates 0`) each connection keeps `--window` sends in flight:
//! the figure is messages persisted per second. With a rate (e.g.
//! `--rates 5000`) the figure is the send -> `send.ok` latency at it.

use super::{Output, connect_fleet, plan, record_steps, run_scenario, steps, watch};
use crate::cli::ThroughputArgs;
use crate::fleet::split;
use crate::protocol::ConnPlan;
use crate::setup::{consecutive_groups, create_groups, persisted, register_users};
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
    let base_url = server.target.base_url();
    let chats = args.senders.div_ceil(args.members);
    let users =
        register_users(&base_url, chats * args.members, common.register_concurrency).await?;
    let groups = consecutive_groups(chats, args.members);
    let chat_ids = create_groups(&base_url, &users, &groups, 8).await?;
    output.users = users.len();
    output.chats = chat_ids.len();
    let plans: Vec<ConnPlan> = users
        .iter()
        .enumerate()
        .map(|(index, user)| ConnPlan {
            token: user.token.clone(),
            chats: vec![(chat_ids[index / args.members].clone(), 1)],
        })
        .collect();
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
    output.persisted_in_store = Some(persisted(&base_url, &users, &groups, &chat_ids).await?);
    Ok(())
}
