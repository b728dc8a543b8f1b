//! Backends by URL scheme: the one place that knows which store and bus
//! implementations exist. Everything past here sees only the
//! `natter-store` and `natter-bus` traits.

use anyhow::Context;
use natter_bus::local::LocalBus;
use natter_bus::presence::LocalPresence;
use natter_bus::{Bus, Presence};
use natter_bus_nats::{NatsBus, NatsOptions};
use natter_config::{ClusterSettings, Settings};
use natter_store::{CommitSink, Store};
use natter_store_postgres::{PgSettings, PgStore};
use natter_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

/// The store `settings.database_url` names: empty or `sqlite://PATH` for
/// the embedded SQLite file, `postgres://` (or `postgresql://`) for a
/// cluster's shared database. It reports its commits to `commits`.
pub(crate) async fn store(
    settings: &Settings,
    commits: CommitSink,
) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.as_str();
    match scheme(url) {
        None | Some("sqlite") => {
            let path = settings.sqlite_path();
            let store = SqliteStore::open(&path, &settings.store, commits)
                .await
                .with_context(|| format!("opening the database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        Some("postgres" | "postgresql") => {
            let pg = PgSettings {
                max_connections: settings.store.postgres_connections,
                ..PgSettings::default()
            };
            let store = PgStore::open(url, &pg, commits).await.with_context(|| {
                format!("opening the database {}", settings.database_url.redacted())
            })?;
            Ok(Arc::new(store))
        }
        Some(other) => anyhow::bail!(
            "database URL scheme {other}:// is not supported (use sqlite://, postgres:// or leave it empty)"
        ),
    }
}

/// A bus, the presence service beside it, and how to leave the cluster.
pub(crate) struct BusBackend {
    pub bus: Arc<dyn Bus>,
    pub presence: Arc<dyn Presence>,
    nats: Option<NatsBus>,
}

impl BusBackend {
    /// Leaves cleanly: with NATS, queued envelopes go out and the other
    /// nodes hear a goodbye instead of waiting for the heartbeats to stop.
    pub async fn leave(&self) {
        if let Some(nats) = &self.nats {
            nats.shutdown().await;
        }
    }
}

/// The bus `settings.bus_url` names and the presence service beside it:
/// empty for the in-process ones, `nats://HOST:PORT[,nats://...]` for a
/// cluster's.
pub(crate) async fn bus(settings: &Settings) -> anyhow::Result<BusBackend> {
    let url = settings.bus_url.as_str();
    match scheme(url) {
        None => Ok(BusBackend {
            bus: Arc::new(LocalBus::new()),
            presence: Arc::new(LocalPresence::new()),
            nats: None,
        }),
        Some("nats") => {
            let nats = NatsBus::connect(url, nats_options(&settings.cluster))
                .await
                .with_context(|| format!("connecting to NATS {}", settings.bus_url.redacted()))?;
            Ok(BusBackend {
                bus: Arc::new(nats.clone()),
                presence: Arc::new(nats.presence()),
                nats: Some(nats),
            })
        }
        Some(other) => anyhow::bail!(
            "bus URL scheme {other}:// is not supported (use nats:// or leave it empty for the in-process bus)"
        ),
    }
}

fn nats_options(cluster: &ClusterSettings) -> NatsOptions {
    let heartbeat = cluster.heartbeat_ms.max(10);
    NatsOptions {
        heartbeat_interval: Duration::from_millis(heartbeat),
        missed_heartbeats: cluster.dead_after_ms.div_ceil(heartbeat).max(2) as u32,
        presence_grace: Duration::from_millis(cluster.presence_grace_ms),
        ..NatsOptions::default()
    }
}

/// `scheme` of `scheme://...`; `None` for an empty URL.
fn scheme(url: &str) -> Option<&str> {
    if url.is_empty() {
        return None;
    }
    Some(url.split_once("://").map_or(url, |(scheme, _)| scheme))
}
