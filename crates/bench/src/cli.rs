//! The command line: one subcommand per scenario, the options they all
//! share ([`Common`]), and their validation (loopback only, bounded sizes).

use crate::server::parse_env;
use crate::target::Target;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

/// Most connections one worker process may hold (the machine allows
/// 20,000 open files per process; a few are kept for the runtime).
pub const MAX_PER_WORKER: usize = 19_000;

#[derive(Parser)]
#[command(
    name = "natter-bench",
    version,
    about = "Load generator for natter: bounded scenarios against a server on 127.0.0.1"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// N authenticated idle connections: server memory per connection.
    Idle(IdleArgs),
    /// Many senders into many chats: durable messages/s and send -> ack latency.
    Throughput(ThroughputArgs),
    /// Large groups: deliveries/s and send -> receive latency.
    Fanout(FanoutArgs),
    /// A day-peak mix: mostly small chats, a few large ones, typing and receipts.
    Mixed(MixedArgs),
    /// Offline recipients with Web Push subscriptions to a local push
    /// service: pushes/s and store -> push service latency.
    Push(PushArgs),
    /// Internal: a child process holding a share of the connections.
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        index: usize,
    },
}

/// Options of every scenario.
#[derive(Args, Clone, Debug, Serialize)]
pub struct Common {
    /// Start this `natter` binary on 127.0.0.1:0 with a fresh data dir.
    #[arg(long, value_name = "PATH")]
    pub spawn_server: Option<PathBuf>,
    /// Use a running server instead (loopback only), e.g. http://127.0.0.1:8080;
    /// several comma-separated URLs are the nodes of one cluster, and the
    /// connections are spread over them.
    #[arg(long, conflicts_with = "spawn_server")]
    pub url: Option<String>,
    /// The attached server's process id, for its RSS and CPU; for a
    /// cluster, one per URL in the same order, comma-separated.
    #[arg(
        long,
        requires = "url",
        value_delimiter = ',',
        value_name = "PID[,PID...]"
    )]
    #[serde(serialize_with = "one_or_many")]
    pub server_pid: Vec<u32>,
    /// Where a spawned server's data directory is made (on a real disk:
    /// durability is measured).
    #[arg(long, default_value = "/var/tmp")]
    pub data_base: PathBuf,
    /// Keep the spawned server's data directory.
    #[arg(long)]
    pub keep_data: bool,
    /// Extra NATTER_* setting for a spawned server (repeatable).
    #[arg(long = "server-env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub server_env: Vec<(String, String)>,
    /// Most connections per worker process.
    #[arg(long, default_value_t = 5000)]
    pub per_worker: usize,
    /// Fewest worker processes (the load generator's parallelism).
    #[arg(long, default_value_t = 2)]
    pub min_workers: usize,
    /// WebSocket handshakes in flight per worker.
    #[arg(long, default_value_t = 32)]
    pub connect_concurrency: usize,
    /// Registrations in flight.
    #[arg(long, default_value_t = 16)]
    pub register_concurrency: usize,
    /// The JSON result file [default: natter-bench-<scenario>.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl Common {
    /// Checks what clap cannot: a server is named, the URL is loopback,
    /// worker sizes fit the open-file limit.
    pub fn check(&self) -> Result<(), String> {
        match (&self.spawn_server, &self.url) {
            (None, None) => return Err("give --spawn-server PATH or --url URL".into()),
            (_, Some(url)) => {
                let nodes = Target::parse_list(url)?.len();
                if !self.server_pid.is_empty() && self.server_pid.len() != nodes {
                    return Err(format!(
                        "--server-pid names {} processes for {nodes} URLs: give one per URL, in the same order",
                        self.server_pid.len()
                    ));
                }
            }
            _ => {}
        }
        if !self.server_pid.is_empty() && self.url.is_none() {
            return Err("--server-pid goes with --url (a spawned server is watched anyway)".into());
        }
        if !(1..=MAX_PER_WORKER).contains(&self.per_worker) {
            return Err(format!("--per-worker must be 1 to {MAX_PER_WORKER}"));
        }
        if !(1..=64).contains(&self.min_workers) {
            return Err("--min-workers must be 1 to 64".into());
        }
        Ok(())
    }

    /// Worker processes for `connections`.
    pub fn workers_for(&self, connections: usize) -> usize {
        connections
            .div_ceil(self.per_worker)
            .max(self.min_workers)
            .min(connections.max(1))
    }
}

/// Writes the process ids as before there were clusters: none as `null`,
/// one as a number, several as a list.
fn one_or_many<S: serde::Serializer>(pids: &[u32], serializer: S) -> Result<S::Ok, S::Error> {
    match pids {
        [] => serializer.serialize_none(),
        [pid] => serializer.serialize_u32(*pid),
        many => many.serialize(serializer),
    }
}

