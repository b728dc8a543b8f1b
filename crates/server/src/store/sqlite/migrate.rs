//! Schema migrations for the SQLite store: the SQL files of
//! `migrations/sqlite/`, compiled into the binary, applied in order.
//!
//! The schema version is SQLite's own `PRAGMA user_version` (0 for a new
//! file): migration `n` (1-based) is applied when `user_version < n`, and
//! all pending ones run in one transaction together with the version bump,
//! so a crash leaves either the old or the new schema, never half of one.
//! A database newer than this binary is refused rather than guessed at.

use crate::store::StoreError;
use sqlx::migrate::MigrateError;
use sqlx::{Connection, Row, SqliteConnection};

/// The migrations, oldest first. Append only: never edit a released one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_files.sql"),
];

/// Brings the schema up to date. Runs on the writer connection before the
/// writer task starts, so nothing else writes meanwhile.
pub(super) async fn run(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let current: i64 = sqlx::query("PRAGMA user_version")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let latest = MIGRATIONS.len() as i64;
    if current > latest {
        return Err(
            sqlx::Error::Migrate(Box::new(MigrateError::VersionTooNew(current, latest))).into(),
        );
    }
    if current == latest {
        return Ok(());
    }

    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        tracing::info!(version = index + 1, "applied SQLite migration");
    }
    // PRAGMA takes no bound parameters; the versions are ours, not input.
    let bump = sqlx::AssertSqlSafe(format!("PRAGMA user_version = {latest}"));
    sqlx::raw_sql(bump).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
