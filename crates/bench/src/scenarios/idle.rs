//! `idle`: N users, one authenticated connection each, doing nothing.
//! The figure is the server's RSS growth divided by N; the marginal cost
//! over the second half of the connections is reported too, since the
//! first connections also pay one-off growth (buffers, caches, arenas).

use super::{Output, run_scenario, watch};
use crate::cli::IdleArgs;
use crate::cluster::node_of;
use crate::fleet::{Fleet, split};
use crate::protocol::{ConnPlan, StepPlan};
use crate::report::IdleResult;
use crate::setup::register_users;
use crate::stats::median;
use crate::usage::Watch;
use std::time::{Duration, Instant};

/// RSS readings per measurement (their median is used).
const READINGS: usize = 5;

pub async fn run(args: &IdleArgs) -> anyhow::Result<()> {
    run_scenario(
        "idle",
        args,
        &args.common,
        async |server, output, started| measure(args, server, output, started).await,
    )
    .await
}

async fn measure(
    args: &IdleArgs,
    server: &crate::server::Server,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<()> {
    let common = &args.common;
    let users = register_users(
        &server.base_urls(),
        args.connections,
        common.register_concurrency,
    )
    .await?;
    output.users = users.len();
    let workers = common.workers_for(users.len());
    let mut fleet = Fleet::spawn(workers)?;
    output.workers = fleet.len();
    let watch = watch(server, &fleet);
    output.setup_secs = started.elapsed().as_secs_f64();
    let settle = Duration::from_secs(args.settle_secs);

    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss(&watch).await;
    // User i on node i mod N, the node it was registered on.
    let plans: Vec<ConnPlan> = users
        .iter()
        .enumerate()
        .map(|(index, user)| ConnPlan {
            token: user.token.clone(),
            chats: Vec::new(),
            node: node_of(index, server.nodes.len()),
        })
        .collect();
    let half = plans.len() / 2;
    let mut halves = plans.into_iter();
    let first: Vec<ConnPlan> = halves.by_ref().take(half).collect();
    let second: Vec<ConnPlan> = halves.collect();
    let first_count = first.len() as u64;

    let connect_started = Instant::now();
    let ws_urls = server.ws_urls();
    let first_round = fleet
        .connect(&ws_urls, split(first, workers), common.connect_concurrency)
        .await?;
    tokio::time::sleep(settle).await;
    let at_half = rss(&watch).await;
    let second_round = fleet
        .connect(&ws_urls, split(second, workers), common.connect_concurrency)
        .await?;
    eprintln!(
        "opened {} connections ({} failed) in {:.1} s",
        second_round.open_now,
        first_round.failed + second_round.failed,
        connect_started.elapsed().as_secs_f64()
    );
    if let Some(error) = first_round.first_error.or(second_round.first_error.clone()) {
        eprintln!("first connection error: {error}");
    }
    tokio::time::sleep(settle).await;

    // Hold: a step in which nobody sends, to see the connections stay up
    // (heartbeats answered) and to measure the server's idle CPU.
    let hold = StepPlan {
        start_at_us: 0,
        duration_ms: args.hold_secs * 1000,
        rate_per_sender: 0.0,
        window: 1,
        max_per_sender: 0,
        content_bytes: 0,
        typing_every: 0,
        ack: false,
        read_every: 0,
        drain_ms: 0,
    };
    let peak = watch.peak_sampler();
    let held = super::step(&mut fleet, &watch, &peak, "hold".into(), 0.0, 0, hold).await?;
    let after = rss(&watch).await;
    let open = held.open_at_end;
    let second_count = open.saturating_sub(first_count).max(1);
    output.connections = open;
    output.connect_failures = first_round.failed + second_round.failed;
    output.idle = Some(IdleResult {
        connections: open,
        failed: output.connect_failures,
        rss_before_kib: before,
        rss_half_kib: at_half,
        rss_after_kib: after,
        bytes_per_connection: after.saturating_sub(before) as f64 * 1024.0 / open.max(1) as f64,
        marginal_bytes_per_connection: after.saturating_sub(at_half) as f64 * 1024.0
            / second_count as f64,
        server_cpu_pct_idle: held.usage.server_cpu_pct,
        closed_during_hold: held.closed_by_server.clone(),
        open_at_end: open,
        nodes: held.nodes.clone(),
    });
    fleet.close().await;
    Ok(())
}

/// The median of a few RSS readings of the server, in KiB (0 unknown).
async fn rss(watch: &Watch) -> u64 {
    let mut readings = Vec::with_capacity(READINGS);
    for _ in 0..READINGS {
        if let Some(kib) = watch.server_rss_kib() {
            readings.push(kib as f64);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    median(&readings).unwrap_or(0.0) as u64
}
