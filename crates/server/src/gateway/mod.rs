//! WebSocket real time: sessions ([`connection`]), their bounded outboxes
//! ([`outbox`]) and the node's event router ([`router`]) that takes events
//! from the bus to the local connections of current members, in `seq`
//! order per chat. Calls `core` for everything that reads or writes data;
//! knows nothing of SQL.

pub mod connection;
pub mod outbox;
pub mod router;

use natter_config::GatewaySettings;
use natter_core::Core;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How often expired typing indications are ended and socket markers
/// written: short enough that receipts feel live, long enough that one
/// write carries many markers.
const TICK: Duration = Duration::from_millis(100);

/// The gateway of one node.
pub struct Gateway {
    pub(crate) core: Arc<Core>,
    pub(crate) settings: Arc<GatewaySettings>,
    commands: mpsc::UnboundedSender<router::Command>,
    pub(crate) shutdown: watch::Receiver<bool>,
    next_id: AtomicU64,
}

/// Stops the gateway's background work and closes every session.
pub struct GatewayHandle {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    core: Arc<Core>,
    /// Sessions hold the gateway; once HTTP serving stopped, nothing else
    /// does, so this reaches zero when the last session has finished.
    gateway: std::sync::Weak<Gateway>,
}

/// How long shutdown waits for sessions to say goodbye.
const SESSION_DRAIN: Duration = Duration::from_secs(5);

impl GatewayHandle {
    /// Closes sessions with 1001, waits (a few seconds at most) for them
    /// to record their disconnect, and writes the markers still queued.
    /// Call after HTTP serving has stopped.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + SESSION_DRAIN;
        while self.gateway.strong_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for task in &self.tasks {
            task.abort();
        }
        self.core.flush_markers().await;
    }
}

impl Gateway {
    /// Starts the router and the periodic work.
    pub fn start(core: Arc<Core>, settings: GatewaySettings) -> (Arc<Gateway>, GatewayHandle) {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (stop, shutdown) = watch::channel(false);
        let router = router::Router::new(core.clone(), commands.clone());
        let router_task = tokio::spawn(router.run(core.feed(), command_rx));
        let ticker_core = core.clone();
        let ticker = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            loop {
                ticks.tick().await;
                ticker_core.expire_typing();
                ticker_core.expire_calls().await;
                ticker_core.flush_markers().await;
            }
        });
        let mut tasks = vec![router_task, ticker];
        if settings.position_sync_secs > 0 {
            let every = Duration::from_secs(settings.position_sync_secs);
            let commands = commands.clone();
            tasks.push(tokio::spawn(async move {
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    ticks.tick().await;
                    if commands.send(router::Command::SyncPositions).is_err() {
                        return;
                    }
                }
            }));
        }
        let gateway = Arc::new(Gateway {
            core: core.clone(),
            settings: Arc::new(settings),
            commands,
            shutdown,
            next_id: AtomicU64::new(1),
        });
        let handle = GatewayHandle {
            shutdown: stop,
            tasks,
            core,
            gateway: Arc::downgrade(&gateway),
        };
        (gateway, handle)
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn command(&self, command: router::Command) {
        // Fails only after the router stopped, at shutdown.
        let _ = self.commands.send(command);
    }
}