/// Options of every scenario that sends.
#[derive(Args, Clone, Debug, Serialize)]
pub struct Load {
    /// Total messages/s of each step, comma-separated (0: as fast as the
    /// window allows). Each rate is one measured step.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub rates: Vec<f64>,
    /// Sending phase of each step, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// A first, unreported step at the first rate, in seconds (0: none).
    #[arg(long, default_value_t = 3)]
    pub warmup_secs: u64,
    /// Unanswered sends one connection may have.
    #[arg(long, default_value_t = 4)]
    pub window: u32,
    /// Bytes of content per message.
    #[arg(long, default_value_t = 100)]
    pub content_bytes: usize,
    /// Longest wait for answers and deliveries after a step, in seconds.
    #[arg(long, default_value_t = 10)]
    pub drain_secs: u64,
    /// Most messages per sending connection per step (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub max_per_sender: u64,
}

impl Load {
    pub fn check(&self) -> Result<(), String> {
        if self.rates.is_empty() || self.rates.iter().any(|rate| !(0.0..=1e7).contains(rate)) {
            return Err("--rates must be numbers from 0 to 10,000,000".into());
        }
        if !(1..=3600).contains(&self.duration_secs) {
            return Err("--duration-secs must be 1 to 3600".into());
        }
        if self.warmup_secs > 600 || self.drain_secs > 600 {
            return Err("--warmup-secs and --drain-secs must be at most 600".into());
        }
        if !(1..=10_000).contains(&self.window) {
            return Err("--window must be 1 to 10,000".into());
        }
        if self.content_bytes > 16_000 {
            return Err("--content-bytes must be at most 16,000".into());
        }
        Ok(())
    }
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct IdleArgs {
    #[command(flatten)]
    pub common: Common,
    /// Idle connections to open (one user each).
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Wait after opening before measuring, in seconds.
    #[arg(long, default_value_t = 5)]
    pub settle_secs: u64,
    /// How long the connections stay open while measured, in seconds.
    #[arg(long, default_value_t = 10)]
    pub hold_secs: u64,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct ThroughputArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub load: Load,
    /// Sending connections (one user each; every member of every chat sends).
    #[arg(long, default_value_t = 400)]
    pub senders: usize,
    /// Members per chat.
    #[arg(long, default_value_t = 2)]
    pub members: usize,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct FanoutArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub load: Load,
    /// Group chats.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
    /// Members per group.
    #[arg(long, default_value_t = 5000)]
    pub members: usize,
    /// Members of each group that are online [default: all].
    #[arg(long)]
    pub online: Option<usize>,
    /// Online members of each group that send.
    #[arg(long, default_value_t = 5)]
    pub senders_per_group: usize,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct MixedArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub load: Load,
    /// Online users (each one connection, each one sends).
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// Large groups.
    #[arg(long, default_value_t = 2)]
    pub large_groups: usize,
    /// Members of a large group.
    #[arg(long, default_value_t = 500)]
    pub large_size: usize,
    /// Members of a small group.
    #[arg(long, default_value_t = 6)]
    pub small_size: usize,
    /// Send `typing` before every n-th message (0: never).
    #[arg(long, default_value_t = 1)]
    pub typing_every: u32,
    /// Send a read marker after every n-th received message (0: never).
    #[arg(long, default_value_t = 5)]
    pub read_every: u32,
}

#[derive(Args, Clone, Debug, Serialize)]
pub struct PushArgs {
    #[command(flatten)]
    pub common: Common,
    /// Offline recipients, each with one active subscription.
    #[arg(long, default_value_t = 100)]
    pub recipients: usize,
    /// Group chats the recipients are spread over (one sender in all).
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Messages sent, round-robin over the groups.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Messages per second.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// How long to wait for the last pushes after the last send.
    #[arg(long, default_value_t = 60)]
    pub drain_secs: u64,
}

/// Checks a parsed command line.
pub fn check(command: &Command) -> Result<(), String> {
    let positive = |value: usize, name: &str, max: usize| {
        if (1..=max).contains(&value) {
            Ok(())
        } else {
            Err(format!("--{name} must be 1 to {max}"))
        }
    };
    match command {
        Command::Idle(args) => {
            args.common.check()?;
            positive(args.connections, "connections", 100_000)?;
            if args.settle_secs > 600 || args.hold_secs > 3600 {
                return Err("--settle-secs at most 600, --hold-secs at most 3600".into());
            }
            Ok(())
        }
        Command::Throughput(args) => {
            args.common.check()?;
            args.load.check()?;
            positive(args.senders, "senders", 50_000)?;
            positive(args.members, "members", 10_000)?;
            if args.members > args.senders {
                return Err("--members cannot exceed --senders".into());
            }
            Ok(())
        }
        Command::Fanout(args) => {
            args.common.check()?;
            args.load.check()?;
            positive(args.groups, "groups", 10_000)?;
            positive(args.members, "members", 10_000)?;
            let online = args.online.unwrap_or(args.members);
            if online > args.members || online == 0 {
                return Err("--online must be 1 to --members".into());
            }
            if args.senders_per_group > online || args.senders_per_group == 0 {
                return Err("--senders-per-group must be 1 to the online members".into());
            }
            positive(args.groups * online, "groups x online", 100_000)
        }
        Command::Mixed(args) => {
            args.common.check()?;
            args.load.check()?;
            positive(args.users, "users", 100_000)?;
            positive(args.small_size, "small-size", 100)?;
            if args.large_groups > 0 && !(2..=args.users).contains(&args.large_size) {
                return Err("--large-size must be 2 to --users".into());
            }
            Ok(())
        }
        Command::Push(args) => {
            args.common.check()?;
            positive(args.recipients, "recipients", 10_000)?;
            positive(args.groups, "groups", args.recipients)?;
            positive(args.messages, "messages", 1_000_000)?;
            if !(args.rate > 0.0 && args.rate <= 100_000.0) || args.drain_secs > 3600 {
                return Err(
                    "--rate must be above 0 and at most 100000, --drain-secs at most 3600".into(),
                );
            }
            Ok(())
        }
        Command::Worker { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        let cli = Cli::try_parse_from(args).map_err(|error| error.to_string())?;
        check(&cli.command)?;
        Ok(cli.command)
    }

    #[test]
    fn a_spawned_server_is_accepted() {
        let command = parse(&[
            "natter-bench",
            "idle",
            "--spawn-server",
            "/bin/natter",
            "--connections",
            "18000",
        ])
        .unwrap();
        let Command::Idle(args) = command else {
            panic!("idle")
        };
        assert_eq!(args.connections, 18_000);
        assert_eq!(args.common.workers_for(18_000), 4);
        assert_eq!(args.common.workers_for(1), 1);
    }

    #[test]
    fn remote_urls_are_refused() {
        let error = parse(&[
            "natter-bench",
            "throughput",
            "--url",
            "http://203.0.113.5:8080",
        ])
        .unwrap_err();
        assert!(error.contains("only targets this machine"), "{error}");
        assert!(
            parse(&[
                "natter-bench",
                "throughput",
                "--url",
                "http://127.0.0.1:8080"
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_server_must_be_named_once() {
        assert!(parse(&["natter-bench", "idle"]).is_err());
        assert!(
            parse(&[
                "natter-bench",
                "idle",
                "--spawn-server",
                "x",
                "--url",
                "http://127.0.0.1:1"
            ])
            .is_err()
        );
        assert!(
            parse(&[
                "natter-bench",
                "idle",
                "--spawn-server",
                "x",
                "--server-pid",
                "5"
            ])
            .is_err()
        );
    }

    #[test]
    fn sizes_and_rates_are_bounded() {
        let base = ["natter-bench", "fanout", "--spawn-server", "x"];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat());
        assert!(with(&["--rates", "10,20,30"]).is_ok());
        assert!(with(&["--rates", "-5"]).is_err());
        assert!(with(&["--online", "6000"]).is_err());
        assert!(with(&["--senders-per-group", "0"]).is_err());
        assert!(with(&["--per-worker", "25000"]).is_err());
        assert!(with(&["--duration-secs", "0"]).is_err());
        assert!(with(&["--server-env", "HOME=/"]).is_err());
    }

    #[test]
    fn a_cluster_is_several_urls_with_one_pid_each() {
        let urls = "http://127.0.0.1:18081,http://127.0.0.1:18082,http://127.0.0.1:18083";
        let base = ["natter-bench", "fanout", "--url", urls];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat());
        let Command::Fanout(args) = with(&["--server-pid", "11,12,13"]).unwrap() else {
            panic!("fanout")
        };
        assert_eq!(args.common.server_pid, [11, 12, 13]);
        let json = serde_json::to_value(&args.common).unwrap();
        assert_eq!(json["url"], urls);
        assert_eq!(json["server_pid"], serde_json::json!([11, 12, 13]));
        assert!(with(&[]).is_ok());
        let error = with(&["--server-pid", "11,12"]).unwrap_err();
        assert!(error.contains("one per URL"), "{error}");
        assert!(with(&["--server-pid", "11,12,13,14"]).is_err());
    }

    #[test]
    fn one_remote_node_refuses_the_whole_cluster() {
        let error = parse(&[
            "natter-bench",
            "throughput",
            "--url",
            "http://127.0.0.1:18081,http://198.51.100.7:18082",
        ])
        .unwrap_err();
        assert!(error.contains("only targets this machine"), "{error}");
    }

    #[test]
    fn one_server_pid_is_written_as_before() {
        let Command::Idle(args) = parse(&[
            "natter-bench",
            "idle",
            "--url",
            "http://127.0.0.1:8080",
            "--server-pid",
            "42",
        ])
        .unwrap() else {
            panic!("idle")
        };
        let json = serde_json::to_value(&args.common).unwrap();
        assert_eq!(json["server_pid"], 42);
        let Command::Idle(args) =
            parse(&["natter-bench", "idle", "--url", "http://127.0.0.1:8080"]).unwrap()
        else {
            panic!("idle")
        };
        assert!(serde_json::to_value(&args.common).unwrap()["server_pid"].is_null());
    }
}
