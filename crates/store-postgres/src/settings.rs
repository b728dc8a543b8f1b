//! How a [`PgStore`](crate::PgStore) uses its database: pool sizes and
//! the appender's batching. Defaults suit a node of a small cluster; the
//! connection URL (credentials included) is not here but given to `open`.

use std::time::Duration;

/// Tuning of one PostgreSQL store (one node's connections).
#[derive(Clone, Debug, PartialEq)]
pub struct PgSettings {
    /// Connections for reads and for writes other than appends. Each
    /// PostgreSQL connection is a server process: a cluster's nodes
    /// together must stay under the server's `max_connections`.
    pub max_connections: u32,
    /// Most appends stored in one transaction. Past a few hundred a
    /// batch's statements grow without making the commit cheaper.
    pub max_batch: usize,
    /// How long the appender waits for more appends to fill a batch, and
    /// only while appends arrive concurrently (the previous batch held
    /// more than one): a lone send is stored at once.
    pub batch_linger: Duration,
    /// How long a call waits for a connection (or for the server to
    /// accept one) before failing as `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            max_connections: 8,
            max_batch: 256,
            batch_linger: Duration::from_millis(2),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}
