//! The real services natter's tests run against, started per test and
//! gone afterwards: [`TestDatabase`] (a database of the test's own on the
//! machine's PostgreSQL, made and dropped with `psql`; leftovers older
//! than an hour are swept), [`PrivatePostgres`] (an `initdb` server of the
//! test's own, to crash and restart: never the shared one) and
//! [`NatsServer`] (a `nats-server` process on free ports, alone or three
//! routed into one NATS cluster). Dev-only: no production crate depends
//! on it. [`push_service::PushService`] is a local Web Push service.
//!
//! `NATTER_TEST_POSTGRES_URL` names another admin server than
//! `postgres://postgres@127.0.0.1:5432/postgres`; `NATS_SERVER` another
//! `nats-server` binary than the one on `PATH` (or `/usr/sbin`).

pub mod push_service;

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The server the test databases are made on.
fn admin_url() -> String {
    std::env::var("NATTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of this test's own, dropped (with its connections) on drop.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// A fresh database, named `natter_it_<unix seconds>_<pid>_<n>`. The
    /// first one a test process makes also drops those older than an hour
    /// (left by a run that was killed before its drops ran).
    pub fn create() -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static SWEPT: std::sync::Once = std::sync::Once::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        SWEPT.call_once(|| sweep_older_than(now.saturating_sub(3600)));
        let name = format!(
            "natter_it_{now}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
        );
        psql(&format!("CREATE DATABASE {name}"));
        let admin = admin_url();
        let server = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(server, _)| server);
        TestDatabase {
            url: format!("{server}/{name}"),
            name,
        }
    }

    /// `postgres://.../<name>`, for `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Drops the test databases made before `cutoff` (unix seconds).
fn sweep_older_than(cutoff: u64) {
    let Ok(output) = Command::new("psql")
        .args([
            admin_url().as_str(),
            "-tAc",
            "SELECT datname FROM pg_database WHERE datname LIKE 'natter\\_it\\_%'",
        ])
        .output()
    else {
        return;
    };
    for name in String::from_utf8_lossy(&output.stdout).lines() {
        let made = name
            .strip_prefix("natter_it_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if made.is_some_and(|made| made < cutoff) {
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs one statement on the admin database with `psql`.
fn psql(statement: &str) {
    let status = Command::new("psql")
        .args([
            admin_url().as_str(),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        ])
        .stdout(Stdio::null())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {statement}");
}

/// A PostgreSQL server of the test's own (`initdb` into a temporary
/// directory, on a free port), for faults the machine's shared server must
/// never see: it is crashed and restarted at will. Stopped on drop.
pub struct PrivatePostgres {
    dir: TempDir,
    pub port: u16,
    settings: Vec<String>,
}

impl PrivatePostgres {
    /// A server with PostgreSQL's defaults (and `fsync=off`).
    pub fn start() -> PrivatePostgres {
        PrivatePostgres::start_with(&[])
    }

    /// A server with these extra settings (`name=value`), kept across
    /// [`PrivatePostgres::restart`].
    pub fn start_with(settings: &[&str]) -> PrivatePostgres {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // The server runs as `postgres` (it refuses root): let it in.
        chmod(dir.path(), 0o755);
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("a data directory");
        chown_postgres(&data);
        as_postgres(
            &pg_tool("initdb"),
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let server = PrivatePostgres {
            port: free_port(),
            dir,
            settings: settings.iter().map(|setting| setting.to_string()).collect(),
        };
        server.start_server();
        server
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn start_server(&self) {
        let log = self.data().join("server.log");
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            path_str(&self.data())
        );
        for setting in &self.settings {
            options.push_str(&format!(" -c {setting}"));
        }
        as_postgres(
            &pg_tool("pg_ctl"),
            &[
                "-D",
                path_str(&self.data()),
                "-l",
                path_str(&log),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Kills the server as a crash would (`immediate`: no checkpoint, no
    /// goodbye to clients).
    pub fn crash(&self) {
        as_postgres(
            &pg_tool("pg_ctl"),
            &[
                "-D",
                path_str(&self.data()),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts it again after [`PrivatePostgres::crash`] (it recovers from
    /// its log).
    pub fn restart(&self) {
        self.start_server();
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = run_as_postgres(
            &pg_tool("pg_ctl"),
            &["-D", path_str(&self.data()), "-m", "immediate", "stop"],
        );
    }
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// `initdb` or `pg_ctl`: on PATH, else in Debian's versioned directory.
fn pg_tool(name: &str) -> String {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    on_path.unwrap_or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin").join(name))
            .filter(|path| path.exists())
            .collect();
        found.sort();
        path_str(&found.pop().unwrap_or_else(|| PathBuf::from(name))).to_owned()
    })
}

/// Runs a PostgreSQL tool as `postgres` when this is root; its stderr if
/// it failed.
fn run_as_postgres(tool: &str, args: &[&str]) -> Result<(), String> {
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", tool]);
        command
    } else {
        Command::new(tool)
    };
    match command.args(args).stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        Err(error) => Err(error.to_string()),
    }
}

fn as_postgres(tool: &str, args: &[&str]) {
    if let Err(error) = run_as_postgres(tool, args) {
        panic!("{tool} {args:?} failed: {error}");
    }
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chown_postgres(path: &std::path::Path) {
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres")
            .arg(path)
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown postgres failed");
    }
}

/// How long a service may take to answer (generous: shared machines).
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits until `check` holds; fails the test after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

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
