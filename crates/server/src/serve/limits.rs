//! Who may hold a connection: the node's table of open connections, with
//! a cap in all, a cap per address (trusted proxies exempt), and the
//! connections that have not authenticated yet, oldest first, which are
//! the ones shed when the node is at its cap.

use axum::http::HeaderMap;
use natter_config::ConnectionSettings;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// The table of one node's open connections.
pub(crate) struct Connections {
    max_open: usize,
    max_per_ip: usize,
    trusted_proxies: Box<[IpAddr]>,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    open: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// Connections that may be shed, by age: each one's signal to close.
    unauthenticated: BTreeMap<u64, Arc<Notify>>,
    next_id: u64,
}

/// Why a connection was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its address already holds `max_per_ip` connections.
    PerAddress,
    /// The node is at `max_open` and every connection has authenticated.
    Full,
}

impl Connections {
    /// `max_open` is the cap in all (already derived from the open-file
    /// limit when the settings leave it at 0).
    pub(crate) fn new(settings: &ConnectionSettings, max_open: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max_open: max_open.max(1),
            max_per_ip: settings.max_per_ip,
            trusted_proxies: settings.trusted_proxies.clone().into_boxed_slice(),
            table: Mutex::default(),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent under every operation; a panic while
        // it was held cannot leave it half-updated.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a new connection from `ip`, shedding the oldest
    /// unauthenticated one if the node is at its cap.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, Refusal> {
        let trusted = self.trusted_proxies.contains(&ip);
        let counted_ip = (!trusted && self.max_per_ip > 0).then_some(ip);
        let mut table = self.table();
        if let Some(ip) = counted_ip
            && table.per_ip.get(&ip).copied().unwrap_or(0) >= self.max_per_ip
        {
            return Err(Refusal::PerAddress);
        }
        if table.open >= self.max_open {
            // The victim still counts until its task has closed it; each
            // newcomer sheds one, so the excess is what is being closed.
            match table.unauthenticated.pop_first() {
                Some((_, victim)) => victim.notify_one(),
                None => return Err(Refusal::Full),
            }
            metrics::counter!("natter_connections_shed_total").increment(1);
        }
        table.open += 1;
        if let Some(ip) = counted_ip {
            *table.per_ip.entry(ip).or_default() += 1;
        }
        let id = table.next_id;
        table.next_id += 1;
        let closing = Arc::new(Notify::new());
        table.unauthenticated.insert(id, closing.clone());
        metrics::gauge!("natter_connections_open").set(table.open as f64);
        Ok(Ticket {
            counted_ip,
            tag: ConnectionTag(Arc::new(Tag {
                id,
                closing,
                protected: AtomicBool::new(false),
                peer_trusted: trusted,
                connections: self.clone(),
            })),
        })
    }

    /// Sheds the oldest unauthenticated connection, if any (the process
    /// ran out of file descriptors). True if one was.
    pub(crate) fn shed_one(&self) -> bool {
        let victim = self.table().unauthenticated.pop_first();
        victim.is_some_and(|(_, victim)| {
            victim.notify_one();
            metrics::counter!("natter_connections_shed_total").increment(1);
            true
        })
    }

    pub(crate) fn max_open(&self) -> usize {
        self.max_open
    }
}

/// One admitted connection's place in the table, given back on drop. It
/// lives as long as the socket does, an upgraded (WebSocket) one included.
pub(crate) struct Ticket {
    counted_ip: Option<IpAddr>,
    tag: ConnectionTag,
}

impl Ticket {
    pub(crate) fn tag(&self) -> ConnectionTag {
        self.tag.clone()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let connections = &self.tag.0.connections;
        let mut table = connections.table();
        table.open -= 1;
        if let Some(ip) = self.counted_ip
            && let Some(count) = table.per_ip.get_mut(&ip)
        {
            *count -= 1;
            if *count == 0 {
                table.per_ip.remove(&ip);
            }
        }
        table.unauthenticated.remove(&self.tag.0.id);
        metrics::gauge!("natter_connections_open").set(table.open as f64);
    }
}

/// What a request knows of the connection it came on (in its
/// extensions): to mark it authenticated, to close it, and to tell the
/// client's address behind a trusted proxy.
#[derive(Clone)]
pub struct ConnectionTag(Arc<Tag>);

struct Tag {
    id: u64,
    closing: Arc<Notify>,
    protected: AtomicBool,
    peer_trusted: bool,
    connections: Arc<Connections>,
}

impl ConnectionTag {
    /// The connection is never shed from now on: it authenticated, or it
    /// is no longer an HTTP connection (upgraded or closed).
    pub fn protect(&self) {
        if !self.0.protected.swap(true, Ordering::Relaxed) {
            let connections = &self.0.connections;
            connections.table().unauthenticated.remove(&self.0.id);
        }
    }

    /// Asks the connection to close once its current response is out.
    pub fn close_soon(&self) {
        self.0.closing.notify_one();
    }

    /// Resolves when the connection is asked to close.
    pub(crate) async fn closing(&self) {
        self.0.closing.notified().await;
    }

    /// The client's address: `peer`, or, when `peer` is a trusted proxy,
    /// the last address of `X-Forwarded-For` that is not itself one.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.0.peer_trusted {
            return peer;
        }
        let trusted = &self.0.connections.trusted_proxies;
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .rev()
            .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
            .find(|hop| !trusted.contains(hop))
            .unwrap_or(peer)
    }
}
