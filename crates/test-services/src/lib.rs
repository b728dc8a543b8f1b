//! The real services natter's tests run against, started per test and
//! gone afterwards: [`TestDatabase`] (a database of the test's own on the
//! machine's PostgreSQL, made and dropped with `psql`; leftovers older
//! than an hour are swept), [`PrivatePostgres`] (an `initdb` server of the
//! test's own, to crash and restart: never the shared one) and
//! [`NatsServer`] (a `nats-server` process on free ports, alone or three
//! routed into one NATS cluster). Dev-only: no production crate depends
//! on it.
//!
//! `NATTER_TEST_POSTGRES_URL` names another admin server than
//! `postgres://postgres@127.0.0.1:5432/postgres`; `NATS_SERVER` another
//! `nats-server` binary than the one on `PATH` (or `/usr/sbin`).

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

/// A port nobody listened on a moment ago, and not handed out before by
/// this process (tests running in parallel must not get the same one).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("a free port");
        let mut given = GIVEN.lock().unwrap_or_else(|poison| poison.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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

/// `NATS_SERVER`, else `nats-server` on `PATH`, else Debian's.
fn nats_server_binary() -> String {
    if let Ok(binary) = std::env::var("NATS_SERVER") {
        return binary;
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v nats-server"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    on_path.unwrap_or_else(|| "/usr/sbin/nats-server".to_owned())
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
        let child = Command::new(nats_server_binary())
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
