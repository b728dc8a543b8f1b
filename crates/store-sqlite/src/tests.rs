//! Tests of what only the SQLite store has: its writer's batches, the
//! file on disk and its log, its settings and its query plans. What any
//! backend must do is the store contract (`tests/contract.rs`), whose
//! helpers these tests share.

use super::SqliteStore;
use natter_config::StoreSettings;
use natter_store::commit_channel;
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

mod bench;
mod markers;
mod writes;

/// A store in a fresh directory (kept alive as long as the fixture).
struct Fixture {
    dir: TempDir,
    store: Arc<SqliteStore>,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings(&StoreSettings::default()).await
    }

    async fn with_settings(settings: &StoreSettings) -> Fixture {
        let dir = TempDir::new().unwrap();
        let store = SqliteStore::open(&db_path(&dir), settings, commit_channel().0)
            .await
            .unwrap();
        Fixture {
            dir,
            store: Arc::new(store),
        }
    }
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("data").join("natter.db")
}
