//! The scenarios, and what they share: starting the server (or naming
//! the nodes of a cluster), the workers and the usage watch, running
//! steps, and writing the result file.

pub mod fanout;
pub mod idle;
pub mod mixed;
pub mod push;
pub mod throughput;

use crate::cli::{Common, Load};
use crate::fleet::Fleet;
use crate::protocol::StepPlan;
use crate::report::{IdleResult, StepResult, idle_table, steps_table};
use crate::server::Server;
use crate::usage::{Peak, Watch};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Gap between announcing a step and its start, so every worker has the
/// plan in hand before anyone sends.
const STEP_LEAD: Duration = Duration::from_millis(300);
/// Pause between steps so one step's stragglers do not land in the next.
const BETWEEN_STEPS: Duration = Duration::from_secs(1);

/// Runs one scenario: starts or attaches to the server, measures, stops
/// the server whatever happened, then writes the results.
pub async fn run_scenario(
    scenario: &'static str,
    args: &impl Serialize,
    common: &Common,
    measure: impl AsyncFnOnce(&Server, &mut Output, Instant) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut output = Output::new(scenario, args);
    let started = Instant::now();
    let server = server(common).await?;
    if server.is_cluster() {
        output.nodes = server.base_urls();
    }
    let result = measure(&server, &mut output, started).await;
    server.stop().await;
    result?;
    output.finish(common.out.as_ref())
}

/// Starts or attaches to the server the options name.
async fn server(common: &Common) -> anyhow::Result<Server> {
    match (&common.spawn_server, &common.url) {
        (Some(binary), _) => {
            Server::spawn(
                binary,
                &common.data_base,
                &common.server_env,
                common.keep_data,
            )
            .await
        }
        (None, Some(urls)) => Server::attach(urls, common.server_pid.iter().copied()),
        (None, None) => anyhow::bail!("no server given"),
    }
}

/// Spawns `workers` worker processes and opens the planned connections
/// (`shares[i]` on worker `i`, each to its plan's node), recording
/// workers, connections, failures and setup time in `output`.
pub async fn connect_fleet(
    server: &Server,
    common: &Common,
    shares: Vec<Vec<crate::protocol::ConnPlan>>,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<Fleet> {
    let mut fleet = Fleet::spawn(shares.len())?;
    output.workers = shares.len();
    let connected = fleet
        .connect(&server.ws_urls(), shares, common.connect_concurrency)
        .await?;
    output.connections = connected.open_now;
    output.connect_failures = connected.failed;
    if let Some(error) = connected.first_error {
        eprintln!("first connection error: {error}");
    }
    output.setup_secs = started.elapsed().as_secs_f64();
    Ok(fleet)
}

/// The usage watch over the server's nodes, this process and the workers.
pub fn watch(server: &Server, fleet: &Fleet) -> Watch {
    let mut clients = fleet.pids();
    clients.push(std::process::id());
    Watch {
        servers: server.nodes.iter().map(|node| node.pid).collect(),
        clients,
        ticks_per_second: crate::procstat::clock_ticks_per_second(),
    }
}

/// A step plan from the scenario's load options.
pub fn plan(load: &Load, rate_per_sender: f64, duration_secs: u64) -> StepPlan {
    StepPlan {
        start_at_us: 0,
        duration_ms: duration_secs * 1000,
        rate_per_sender,
        window: load.window,
        max_per_sender: load.max_per_sender,
        content_bytes: load.content_bytes,
        typing_every: 0,
        ack: false,
        read_every: 0,
        drain_ms: load.drain_secs * 1000,
    }
}

/// Runs one step on every worker and merges the reports.
pub async fn step(
    fleet: &mut Fleet,
    watch: &Watch,
    peak: &Peak,
    label: String,
    target_rate: f64,
    senders: u64,
    mut plan: StepPlan,
) -> anyhow::Result<StepResult> {
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as u64;
    plan.start_at_us = now_us + STEP_LEAD.as_micros() as u64;
    tokio::time::sleep(STEP_LEAD).await;
    peak.reset();
    let before = watch.snapshot();
    let run = fleet.step(&plan);
    // Usage is measured over the sending phase only, not the drain.
    let (reports, after) = tokio::join!(run, async {
        tokio::time::sleep(Duration::from_millis(plan.duration_ms)).await;
        watch.snapshot()
    });
    let usage = watch.usage(&before, &after, peak);
    let reports = reports?;
    let mut result = StepResult::merge(label, target_rate, senders, &reports, usage);
    if watch.servers.len() > 1 {
        let nodes = watch.node_usage(&before, &after, peak);
        crate::cluster::add_nodes(&mut result, &reports, nodes);
    }
    tokio::time::sleep(BETWEEN_STEPS).await;
    Ok(result)
}

/// Runs the warm-up (if any) and one step per rate; `per_sender` turns
/// a total rate into one connection's.
/// Keeps the steps' results in `output`; returns how many sends were
/// acknowledged over all of them.
pub fn record_steps(
    output: &mut Output,
    warmup: Option<StepResult>,
    steps: Vec<StepResult>,
) -> u64 {
    let acknowledged = warmup.iter().chain(&steps).map(|step| step.persisted).sum();
    output.warmup = warmup;
    output.steps = steps;
    acknowledged
}

pub async fn steps(
    fleet: &mut Fleet,
    watch: &Watch,
    load: &Load,
    senders: u64,
    base: impl Fn(f64, u64) -> StepPlan,
) -> anyhow::Result<(Option<StepResult>, Vec<StepResult>)> {
    let peak = watch.peak_sampler();
    let per_sender = |rate: f64| rate / senders.max(1) as f64;
    let warmup = if load.warmup_secs > 0 {
        let rate = load.rates[0];
        eprintln!("warm-up: {} s at {rate} msg/s", load.warmup_secs);
        let plan = base(per_sender(rate), load.warmup_secs);
        Some(step(fleet, watch, &peak, "warm-up".into(), rate, senders, plan).await?)
    } else {
        None
    };
    let mut results = Vec::new();
    for &rate in &load.rates {
        let label = if rate > 0.0 {
            format!("{rate}/s")
        } else {
            "max".to_owned()
        };
        eprintln!("step {label}: {} s", load.duration_secs);
        let plan = base(per_sender(rate), load.duration_secs);
        let result = step(fleet, watch, &peak, label, rate, senders, plan).await?;
        eprint!("{}", steps_table(std::slice::from_ref(&result)));
        results.push(result);
    }
    Ok((warmup, results))
}

/// Who ran where.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub kernel: String,
    pub mem_total_kib: u64,
}

