//! natter's shared store: the PostgreSQL implementation of the
//! [`natter_store`] traits, for a cluster of nodes on one database.
//!
//! This module owns opening the database (connection pool, migrations)
//! and closing it. The SQL of each concern lives in its own module
//! (users, sessions, chats, chat list, messages, reactions, markers,
//! search, files, secrets, push), each implementing the store trait of its
//! aggregate for [`PgStore`]. Appends go through the group-commit
//! `appender`, which stores the waiting ones in one transaction.
//!
//! What makes several nodes on one database safe: every write that must
//! be ordered with a chat's appends locks the chat's row first (appends,
//! members joining and leaving, changes that take a version), so `seq`
//! and `version` are taken under that lock, gap-free and visible in
//! order, and a member removed by one node cannot post through another.
//!
//! Not here: authorization (callers check membership and roles; only the
//! right to post is checked by the append itself) and event publication
//! (committed messages go to a [`CommitSink`]; `core` announces them;
//! nothing here uses `NOTIFY`).

mod appender;
mod chat_list;
mod chats;
mod error;
mod files;
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
mod settings;
mod users;

pub use settings::PgSettings;

use appender::Appender;
use async_trait::async_trait;
use error::Db;
use natter_store::{CommitSink, Store, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;

/// How the store's connections name themselves to the server
/// (`pg_stat_activity`).
const APPLICATION_NAME: &str = "natter";

/// The PostgreSQL store. Cheap to share behind an `Arc`; [`Store::close`]
/// waits for queued appends.
pub struct PgStore {
    pool: PgPool,
    appender: Appender,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`),
    /// migrates the schema (safe when several nodes start at once) and
    /// starts the appender; each message it appends is reported to
    /// `commits` once committed. Needs a tokio runtime. Fails if the
    /// database cannot be reached or its schema is newer than this
    /// binary's.
    pub async fn open(
        url: &str,
        settings: &PgSettings,
        commits: CommitSink,
    ) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url)
            .db()?
            .application_name(APPLICATION_NAME);
        migrate::run(options.clone()).await?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options.clone())
            .await
            .db()?;
        // Appends have connections of their own, so that a burst of reads
        // never makes a send wait for a connection (and the reverse).
        let append_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .db()?;
        let appender = Appender::spawn(append_pool, commits, settings);
        Ok(PgStore { pool, appender })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.db()?;
        Ok(())
    }

    /// Stores what is queued, then closes every connection. Idempotent.
    async fn close(&self) {
        self.appender.close().await;
        self.pool.close().await;
    }
}
