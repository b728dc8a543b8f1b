//! [`Secrets`]: named secrets stored once and read by every caller. One
//! write job runs the insert and the read back, and the writer runs jobs
//! one at a time, so the first candidate stored is what every caller gets.

use crate::SqliteStore;
use async_trait::async_trait;
use natter_store::{Secrets, StoreResult};
use rusqlite::params;

#[async_trait]
impl Secrets for SqliteStore {
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        let (name, candidate) = (name.to_owned(), candidate.to_vec());
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                )?
                .execute(params![name, candidate])?;
                Ok(conn
                    .prepare_cached("SELECT value FROM secrets WHERE name = ?1")?
                    .query_row(params![name], |row| row.get(0))?)
            })
            .await
    }
}
