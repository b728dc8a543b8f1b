//! The `natter` binary as a child process, for tests that must kill the
//! server for real: started with `natter serve --listen 127.0.0.1:0` on a
//! given data directory, its address read from the `natter listening on`
//! line on stdout, its stderr kept in a log file. Killed on drop.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a fresh process may take to print its address.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A running `natter serve` process.
pub struct ServerProcess {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the binary on `data_dir` with rate limits off, cheap argon2
    /// and the extra environment `env`, logging stderr to `log`. Blocks
    /// until the address is printed (from async code, use [`launch`]).
    pub fn start(data_dir: &Path, log: &Path, env: &[(&str, &str)]) -> ServerProcess {
        let stderr = File::create(log).expect("a log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
            .arg("serve")
            .args([
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                "off",
                "--data-dir",
            ])
            .arg(data_dir)
            .env("NATTER_AUTH__ARGON2_MEMORY_KIB", "256")
            .env("NATTER_AUTH__ARGON2_ITERATIONS", "1")
            .env_remove("NATTER_LISTEN")
            .env_remove("NATTER_DATA_DIR")
            .env_remove("NATTER_DATABASE_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the natter binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines_rx) = mpsc::channel();
        // Reads stdout to the end so the child never blocks on a full pipe;
        // lines after the address line go nowhere once the receiver is gone.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines_tx.send(line);
            }
        });
        let mut process = ServerProcess {
            child,
            base_url: String::new(),
            log: log.to_path_buf(),
        };
        let until = Instant::now() + STARTUP_DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("natter listening on ") {
                        process.base_url = url.trim_end_matches('/').to_owned();
                        return process;
                    }
                }
                Err(_) => panic!(
                    "natter did not print its address in time; log:\n{}",
                    process.log_tail()
                ),
            }
        }
    }

    /// `http://127.0.0.1:PORT` as printed by the process.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// SIGKILL: the process gets no chance to flush anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (`STOP`, `CONT`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGTERM, then waits (bounded) for a graceful exit; SIGKILL if the
    /// process is still there after the deadline. Returns true if it exited
    /// by itself.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        if sent.is_ok_and(|status| status.success()) {
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.kill();
        false
    }

    /// The whole of the process's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the process's stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// [`ServerProcess::start`] from async code.
pub async fn launch(data_dir: &Path, log: &Path, env: &[(&str, &str)]) -> ServerProcess {
    let (data_dir, log) = (data_dir.to_path_buf(), log.to_path_buf());
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ServerProcess::start(&data_dir, &log, &env)
    })
    .await
    .expect("start task")
}
