//! The accept loop: HTTP/1.1 connections served by hyper, with what keeps
//! one client from locking everyone else out (see `limits` and
//! `paced_body`):
//! - a cap on open connections below the process's open-file limit; at
//!   the cap a newcomer displaces the oldest connection that has not
//!   authenticated, so idle sockets cannot starve real users or `/healthz`;
//!   running out of descriptors anyway sheds one too, instead of spinning;
//! - a cap per client address (trusted proxies exempt);
//! - a deadline for each request's head (hyper's header-read timeout,
//!   which also ends a keep-alive connection idle that long);
//! - a minimum pace for request bodies;
//! - refusals as one-shot problem+json answers, then a close;
//! - graceful shutdown: no new connections, in-flight requests finish.
//!
//! Upgraded connections (WebSockets) keep their place in the table until
//! their socket closes; the gateway has its own auth and idle timeouts.

mod limits;
mod paced_body;

pub use limits::ConnectionTag;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use limits::{Connections, Refusal, Ticket};
use natter_config::ConnectionSettings;
use natter_proto::{ErrorCode, Problem};
use paced_body::{Pace, PacedBody};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a shed connection may take to finish its response.
const SHED_GRACE: Duration = Duration::from_secs(1);
/// How long a refused client gets to read its answer.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);
/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Pause after the process ran out of file descriptors.
const DESCRIPTORS_BACKOFF: Duration = Duration::from_millis(20);

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting and waits (bounded) for in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &ConnectionSettings,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Connections::new(settings, max_open(settings));
    tracing::info!(
        max_open = connections.max_open(),
        max_per_ip = settings.max_per_ip,
        "accepting connections"
    );
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(settings.header_timeout_secs.max(1)));
    let pace = Pace {
        grace: Duration::from_secs(settings.body_grace_secs),
        min_bytes_per_sec: settings.body_min_bytes_per_sec,
    };
    let (stop, stopping) = watch::channel(false);
    let mut out_of_descriptors = false;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error, &connections, &mut out_of_descriptors).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        out_of_descriptors = false;
        match connections.admit(peer.ip()) {
            Ok(ticket) => {
                let connection = Connection {
                    app: app.clone(),
                    http: http.clone(),
                    pace,
                    peer,
                    stopping: stopping.clone(),
                };
                tokio::spawn(connection.run(stream, ticket));
            }
            Err(refusal) => {
                tokio::spawn(refuse(stream, refusal));
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    if tokio::time::timeout(SHUTDOWN_GRACE, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
}

/// The cap on open connections: as configured, or the open-file limit
/// less the reserve.
fn max_open(settings: &ConnectionSettings) -> usize {
    if settings.max_open > 0 {
        return settings.max_open;
    }
    let limit = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _hard)| soft);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    limit.saturating_sub(settings.fd_reserve).max(16)
}

/// An accept error: out of descriptors sheds the oldest unauthenticated
/// connection and waits a moment (logged once per episode); anything
/// else (a connection reset before it was accepted) is skipped.
async fn accept_failed(error: &io::Error, connections: &Connections, episode: &mut bool) {
    if !matches!(error.raw_os_error(), Some(EMFILE | ENFILE)) {
        tracing::debug!(%error, "accept failed");
        return;
    }
    if !*episode {
        *episode = true;
        tracing::warn!(%error, "out of file descriptors: shedding unauthenticated connections");
    }
    connections.shed_one();
    tokio::time::sleep(DESCRIPTORS_BACKOFF).await;
}

