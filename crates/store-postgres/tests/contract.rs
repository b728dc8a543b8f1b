//! The store contract (`natter_store::contract`) on PostgreSQL: each test
//! on a fresh database of its own (see `support`), dropped afterwards.

mod support;

use async_trait::async_trait;
use natter_store::commit_channel;
use natter_store::contract::{Backend, Harness};
use natter_store_postgres::{PgSettings, PgStore};
use std::sync::Arc;
use support::TestDatabase;

/// Opens a store on its database with the default settings.
struct PgBackend;

impl PgBackend {
    async fn open_on(database: TestDatabase) -> Harness {
        let (sink, commits) = commit_channel();
        let store = PgStore::open(&database.url, &PgSettings::default(), sink)
            .await
            .unwrap();
        Harness {
            store: Arc::new(store),
            commits,
            keep: Box::new(database),
        }
    }
}

#[async_trait]
impl Backend for PgBackend {
    async fn open(&self) -> Harness {
        PgBackend::open_on(TestDatabase::create().await).await
    }

    async fn reopen(&self, harness: Harness) -> Harness {
        let Harness { store, keep, .. } = harness;
        store.close().await;
        drop(store);
        let database = keep
            .downcast::<TestDatabase>()
            .expect("a harness of this backend");
        PgBackend::open_on(*database).await
    }
}

natter_store::store_contract_tests!(PgBackend);
