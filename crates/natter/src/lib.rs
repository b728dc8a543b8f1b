//! The natter server as a library: picks the store and bus backends by
//! URL scheme, wires them to the use cases (`natter-core`) and the network
//! face (`natter-server`), and runs the process life cycle ([`start`]).
//! `main.rs` only parses the command line and calls in here, so tests
//! start the very same server in-process on `127.0.0.1:0`.

mod backends;

/// The settings tree (re-exported for embedders and tests).
pub use natter_config as config;

use anyhow::Context;
use config::Settings;
use natter_server::{gateway, http};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often idle rate-limit buckets are dropped.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

/// A server that is accepting connections.
pub struct RunningServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// The address it listens on (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes in-flight requests, flushes the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task panicked")?
    }

    /// Runs until `signal` completes, then shuts down gracefully.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

/// Binds the listener, opens the data directory, the store and the bus,
/// and starts serving in the background. A failure on the way closes
/// what was opened (a node that joined the bus leaves it again).
pub async fn start(settings: Settings) -> anyhow::Result<RunningServer> {
    // First: a taken port fails the start before any backend is touched.
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    let (commits, committed) = natter_store::commit_channel();
    let store = backends::store(&settings, commits).await?;
    let (core, buses) = match wire(&settings, store.clone()).await {
        Ok(wired) => wired,
        Err(error) => {
            store.close().await;
            return Err(error);
        }
    };
    let departures = buses
        .presence
        .departures()
        .map(|departures| tokio::spawn(announce_departures(core.clone(), departures)));
    let announcer = natter_core::announcer::Announcer::spawn(core.clone(), committed);
    let push_queue = tokio::spawn(core.clone().run_push_queue());
    http::ops::prometheus();

    let (gateway, gateway_handle) = gateway::Gateway::start(core.clone(), settings.gateway.clone());
    let state = http::AppState {
        core: core.clone(),
        gateway,
    };
    let app = http::router(state, &settings);
    let (stop, stopped) = oneshot::channel::<()>();
    let housekeeping = tokio::spawn(housekeeping(
        core.clone(),
        Duration::from_secs(settings.files.orphan_sweep_secs.max(1)),
    ));
    let connections = settings.connections.clone();
    let task = tokio::spawn(async move {
        natter_server::serve::serve(listener, app, &connections, async move {
            let _ = stopped.await;
        })
        .await;
        housekeeping.abort();
        // A push cut short stays leased and is sent after the restart.
        push_queue.abort();
        gateway_handle.stop().await;
        store.close().await;
        announcer.finish().await;
        buses.leave().await;
        // Only now: until the goodbye this node may be the one that
        // announces other nodes' departed users.
        if let Some(departures) = departures {
            departures.abort();
        }
        Ok(())
    });
    Ok(RunningServer { addr, stop, task })
}

/// The server secret, the bus and the blob store around `store`, and the
/// core on top of them. Leaves the bus again if a later step fails.
async fn wire(
    settings: &Settings,
    store: Arc<dyn natter_store::Store>,
) -> anyhow::Result<(Arc<natter_core::Core>, backends::BusBackend)> {
    let secret =
        natter_core::tokens::server_secret(&settings.auth, &settings.data_dir, store.as_ref())
            .await?;
    let vapid_key = natter_core::push::vapid_key(&settings.push, store.as_ref()).await?;
    let buses = backends::bus(settings).await?;
    let blob_options: Vec<(String, String)> = settings
        .blob_options
        .iter()
        .map(|(key, value)| (key.clone(), value.0.clone()))
        .collect();
    let core = natter_core::blob::BlobStore::from_url_with(
        &settings.blob_url,
        &settings.data_dir,
        &blob_options,
    )
    .and_then(|blob| {
        natter_core::Core::new(
            settings,
            &secret,
            natter_core::Backends {
                store,
                bus: buses.bus.clone(),
                presence: buses.presence.clone(),
                blob,
                vapid_key,
            },
        )
    });
    match core {
        Ok(core) => Ok((Arc::new(core), buses)),
        Err(error) => {
            buses.leave().await;
            Err(error)
        }
    }
}

/// Announces the presence changes a cluster's presence service reports
/// without a local connection (users of a node that died).
async fn announce_departures(
    core: Arc<natter_core::Core>,
    mut departures: tokio::sync::mpsc::UnboundedReceiver<(String, natter_bus::PresenceChange)>,
) {
    while let Some((user_id, change)) = departures.recv().await {
        core.presence_expired(&user_id, change).await;
    }
}

/// Periodic upkeep: idle rate-limit buckets, orphaned uploads, stale
/// link previews and their images.
async fn housekeeping(core: Arc<natter_core::Core>, sweep_every: Duration) {
    let mut ticks = tokio::time::interval(HOUSEKEEPING_EVERY.min(sweep_every));
    let mut last_sweep = tokio::time::Instant::now();
    loop {
        ticks.tick().await;
        core.housekeeping();
        if last_sweep.elapsed() >= sweep_every {
            last_sweep = tokio::time::Instant::now();
            if let Err(error) = core.sweep_orphans().await {
                tracing::warn!(?error, "sweeping orphaned uploads failed");
            }
            if let Err(error) = core.sweep_link_previews().await {
                tracing::warn!(?error, "sweeping stale link previews failed");
            }
        }
    }
}
