//! A TCP proxy between a client and the test server that a test can cut,
//! to simulate a lost network: [`CutProxy::cut`] drops every connection
//! through it at once (both ends see the TCP connection close without a
//! WebSocket close frame) and refuses new ones until
//! [`CutProxy::restore`]. Owns no test of its own.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

#[derive(Default)]
struct State {
    refusing: bool,
    links: Vec<AbortHandle>,
}

/// A running proxy to one server.
pub struct CutProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl CutProxy {
    /// Proxies to the server at `base_url` (`http://host:port`).
    pub async fn start(base_url: &str) -> CutProxy {
        let target = base_url
            .strip_prefix("http://")
            .expect("an http:// base URL")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(Mutex::new(State::default()));
        let accept = tokio::spawn(accept_loop(listener, target, state.clone()));
        CutProxy {
            addr,
            state,
            accept,
        }
    }

    /// The base URL clients use instead of the server's.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        let mut state = lock(&self.state);
        state.refusing = true;
        for link in state.links.drain(..) {
            link.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        lock(&self.state).refusing = false;
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poison| poison.into_inner())
}

async fn accept_loop(listener: TcpListener, target: String, state: Arc<Mutex<State>>) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        let mut state = lock(&state);
        if state.refusing {
            // Dropping the stream closes it: the client sees its
            // connection attempt fail.
            continue;
        }
        let target = target.clone();
        let link = tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(&target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
        state.links.retain(|link| !link.is_finished());
        state.links.push(link.abort_handle());
    }
}
