//! The server under test: either started here (`--spawn-server PATH`:
//! `natter serve` on 127.0.0.1:0 with a fresh data directory, rate limits
//! off, cheap argon2 and the gateway settings the scenario needs) or an
//! already running one (`--url` and, for its RSS and CPU, `--server-pid`),
//! or the running nodes of a cluster (several comma-separated URLs and
//! pids). Either way the server is a list of [`Node`]s, one when spawned.

use crate::target::Target;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a fresh server may take to print its address.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// Settings every spawned server gets: registration must be cheap (the
/// scenarios register thousands of users) and tokens must outlive the run.
const BASE_ENV: [(&str, &str); 4] = [
    ("NATTER_AUTH__ARGON2_MEMORY_KIB", "256"),
    ("NATTER_AUTH__ARGON2_ITERATIONS", "1"),
    ("NATTER_AUTH__ACCESS_TTL_SECS", "86400"),
    ("NATTER_LOG", "warn"),
];

/// One `natter serve` process: where it listens and, when known, its
/// process id (for its RSS and CPU).
#[derive(Clone, Debug)]
pub struct Node {
    pub target: Target,
    pub pid: Option<u32>,
}

pub struct Server {
    /// At least one; the order of `--url`.
    pub nodes: Vec<Node>,
    child: Option<Child>,
    data_dir: Option<PathBuf>,
    keep_data: bool,
}

impl Server {
    /// An already running server, or cluster: `urls` is one base URL or
    /// several separated by commas; `pids` is empty or one per URL.
    pub fn attach(urls: &str, pids: impl IntoIterator<Item = u32>) -> anyhow::Result<Server> {
        let targets = Target::parse_list(urls).map_err(anyhow::Error::msg)?;
        let pids: Vec<u32> = pids.into_iter().collect();
        if !pids.is_empty() && pids.len() != targets.len() {
            bail!("{} process ids for {} URLs", pids.len(), targets.len());
        }
        let nodes = targets
            .into_iter()
            .enumerate()
            .map(|(index, target)| Node {
                target,
                pid: pids.get(index).copied(),
            })
            .collect();
        Ok(Server {
            nodes,
            child: None,
            data_dir: None,
            keep_data: true,
        })
    }

    /// Base URLs of the nodes, in order (for the REST client).
    pub fn base_urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| node.target.base_url())
            .collect()
    }

    /// WebSocket URLs of the nodes, in order.
    pub fn ws_urls(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.target.ws_url()).collect()
    }

    /// More than one node: the run reports per node and splits latency
    /// into same-node and cross-node deliveries.
    pub fn is_cluster(&self) -> bool {
        self.nodes.len() > 1
    }

    /// Starts `binary serve` with a new data directory under `data_base`;
    /// `env` comes on top of the base settings. The server's stderr goes
    /// to `server.log` in its data directory.
    pub async fn spawn(
        binary: &Path,
        data_base: &Path,
        env: &[(String, String)],
        keep_data: bool,
    ) -> anyhow::Result<Server> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let data_dir = data_base.join(format!("natter-bench-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let mut command = Command::new(binary);
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                "off",
                "--data-dir",
            ])
            .arg(&data_dir)
            .env_remove("NATTER_LISTEN")
            .env_remove("NATTER_DATABASE_URL")
            .env_remove("NATTER_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        for (key, value) in BASE_ENV {
            command.env(key, value);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(STARTUP_DEADLINE, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.trim().strip_prefix("natter listening on ") {
                    return Ok(url.trim_end_matches('/').to_owned());
                }
            }
            bail!("the server exited before printing its address")
        })
        .await
        .context("the server did not print its address in time")??;
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let target = Target::parse(&url).map_err(anyhow::Error::msg)?;
        eprintln!(
            "server: pid {:?} at {url}, data in {}",
            child.id(),
            data_dir.display()
        );
        Ok(Server {
            nodes: vec![Node {
                target,
                pid: child.id(),
            }],
            child: Some(child),
            data_dir: Some(data_dir),
            keep_data,
        })
    }

    /// Stops a spawned server (SIGTERM, then SIGKILL after 30 s) and
    /// removes its data directory unless asked to keep it. An attached
    /// server is left alone.
    pub async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .is_err()
        {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        if let Some(dir) = self.data_dir.take()
            && !self.keep_data
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Parses `KEY=VALUE` for `--server-env`.
pub fn parse_env(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text}: expected KEY=VALUE"))?;
    if !key.starts_with("NATTER_") {
        return Err(format!("{key}: only NATTER_* settings can be passed"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_env_must_be_natter_settings() {
        assert_eq!(
            parse_env("NATTER_GATEWAY__OUTBOX_FRAMES=4096").unwrap(),
            (
                "NATTER_GATEWAY__OUTBOX_FRAMES".to_owned(),
                "4096".to_owned()
            )
        );
        assert!(parse_env("PATH=/tmp").is_err());
        assert!(parse_env("NATTER_X").is_err());
    }

    #[test]
    fn attach_refuses_remote_servers() {
        assert!(Server::attach("http://10.1.1.1:80", None).is_err());
        assert!(Server::attach("http://127.0.0.1:8080", Some(1)).is_ok());
    }

    #[test]
    fn attach_names_every_node_with_its_pid() {
        let server = Server::attach("http://127.0.0.1:1,http://127.0.0.1:2", [7, 8]).unwrap();
        assert!(server.is_cluster());
        assert_eq!(
            server.ws_urls(),
            ["ws://127.0.0.1:1/api/v1/ws", "ws://127.0.0.1:2/api/v1/ws"]
        );
        let pids: Vec<Option<u32>> = server.nodes.iter().map(|node| node.pid).collect();
        assert_eq!(pids, [Some(7), Some(8)]);
        let unwatched = Server::attach("http://127.0.0.1:1,http://127.0.0.1:2", None).unwrap();
        assert!(unwatched.nodes.iter().all(|node| node.pid.is_none()));
        assert!(Server::attach("http://127.0.0.1:1,http://127.0.0.1:2", Some(7)).is_err());
        assert!(
            !Server::attach("http://127.0.0.1:1", None)
                .unwrap()
                .is_cluster()
        );
    }
}