impl Machine {
    pub fn read() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split(':').nth(1))
                .map(|value| value.trim().to_owned())
                .unwrap_or_default()
        };
        let meminfo = read("/proc/meminfo");
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: field(&read("/proc/cpuinfo"), "model name"),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            mem_total_kib: field(&meminfo, "MemTotal")
                .trim_end_matches(" kB")
                .parse()
                .unwrap_or(0),
        }
    }
}

/// The result file.
#[derive(Debug, Serialize)]
pub struct Output {
    pub scenario: &'static str,
    pub started_at_unix_s: u64,
    pub machine: Machine,
    pub args: serde_json::Value,
    /// The base URL of every node of a cluster run, in node order (the
    /// index is `node` in the per-node figures); absent for one server.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    pub users: usize,
    pub chats: usize,
    pub connections: u64,
    pub connect_failures: u64,
    pub workers: usize,
    pub setup_secs: f64,
    pub idle: Option<IdleResult>,
    pub warmup: Option<StepResult>,
    pub steps: Vec<StepResult>,
    /// Messages stored in the scenario's chats, read back over REST.
    pub persisted_in_store: Option<u64>,
    /// `send.ok` answers over all steps including the warm-up.
    pub acknowledged_total: Option<u64>,
    /// The `push` scenario's figures.
    pub push: Option<crate::report::PushResult>,
}

impl Output {
    pub fn new(scenario: &'static str, args: &impl Serialize) -> Output {
        Output {
            scenario,
            started_at_unix_s: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            machine: Machine::read(),
            args: serde_json::to_value(args).unwrap_or_default(),
            nodes: Vec::new(),
            users: 0,
            chats: 0,
            connections: 0,
            connect_failures: 0,
            workers: 0,
            setup_secs: 0.0,
            idle: None,
            warmup: None,
            steps: Vec::new(),
            persisted_in_store: None,
            acknowledged_total: None,
            push: None,
        }
    }

    /// Prints the tables and writes the JSON file.
    pub fn finish(&self, out: Option<&PathBuf>) -> anyhow::Result<()> {
        println!(
            "\nnatter-bench {}: {} users, {} chats, {} connections ({} failed) over {} workers; setup {:.1} s",
            self.scenario,
            self.users,
            self.chats,
            self.connections,
            self.connect_failures,
            self.workers,
            self.setup_secs
        );
        if !self.nodes.is_empty() {
            println!("{}", crate::cluster::nodes_line(&self.nodes));
        }
        if let Some(idle) = &self.idle {
            print!("{}", idle_table(idle));
        }
        if !self.steps.is_empty() {
            print!("{}", steps_table(&self.steps));
        }
        if let Some(push) = &self.push {
            print!("{}", crate::report::push_table(push));
        }
        if let (Some(stored), Some(acked)) = (self.persisted_in_store, self.acknowledged_total) {
            println!("messages in the store: {stored}; send.ok received: {acked}");
        }
        let path = out
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("natter-bench-{}.json", self.scenario)));
        std::fs::write(&path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
        Ok(())
    }
}
