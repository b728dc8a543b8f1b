//! A real natter cluster for tests: a fresh database on the machine's
//! PostgreSQL (created per test, dropped afterwards), `nats-server`
//! processes of the test's own on free ports (one, or a cluster of
//! three), a shared file directory, and `natter serve` processes
//! ([`ServerProcess`]) given the same `postgres://` and `nats://` URLs.
//! Everything is killed or dropped when the [`Cluster`] is.
//!
//! The shared PostgreSQL server is only used to create and drop the
//! test's own database; `NATTER_TEST_POSTGRES_URL` names another server.

use crate::process::ServerProcess;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The server the test databases are made on.
fn admin_url() -> String {
    std::env::var("NATTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A port nobody listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Waits (bounded) until something accepts on `127.0.0.1:port`.
fn wait_for_port(port: u16, what: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
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
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
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
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            path_str(&self.data())
        );
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

/// One `nats-server` of the test's own, killed on drop.
pub struct NatsServer {
    child: Option<Child>,
    args: Vec<String>,
    pub port: u16,
    /// The HTTP monitoring port (`/connz`, `/subsz`).
    pub monitor_port: u16,
}

impl NatsServer {
    /// A lone server.
    pub fn start() -> NatsServer {
        NatsServer::start_with(Vec::new())
    }

    /// Three servers routed into one NATS cluster.
    pub fn start_cluster() -> Vec<NatsServer> {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_list = routes
            .iter()
            .map(|port| format!("nats://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        routes
            .iter()
            .map(|port| {
                NatsServer::start_with(vec![
                    "--cluster_name".into(),
                    "natter-test".into(),
                    "--cluster".into(),
                    format!("nats://127.0.0.1:{port}"),
                    "--routes".into(),
                    route_list.clone(),
                ])
            })
            .collect()
    }

    fn start_with(extra: Vec<String>) -> NatsServer {
        let (port, monitor_port) = (free_port(), free_port());
        let mut args = vec![
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-m".into(),
            monitor_port.to_string(),
        ];
        args.extend(extra);
        let mut server = NatsServer {
            child: None,
            args,
            port,
            monitor_port,
        };
        server.restart();
        server
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports (after [`NatsServer::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("/usr/sbin/nats-server")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        wait_for_port(self.port, "nats-server");
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Short liveness intervals so that tests see a dead node quickly.
const CLUSTER_ENV: &[(&str, &str)] = &[
    ("NATTER_CLUSTER__HEARTBEAT_MS", "250"),
    ("NATTER_CLUSTER__DEAD_AFTER_MS", "1500"),
    ("NATTER_CLUSTER__PRESENCE_GRACE_MS", "1000"),
    ("NATTER_GATEWAY__POSITION_SYNC_SECS", "2"),
];

/// Several natter nodes on one database, one NATS (cluster) and one file
/// directory.
pub struct Cluster {
    pub nats: Vec<NatsServer>,
    nodes: Vec<Option<ServerProcess>>,
    dir: TempDir,
    /// The database's URL, and what keeps the database alive.
    database_url: String,
    _database: Box<dyn std::any::Any + Send>,
}

impl Cluster {
    /// `nodes` natter nodes on one nats-server.
    pub async fn start(nodes: usize) -> Cluster {
        Cluster::start_on(nodes, vec![NatsServer::start()]).await
    }

    /// `nodes` natter nodes on the given NATS servers (node `i` is told
    /// server `i` first, then the others).
    pub async fn start_on(nodes: usize, nats: Vec<NatsServer>) -> Cluster {
        let database = TestDatabase::create();
        Cluster::start_with(nodes, nats, database.url().to_owned(), Box::new(database)).await
    }

    /// `nodes` natter nodes on one nats-server and the database at
    /// `database_url`, which `keep` keeps alive.
    pub async fn start_with(
        nodes: usize,
        nats: Vec<NatsServer>,
        database_url: String,
        keep: Box<dyn std::any::Any + Send>,
    ) -> Cluster {
        let mut cluster = Cluster {
            nats,
            nodes: (0..nodes).map(|_| None).collect(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            database_url,
            _database: keep,
        };
        std::fs::create_dir_all(cluster.files_dir()).expect("the shared file directory");
        // Started together: migrations and the shared secrets must cope
        // with nodes racing each other.
        let starts: Vec<_> = (0..nodes).map(|node| cluster.launch(node)).collect();
        for (node, process) in futures_util::future::join_all(starts)
            .await
            .into_iter()
            .enumerate()
        {
            cluster.nodes[node] = Some(process);
        }
        cluster
    }

    fn files_dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Starts node `node`'s process (not yet recorded).
    fn launch(&self, node: usize) -> impl std::future::Future<Output = ServerProcess> + use<> {
        let data_dir = self.dir.path().join(format!("node{node}"));
        let log = self.dir.path().join(format!("node{node}.log"));
        let mut nats: Vec<String> = self.nats.iter().map(NatsServer::url).collect();
        if !nats.is_empty() {
            let first = node % nats.len();
            nats.rotate_left(first);
        }
        let mut env: Vec<(String, String)> = CLUSTER_ENV
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        env.push(("NATTER_DATABASE_URL".into(), self.database_url.clone()));
        env.push(("NATTER_BUS_URL".into(), nats.join(",")));
        env.push((
            "NATTER_BLOB_URL".into(),
            format!("file://{}", self.files_dir().display()),
        ));
        async move {
            std::fs::create_dir_all(&data_dir).expect("a node's data directory");
            tokio::task::spawn_blocking(move || {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                ServerProcess::start(&data_dir, &log, &env)
            })
            .await
            .expect("start task")
        }
    }

    /// How many nodes the cluster was made with.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node `node`'s `http://127.0.0.1:PORT`.
    pub fn url(&self, node: usize) -> String {
        self.node(node).base_url().to_owned()
    }

    fn node(&self, node: usize) -> &ServerProcess {
        self.nodes[node].as_ref().expect("the node is running")
    }

    /// True while node `node` runs.
    pub fn is_up(&self, node: usize) -> bool {
        self.nodes[node].is_some()
    }

    /// SIGKILL node `node`.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut process) = self.nodes[node].take() {
            process.kill();
        }
    }

    /// Starts node `node` again (after [`Cluster::kill`]), on a new port.
    pub async fn restart(&mut self, node: usize) {
        self.kill(node);
        let process = self.launch(node).await;
        self.nodes[node] = Some(process);
    }

    /// Node `node`'s process, for signals and logs.
    pub fn process(&mut self, node: usize) -> &mut ServerProcess {
        self.nodes[node].as_mut().expect("the node is running")
    }

    /// Every node's log tail, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for node in 0..self.nodes.len() {
            let path = self.dir.path().join(format!("node{node}.log"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- node {node}\n"));
            out.push_str(&lines[lines.len().saturating_sub(30)..].join("\n"));
            out.push('\n');
        }
        out
    }
}
