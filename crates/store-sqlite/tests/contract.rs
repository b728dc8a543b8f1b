//! The store contract (`natter_store::contract`) on SQLite: each test on
//! a fresh database file in its own temporary directory.

use async_trait::async_trait;
use natter_config::StoreSettings;
use natter_store::commit_channel;
use natter_store::contract::{Backend, Harness};
use natter_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

/// Opens `<dir>/data/natter.db` with the default settings.
struct SqliteBackend;

impl SqliteBackend {
    async fn open_in(dir: TempDir) -> Harness {
        let (sink, commits) = commit_channel();
        let store = SqliteStore::open(&db_path(dir.path()), &StoreSettings::default(), sink)
            .await
            .unwrap();
        Harness {
            store: Arc::new(store),
            commits,
            keep: Box::new(dir),
        }
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn open(&self) -> Harness {
        SqliteBackend::open_in(TempDir::new().unwrap()).await
    }

    async fn reopen(&self, harness: Harness) -> Harness {
        let Harness { store, keep, .. } = harness;
        store.close().await;
        drop(store);
        let dir = keep
            .downcast::<TempDir>()
            .expect("a harness of this backend");
        SqliteBackend::open_in(*dir).await
    }
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("data").join("natter.db")
}

natter_store::store_contract_tests!(SqliteBackend);
