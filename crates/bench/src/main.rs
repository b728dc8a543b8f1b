//! `natter-bench`: the load generator of natter.
//!
//! The coordinator (this process) starts or attaches to a server on
//! 127.0.0.1 (or to the nodes of a cluster, spreading the connections
//! over them), registers users and creates chats over REST with the
//! project's client, spawns worker processes (`natter-bench worker`,
//! each holding a share of the WebSocket connections), drives bounded
//! steps on them over stdin/stdout JSON lines, and prints a table and a
//! JSON file of the results. See BENCHMARKS.md for the method.

mod cli;
mod cluster;
mod fleet;
mod frames;
mod procstat;
mod protocol;
mod report;
mod scenarios;
mod server;
mod setup;
mod stats;
mod target;
mod usage;
mod worker;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Err(problem) = cli::check(&cli.command) {
        eprintln!("natter-bench: {problem}");
        std::process::exit(2);
    }
    if let Command::Worker { index } = cli.command {
        return worker::main(index);
    }
    raise_open_files_limit();
    // Two threads: the coordinator mostly waits (on REST calls during
    // setup, on workers afterwards) and must not crowd the server.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match &cli.command {
            Command::Idle(args) => scenarios::idle::run(args).await,
            Command::Throughput(args) => scenarios::throughput::run(args).await,
            Command::Fanout(args) => scenarios::fanout::run(args).await,
            Command::Mixed(args) => scenarios::mixed::run(args).await,
            Command::Push(args) => scenarios::push::run(args).await,
            Command::Worker { .. } => Ok(()),
        }
    })
}

/// Raises this process's open-file soft limit to its hard limit (a
/// spawned server inherits it): thousands of sockets need it.
pub fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < 1024 => eprintln!("natter-bench: open files limited to {limit}"),
        Ok(_) => {}
        Err(error) => eprintln!("natter-bench: could not raise the open-file limit: {error}"),
    }
}
