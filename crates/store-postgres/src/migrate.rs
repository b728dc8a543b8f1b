//! Schema migrations for the PostgreSQL store: the SQL files of
//! `migrations/`, compiled into the binary by `sqlx::migrate!` and applied
//! by sqlx's migrator, which records them in `_sqlx_migrations` and holds
//! a PostgreSQL advisory lock meanwhile: nodes starting together against
//! one empty database take turns, and the first one migrates.
//!
//! The migrator runs on a pool of one connection of its own, closed
//! afterwards: if a migration fails, closing it also releases the
//! advisory lock (a connection of the store's pool would keep holding
//! it).

use crate::error::Db;
use natter_store::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Brings the schema up to date; a database migrated by a newer binary
/// (a migration this one does not know) is refused rather than guessed
/// at.
pub(crate) async fn run(options: PgConnectOptions) -> StoreResult<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .db()?;
    let migrated = sqlx::migrate!("./migrations").run(&pool).await;
    pool.close().await;
    migrated.map_err(|err| StoreError::backend(format!("migrating the database: {err}")))
}
