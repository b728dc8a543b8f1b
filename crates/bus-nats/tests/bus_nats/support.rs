//! Test helpers: real `nats-server` processes on free ports (killed on
//! drop), fast node options, and bounded waits.

use natter_bus::{Envelope, Feed, Received};
use natter_bus_nats::{NatsBus, NatsOptions};
use std::collections::HashSet;
use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use natter_bus::contract::{PATIENCE, SILENCE};

/// Where this machine's `nats-server` was installed when none is named.
const FALLBACK_NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The `nats-server` to run: `NATS_SERVER` from the environment, else
/// `nats-server` on `PATH`, else [`FALLBACK_NATS_SERVER`].
fn nats_server_program() -> PathBuf {
    if let Some(program) = std::env::var_os("NATS_SERVER").filter(|program| !program.is_empty()) {
        return PathBuf::from(program);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|directory| directory.join("nats-server"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from(FALLBACK_NATS_SERVER))
}

/// A port nobody listens on now, and that this process has not handed
/// out before (tests run in parallel).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// One `nats-server` process.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub monitor_port: u16,
    /// Cluster arguments, kept for a restart.
    cluster: Vec<String>,
}

impl NatsServer {
    /// A lone server, answering.
    pub async fn start() -> NatsServer {
        NatsServer::start_with(Vec::new()).await
    }

    async fn start_with(cluster: Vec<String>) -> NatsServer {
        let mut server = NatsServer::spawn(free_port(), free_port(), cluster);
        server.wait_until_it_answers().await;
        server
    }

    fn spawn(port: u16, monitor_port: u16, cluster: Vec<String>) -> NatsServer {
        let mut server = NatsServer {
            child: None,
            port,
            monitor_port,
            cluster,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let program = nats_server_program();
        let child = Command::new(&program)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-m", &self.monitor_port.to_string()])
            .args(&self.cluster)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} starts: {error}", program.display()));
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the server holds everything (connections stay open) until
    /// [`NatsServer::resume`]. Returns once every thread of it is stopped
    /// (a signal takes a moment to reach them all).
    pub fn pause(&self) {
        self.signal("-STOP");
        let pid = self.child.as_ref().expect("a running server").id();
        let deadline = Instant::now() + PATIENCE;
        while !all_threads_stopped(pid) {
            assert!(Instant::now() < deadline, "nats-server not stopped");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGCONT after [`NatsServer::pause`].
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("a running server");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Starts it again on the same ports.
    pub async fn restart(&mut self) {
        self.kill();
        self.launch();
        self.wait_until_it_answers().await;
    }

    async fn wait_until_it_answers(&mut self) {
        let url = format!("http://127.0.0.1:{}/healthz", self.monitor_port);
        eventually("nats-server answers", || async {
            matches!(reqwest::get(&url).await, Ok(response) if response.status().is_success())
        })
        .await;
    }

    /// A monitoring endpoint's JSON (`connz?subs=1`, `routez`, ...).
    pub async fn monitor(&self, path: &str) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}/{path}", self.monitor_port);
        reqwest::get(&url)
            .await
            .expect("monitoring answers")
            .json()
            .await
            .expect("monitoring JSON")
    }

    /// The connection named `name` as `/connz?subs=1` shows it.
    pub async fn connection(&self, name: &str) -> serde_json::Value {
        let connz = self.monitor("connz?subs=1").await;
        connz["connections"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|connection| connection["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no connection named {name} in {connz}"))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True if every thread of process `pid` is stopped (state `T` in
/// `/proc/<pid>/task/*/stat`).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the command name, which is in parentheses.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        })
    })
}

/// `size` servers routed to each other as one NATS cluster, answering
/// and fully routed.
pub async fn start_cluster(size: usize) -> Vec<NatsServer> {
    start_cluster_with(size, &[]).await
}

/// As [`start_cluster`], each server also given `extra` arguments.
pub async fn start_cluster_with(size: usize, extra: &[&str]) -> Vec<NatsServer> {
    let route_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
    let routes = route_ports
        .iter()
        .map(|port| format!("nats://127.0.0.1:{port}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut servers = Vec::new();
    for port in &route_ports {
        let cluster: Vec<String> = [
            "--cluster_name".to_owned(),
            "natter-test".to_owned(),
            "--cluster".to_owned(),
            format!("nats://127.0.0.1:{port}"),
            "--routes".to_owned(),
            routes.clone(),
        ]
        .into_iter()
        .chain(extra.iter().map(|argument| (*argument).to_owned()))
        .collect();
        servers.push(NatsServer::start_with(cluster).await);
    }
    for server in &servers {
        eventually("the NATS cluster is routed", || async {
            server.monitor("routez").await["num_routes"].as_u64() >= Some(size as u64 - 1)
        })
        .await;
    }
    servers
}

/// Fast timings for tests: 100 ms heartbeats, a 1 s grace.
pub fn options(name: &str) -> NatsOptions {
    NatsOptions {
        connection_name: name.to_owned(),
        heartbeat_interval: Duration::from_millis(100),
        missed_heartbeats: 3,
        presence_grace: Duration::from_secs(1),
        presence_snapshot_interval: Duration::from_millis(500),
        max_reconnect_delay: Duration::from_millis(200),
        ..NatsOptions::default()
    }
}

pub async fn node(server: &NatsServer, name: &str) -> NatsBus {
    NatsBus::connect(&server.url(), options(name))
        .await
        .expect("a node connects")
}

/// Waits until `check` holds; fails the test after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next thing the feed yields, within [`PATIENCE`].
pub async fn next(feed: &mut dyn Feed) -> Received {
    match tokio::time::timeout(PATIENCE, feed.recv()).await {
        Ok(Some(received)) => received,
        Ok(None) => panic!("the feed ended"),
        Err(_) => panic!("nothing on the feed within {PATIENCE:?}"),
    }
}

/// The next envelope, past any losses reported before it.
pub async fn next_envelope(feed: &mut dyn Feed) -> Envelope {
    loop {
        if let Received::Envelope(envelope) = next(feed).await {
            return envelope;
        }
    }
}

/// Fails if the feed yields anything within [`SILENCE`].
pub async fn nothing(feed: &mut dyn Feed) {
    if let Ok(received) = tokio::time::timeout(SILENCE, feed.recv()).await {
        panic!("expected nothing, got {received:?}");
    }
}
