//! A PostgreSQL server of a test's own, for what the shared server must
//! never be put through: a configuration that makes commits wait (for a
//! standby that does not exist). `initdb` into a temporary directory, a
//! free port, trust authentication, user `postgres`; stopped (and its
//! files removed) on drop. As root, the server's tools run as the
//! `postgres` user (the server refuses to run as root).

// Only some test binaries start a private server.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

pub struct PrivateServer {
    dir: TempDir,
    port: u16,
}

impl PrivateServer {
    /// Creates and starts a server with these settings (`name=value`);
    /// panics (with the tool's words) if PostgreSQL's tools are missing
    /// or fail.
    pub fn start(settings: &[&str]) -> PrivateServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // The `postgres` user must reach the data directory inside.
        set_mode(dir.path(), 0o755);
        let server = PrivateServer {
            port: free_port(),
            dir,
        };
        std::fs::create_dir(server.data()).expect("a data directory");
        if is_root() {
            let chowned = Command::new("chown")
                .arg("postgres")
                .arg(server.data())
                .status()
                .expect("chown runs");
            assert!(chowned.success(), "chown postgres failed");
        }
        let data = path_str(&server.data()).to_owned();
        run_tool(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let log = format!("{data}/server.log");
        let mut options = format!(
            "-p {} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
            server.port
        );
        for setting in settings {
            options.push_str(&format!(" -c {setting}"));
        }
        run_tool(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-o", &options, "start"],
        );
        server
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = path_str(&self.data()).to_owned();
        if let Err(err) = try_tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]) {
            eprintln!("could not stop the private PostgreSQL server: {err}");
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// A PostgreSQL tool by name: on the PATH, else the newest of Debian's
/// versioned directories.
fn tool(name: &str) -> String {
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
        found
            .pop()
            .map_or_else(|| name.to_owned(), |path| path_str(&path).to_owned())
    })
}

/// Runs a tool (as `postgres` when this is root); its stderr if it failed.
fn try_tool(name: &str, args: &[&str]) -> Result<(), String> {
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(tool(name));
        command
    } else {
        Command::new(tool(name))
    };
    match command.args(args).stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        Err(err) => Err(err.to_string()),
    }
}

fn run_tool(name: &str, args: &[&str]) {
    if let Err(err) = try_tool(name, args) {
        panic!("{name} {args:?} failed: {err}");
    }
}
