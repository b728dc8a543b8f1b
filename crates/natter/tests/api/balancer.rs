//! A TCP balancer in front of several nodes, for cluster tests: clients
//! are given one address, as behind haproxy, and each new connection
//! goes to the next target that accepts it (round robin; a dead node's
//! refused connect falls through to the next). Connections already
//! carried stay where they are until their node dies. Targets can be
//! replaced (a restarted node has a new port).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Balancer {
    addr: std::net::SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
    accept: JoinHandle<()>,
}

impl Balancer {
    /// Balances over `base_urls` (`http://host:port`).
    pub async fn start(base_urls: &[String]) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the balancer");
        let addr = listener.local_addr().expect("the balancer's address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let balancer = Balancer {
            addr,
            targets: targets.clone(),
            accept: tokio::spawn(accept_loop(listener, targets)),
        };
        balancer.set_targets(base_urls);
        balancer
    }

    /// The one base URL clients are given.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the nodes new connections go to.
    pub fn set_targets(&self, base_urls: &[String]) {
        let hosts = base_urls
            .iter()
            .map(|url| url.trim_start_matches("http://").to_owned())
            .collect();
        *self.targets.lock().unwrap_or_else(PoisonError::into_inner) = hosts;
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, targets: Arc<Mutex<Vec<String>>>) {
    let next = Arc::new(AtomicUsize::new(0));
    while let Ok((mut inbound, _)) = listener.accept().await {
        let (targets, next) = (targets.clone(), next.clone());
        tokio::spawn(async move {
            let hosts = targets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let start = next.fetch_add(1, Ordering::Relaxed);
            for offset in 0..hosts.len() {
                let host = &hosts[(start + offset) % hosts.len()];
                if let Ok(mut outbound) = TcpStream::connect(host).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    return;
                }
            }
            // No node accepts: dropping the stream closes it.
        });
    }
}