/// Linux's "too many open files" (per process and system-wide).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// What serving one connection needs.
struct Connection {
    app: Router,
    http: hyper::server::conn::http1::Builder,
    pace: Pace,
    peer: SocketAddr,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, ticket: Ticket) {
        // Chat frames are small and latency matters: without TCP_NODELAY,
        // Nagle's algorithm and delayed ACKs hold frames back ~40 ms.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let tag = ticket.tag();
        let (app, pace, peer) = (self.app.clone(), self.pace, self.peer);
        let request_tag = tag.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let tag = request_tag.clone();
            let mut request =
                request.map(|body| axum::body::Body::new(PacedBody::new(body, pace, tag.clone())));
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(tag);
            app.clone().oneshot(request)
        });
        let io = TokioIo::new(Counted {
            stream,
            _ticket: ticket,
            lingering: None,
        });
        let served = self.http.serve_connection(io, service).with_upgrades();
        tokio::pin!(served);
        let result = tokio::select! {
            result = served.as_mut() => result,
            () = tag.closing() => {
                served.as_mut().graceful_shutdown();
                tokio::time::timeout(SHED_GRACE, served.as_mut()).await.unwrap_or(Ok(()))
            }
            () = stopped(&mut self.stopping) => {
                served.as_mut().graceful_shutdown();
                served.as_mut().await
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "connection ended with an error");
        }
        // Closed, or handed over to a WebSocket session: no longer
        // an HTTP connection to shed.
        tag.protect();
    }
}

/// Resolves once the server stops (or is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// The socket of an admitted connection, carrying its place in the
/// table for as long as it is open.
///
/// Its shutdown lingers: after the server's last bytes and its FIN, what
/// the client still sends is read and dropped until the client closes its
/// side, for at most [`LINGER_TIME`] and [`LINGER_BYTES`]. Closing with
/// unread bytes in the receive buffer makes the kernel reset the
/// connection, and a reset can destroy an answer the client has not read
/// yet: a 413 sent before a large upload's body was read reached the
/// client as "broken pipe" instead.
struct Counted {
    stream: TcpStream,
    _ticket: Ticket,
    lingering: Option<Lingering>,
}

/// How long a closing connection keeps reading what the client still sends.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// How much of it is read at most.
const LINGER_BYTES: u64 = 32 * 1024 * 1024;

struct Lingering {
    deadline: Pin<Box<tokio::time::Sleep>>,
    read: u64,
}

impl Counted {
    /// Reads and drops input until the client's FIN, an error, or a bound.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(lingering) = self.lingering.as_mut() else {
            return Poll::Ready(());
        };
        let mut sink = [0u8; 8192];
        loop {
            if lingering.read >= LINGER_BYTES || lingering.deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            let mut buf = ReadBuf::new(&mut sink);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    lingering.read += buf.filled().len() as u64;
                }
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.lingering.is_none() {
            if let Err(error) = std::task::ready!(Pin::new(&mut this.stream).poll_shutdown(cx)) {
                return Poll::Ready(Err(error));
            }
            this.lingering = Some(Lingering {
                deadline: Box::pin(tokio::time::sleep(LINGER_TIME)),
                read: 0,
            });
        }
        this.poll_drain(cx).map(Ok)
    }
}

/// Refused connections being answered at once; beyond this a refused
/// connection is closed without an answer, so a flood of refusals cannot
/// hold the descriptors the cap protects.
const MAX_REFUSALS_ANSWERING: usize = 256;
static REFUSALS_ANSWERING: AtomicUsize = AtomicUsize::new(0);

/// Answers a turned-away connection with problem details and closes it.
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    if REFUSALS_ANSWERING.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSALS_ANSWERING {
        REFUSALS_ANSWERING.fetch_sub(1, Ordering::Relaxed);
        metrics::counter!("natter_connections_refused_total", "reason" => "flood").increment(1);
        return;
    }
    answer_refusal(&mut stream, refusal).await;
    REFUSALS_ANSWERING.fetch_sub(1, Ordering::Relaxed);
}

async fn answer_refusal(stream: &mut TcpStream, refusal: Refusal) {
    let (code, status_line, detail) = match refusal {
        Refusal::PerAddress => (
            ErrorCode::RateLimited,
            "429 Too Many Requests",
            "too many open connections from this address",
        ),
        Refusal::Full => (
            ErrorCode::Unavailable,
            "503 Service Unavailable",
            "the server is at its connection limit",
        ),
    };
    metrics::counter!("natter_connections_refused_total", "reason" => code.as_str()).increment(1);
    let body = serde_json::to_string(&Problem::new(code, detail)).unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // Whatever the client sent is read and dropped: closing on unread
    // bytes would reset the connection and could lose the answer.
    let _ = tokio::time::timeout(REFUSAL_GRACE, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}
