//! [`Secrets`]: named secrets stored once and read by every node. The
//! insert does nothing if the name exists (waiting, if another node is
//! inserting it right now, for that node's commit), and the read that
//! follows, a statement of its own, sees whichever candidate was stored
//! first.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{Secrets, StoreResult};
use sqlx::Row;

#[async_trait]
impl Secrets for PgStore {
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.pool)
        .await
        .db()?;
        sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .db()?
            .try_get(0)
            .db()
    }
}
