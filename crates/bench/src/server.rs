//! The server under test: either started here (`--spawn-server PATH`:
//! `natter serve` on 127.0.0.1:0 with a fresh data directory, rate limits
//! off, cheap argon2 and the gateway settings the scenario needs) or an
//! already running one (`--url` and, for its RSS and CPU, `--server-pid`).

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

pub struct Server {
    pub target: Target,
    pub pid: Option<u32>,
    child: Option<Child>,
    data_dir: Option<PathBuf>,
    keep_data: bool,
}

impl Server {
    /// An already running server.
    pub fn attach(url: &str, pid: Option<u32>) -> anyhow::Result<Server> {
        let target = Target::parse(url).map_err(anyhow::Error::msg)?;
        Ok(Server {
            target,
            pid,
            child: None,
            data_dir: None,
            keep_data: true,
        })
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
            target,
            pid: child.id(),
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
}
