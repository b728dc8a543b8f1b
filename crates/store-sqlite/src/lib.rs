//! natter's embedded store: the SQLite implementation of the
//! [`natter_store`] traits, one database file in WAL mode.
//!
//! This module owns opening the file (connection settings, migrations) and
//! the two kinds of connection: one writer (rusqlite, synchronous),
//! driven by the group-commit thread in `writer`, through which every
//! write goes; and a pool of
//! read-only connections that, thanks to WAL, read the last committed
//! state without waiting for the writer. The SQL of each concern lives in
//! its own module (users, sessions, chats, chat list, messages, reactions,
//! markers, search, files, secrets, push, the change cursor's reads), and each
//! implements the store trait of its aggregate for [`SqliteStore`].
//!
//! Not here: authorization (callers check membership and roles; only the
//! right to post is checked by the append itself, see `messages`) and
//! event publication (committed messages go to a [`CommitSink`]; `core`
//! announces them).

mod changes;
mod chat_list;
mod chats;
mod checkpointer;
mod error;
mod files;
mod health;
mod hidden;
mod key_packages;
mod markers;
mod member_flags;
mod messages;
mod migrate;
mod mls;
mod previews;
mod push;
mod reactions;
mod rows;
mod search;
mod secrets;
mod sessions;
mod users;
mod writer;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use checkpointer::Checkpointer;
use error::Db;
use natter_config::StoreSettings;
use natter_store::{CommitSink, Store, StoreError, StoreResult};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::time::Duration;
use writer::Writer;

/// The writer's end-of-batch SQL, in this order: the senders' markers
/// (which find the batch's messages by the full-text mark), then the
/// full-text indexing that moves the mark.
const END_OF_BATCH: &[&str] = &[
    messages::SENDERS_READ_THEIR_MESSAGES,
    search::INDEX_NEW_MESSAGES,
    search::RECORD_INDEXED,
];

/// How long a connection waits for a lock before failing with
/// `SQLITE_BUSY` (only another process, or a checkpoint, can hold one).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection; the store has fewer distinct
/// statements than this, so every one is prepared once per connection.
const STATEMENT_CACHE: usize = 256;

/// The SQLite store. Cheap to share behind an `Arc`; [`Store::close`]
/// flushes it.
pub struct SqliteStore {
    writer: Writer,
    readers: SqlitePool,
    /// Where committed appends are reported (see `messages`).
    commits: CommitSink,
}

impl SqliteStore {
    /// Opens (creating the directory and file if missing) and migrates
    /// the database at `path`, then starts the writer task; each message
    /// it appends is reported to `commits` once durable. Needs a tokio
    /// runtime. Fails if the file cannot be opened or its schema is newer
    /// than this binary.
    pub async fn open(
        path: &Path,
        settings: &StoreSettings,
        commits: CommitSink,
    ) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|err| StoreError::Backend(Box::new(err)))?;
        }
        let writer_path = path.to_owned();
        let (synchronous_full, wal_max_bytes) = (settings.synchronous_full, settings.wal_max_bytes);
        let conn = tokio::task::spawn_blocking(move || {
            open_writer(&writer_path, synchronous_full, wal_max_bytes)
        })
        .await
        .map_err(|err| StoreError::Backend(Box::new(err)))??;

        // Readers never write: `query_only` turns a bug into an error
        // instead of a second writer contending for the lock.
        let readers = SqlitePoolOptions::new()
            .max_connections(settings.read_connections.max(1))
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .foreign_keys(true)
                    .busy_timeout(BUSY_TIMEOUT)
                    .statement_cache_capacity(STATEMENT_CACHE)
                    .pragma("query_only", "ON"),
            )
            .await
            .db()?;

        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        let checkpointer = Checkpointer::spawn(path, wal.clone(), BUSY_TIMEOUT)?;
        let log = writer::Log {
            wal,
            max_bytes: settings.wal_max_bytes,
        };
        let writer = Writer::spawn(conn, log, checkpointer, settings.max_batch, END_OF_BATCH)
            .map_err(|err| StoreError::Backend(Box::new(err)))?;
        Ok(SqliteStore {
            writer,
            readers,
            commits,
        })
    }

    /// Finishes queued writes, checkpoints, then closes the readers.
    async fn shut_down(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    /// Reads, and, while the last write failed for want of space, writes
    /// too: `/readyz` turns ready again as soon as a write fits.
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await.db()?;
        if self.writer.storage_full() {
            self.writer.write(probe_write).await?;
        }
        Ok(())
    }

    async fn close(&self) {
        self.shut_down().await;
    }
}

/// The smallest write that reaches the disk: the database header's
/// `user_version` (unused by natter) rewritten with its own value.
fn probe_write(conn: &rusqlite::Connection) -> error::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    conn.execute_batch(&format!("PRAGMA user_version = {version}"))?;
    Ok(())
}

/// Opens (creating it if missing) and migrates the file for the writer.
fn open_writer(
    path: &Path,
    synchronous_full: bool,
    wal_max_bytes: u64,
) -> StoreResult<rusqlite::Connection> {
    let mut conn = rusqlite::Connection::open(path).db()?;
    conn.busy_timeout(BUSY_TIMEOUT).db()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL: readers see the last commit without blocking the writer, and
    // a commit appends to the log instead of rewriting pages in place.
    // (The pragma answers with the mode now in force.)
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .db()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::backend(format!(
            "SQLite refused WAL mode (journal_mode = {mode})"
        )));
    }
    // NORMAL: a commit writes the log without waiting for the disk; the
    // writer's syncer fsyncs the log before any write of the batch is
    // acknowledged (see `writer`), so every acknowledged write survives
    // power loss, as with FULL, without the writer waiting for the disk.
    // FULL on request (see `StoreSettings::synchronous_full`); the
    // syncer's fsync then finds nothing left to write.
    conn.execute_batch(if synchronous_full {
        "PRAGMA synchronous = FULL;"
    } else {
        "PRAGMA synchronous = NORMAL;"
    })
    .db()?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         -- 32 MiB of page cache: the writer touches the same hot index
         -- pages (chats, members, FTS segments) batch after batch.
         PRAGMA cache_size = -32768;
         -- Keep the savepoint journals (one per write job, see `writer`)
         -- in memory: by default SQLite spills them to a temporary file
         -- past 64 KiB, which turns every job into file writes.
         PRAGMA temp_store = MEMORY;
         -- Checkpoints run on their own thread (see `checkpointer`).
         PRAGMA wal_autocheckpoint = 0;",
    )
    .db()?;
    // A log restarted from its beginning is cut back to the bound (see
    // `checkpointer` for what keeps it from outgrowing it).
    conn.pragma_update(None, "journal_size_limit", wal_max_bytes as i64)
        .db()?;
    migrate::run(&mut conn)?;
    Ok(conn)
}

/// Runs `PRAGMA integrity_check` on the database file at `path` (opened
/// read-only, so it can be used on the file of a stopped server) and
/// returns SQLite's report: `"ok"` when the file is sound.
pub async fn integrity_check(path: &Path) -> anyhow::Result<String> {
    use sqlx::{Connection, Row};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    let report: Vec<String> = rows.iter().map(|row| row.get::<String, _>(0)).collect();
    conn.close().await?;
    Ok(report.join("\n"))
}
