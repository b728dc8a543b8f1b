//! `natter-bench worker`: a child process of the coordinator that holds
//! a share of the connections (one process may hold at most 20,000 open
//! files here). It reads [`ToWorker`] commands as JSON lines on stdin and
//! answers with [`FromWorker`] lines on stdout; it logs nothing on stdout.
//!
//! It runs on one thread: the machine has two cores shared with the
//! server, so parallelism comes from running several workers.

mod conn;
mod shared;

use crate::protocol::{ConnPlan, FromWorker, StepPlan, ToWorker};
use anyhow::Context;
use conn::{ConnTask, Socket};
use futures_util::StreamExt;
use shared::Shared;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// How long one handshake plus `ready` may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Traffic is settled when nothing arrived for this long after a step.
const QUIET: Duration = Duration::from_millis(300);

/// Runs a worker until `Close` or the end of stdin.
pub fn main(index: usize) -> anyhow::Result<()> {
    crate::raise_open_files_limit();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(index))
}

async fn serve(index: usize) -> anyhow::Result<()> {
    let shared = Arc::new(Shared::new(index));
    let (steps_tx, steps_rx) = watch::channel::<Option<Arc<StepPlan>>>(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut lines = stdin_lines();
    let mut next_conn = 0usize;
    while let Some(line) = lines.recv().await {
        let command: ToWorker = serde_json::from_str(&line).context("a command line")?;
        let answer = match command {
            ToWorker::Connect {
                ws_urls,
                conns,
                concurrency,
            } => {
                let first = next_conn;
                next_conn += conns.len();
                let ctx = (shared.clone(), steps_rx.clone(), stop_rx.clone());
                connect_all(&ws_urls, conns, first, concurrency, ctx).await
            }
            ToWorker::Step { plan } => run_step(&shared, &steps_tx, plan).await,
            ToWorker::Close => {
                let _ = stop_tx.send(true);
                let until = tokio::time::Instant::now() + Duration::from_secs(5);
                while shared.open.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < until
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Ok(());
            }
        };
        let mut text = serde_json::to_string(&answer)?;
        text.push('\n');
        // A few hundred bytes per command: a blocking write is fine.
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
    }
    Ok(())
}

/// Lines of stdin, read on a thread of their own (blocking reads), so
/// that the runtime needs no `io-std` feature.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (lines_tx, lines_rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    lines_rx
}

type Ctx = (
    Arc<Shared>,
    watch::Receiver<Option<Arc<StepPlan>>>,
    watch::Receiver<bool>,
);

/// Opens `conns`, each to its node's URL, `concurrency` handshakes at a
/// time; each connection counts as opened once its `ready` frame arrived.
async fn connect_all(
    ws_urls: &[String],
    conns: Vec<ConnPlan>,
    first: usize,
    concurrency: usize,
    (shared, steps, stop): Ctx,
) -> FromWorker {
    let mut opened = 0;
    let mut failed = 0;
    let mut first_error = None;
    let attempts = futures_util::stream::iter(conns.into_iter().enumerate())
        .map(|(offset, plan)| async move {
            let socket = match ws_urls.get(plan.node) {
                Some(ws_url) => tokio::time::timeout(CONNECT_TIMEOUT, open(ws_url, &plan.token))
                    .await
                    .unwrap_or_else(|_| Err("timed out".to_owned())),
                None => Err(format!("no node {} among {}", plan.node, ws_urls.len())),
            };
            (first + offset, plan, socket)
        })
        .buffer_unordered(concurrency.max(1));
    futures_util::pin_mut!(attempts);
    while let Some((index, plan, socket)) = attempts.next().await {
        match socket {
            Ok(socket) => {
                opened += 1;
                shared.open.fetch_add(1, Ordering::Relaxed);
                let task = ConnTask {
                    index,
                    chats: plan.chats,
                    node: (ws_urls.len() > 1).then_some(plan.node),
                    shared: shared.clone(),
                    steps: steps.clone(),
                    stop: stop.clone(),
                };
                tokio::spawn(task.run(socket));
            }
            Err(error) => {
                failed += 1;
                first_error.get_or_insert(error);
            }
        }
    }
    FromWorker::Connected {
        opened,
        failed,
        open_now: shared.open.load(Ordering::Relaxed),
        first_error,
    }
}

/// Small socket buffers: a worker holds thousands of connections, and
/// the frames here are a few hundred bytes.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// Connects, upgrades with the bearer token and waits for `ready`.
async fn open(ws_url: &str, token: &str) -> Result<Socket, String> {
    let mut request = ws_url
        .into_client_request()
        .map_err(|error| error.to_string())?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    request.headers_mut().insert("authorization", bearer);
    let host = request
        .uri()
        .authority()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let stream = TcpStream::connect(&host)
        .await
        .map_err(|error| format!("tcp connect: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(socket_config()))
            .await
            .map_err(|error| format!("upgrade: {error}"))?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) if is_ready(&text) => return Ok(socket),
            Some(Ok(Message::Close(frame))) => {
                return Err(format!("closed before ready: {frame:?}"));
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(format!("before ready: {error}")),
            None => return Err("closed before ready".to_owned()),
        }
    }
}

fn is_ready(text: &Utf8Bytes) -> bool {
    text.starts_with("{\"type\":\"ready\"")
}

/// Runs one step: clears the counters, hands the plan to every
/// connection, waits for the sending phase to end and for the traffic to
/// settle (or `drain_ms`), then reports.
async fn run_step(
    shared: &Arc<Shared>,
    steps: &watch::Sender<Option<Arc<StepPlan>>>,
    plan: StepPlan,
) -> FromWorker {
    let clock = shared.clock;
    let start_us = plan.start_at_us;
    let end_us = start_us + plan.duration_ms * 1000;
    let drain = Duration::from_millis(plan.drain_ms);
    shared.step_end_us.store(end_us, Ordering::Relaxed);
    shared.take(0);
    let _ = steps.send(Some(Arc::new(plan)));
    tokio::time::sleep_until(tokio::time::Instant::from_std(clock.instant_at(end_us))).await;
    let elapsed_ms = clock.now_us().saturating_sub(start_us) / 1000;
    let drain_until = tokio::time::Instant::now() + drain;
    loop {
        let now_us = clock.now_us();
        let quiet = now_us.saturating_sub(shared.last_frame_us.load(Ordering::Relaxed))
            >= QUIET.as_micros() as u64;
        if (shared.outstanding() == 0 && quiet) || tokio::time::Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = steps.send(None);
    FromWorker::StepDone {
        report: Box::new(shared.take(elapsed_ms)),
    }
}
