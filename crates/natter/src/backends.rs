//! Backends by URL scheme: the one place that knows which store and bus
//! implementations exist. Everything past here sees only the
//! `natter-store` and `natter-bus` traits.

use anyhow::Context;
use natter_bus::local::LocalBus;
use natter_bus::presence::LocalPresence;
use natter_bus::{Bus, Presence};
use natter_config::Settings;
use natter_store::{CommitSink, Store};
use natter_store_sqlite::SqliteStore;
use std::sync::Arc;

/// The store `settings.database_url` names: empty or `sqlite://PATH` for
/// the embedded SQLite file. It reports its commits to `commits`.
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
        Some(other) => anyhow::bail!(
            "database URL scheme {other}:// is not available in this build (use sqlite:// or leave it empty)"
        ),
    }
}

/// The bus `settings.bus_url` names and the presence service beside it:
/// empty for the in-process ones.
pub(crate) fn bus(settings: &Settings) -> anyhow::Result<(Arc<dyn Bus>, Arc<dyn Presence>)> {
    match scheme(settings.bus_url.as_str()) {
        None => Ok((Arc::new(LocalBus::new()), Arc::new(LocalPresence::new()))),
        Some(other) => anyhow::bail!(
            "bus URL scheme {other}:// is not available in this build (leave it empty for the in-process bus)"
        ),
    }
}

/// `scheme` of `scheme://...`; `None` for an empty URL.
fn scheme(url: &str) -> Option<&str> {
    if url.is_empty() {
        return None;
    }
    Some(url.split_once("://").map_or(url, |(scheme, _)| scheme))
}
