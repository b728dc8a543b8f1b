//! [`PushQueue`]: the two stages of the durable push queue (jobs, then
//! deliveries), claims under leases, planning a job into its deliveries,
//! and the notifications shown that a read takes back. Jobs are written
//! by the append (`messages`, [`INSERT_JOB`]); what to push, and sending
//! it, are the caller's.
//!
//! A claim is one write job: it reads the oldest available rows, then
//! moves them to the end of the lease in one statement. The writer runs
//! one job at a time, so no two claims hand out the same row. A claim
//! first looks on a reader whether anything is available at all: an idle
//! server's senders poll every few hundred milliseconds, and must not
//! queue writer jobs (and fsyncs) to find nothing.

use super::json_ids;
use super::subscriptions::{subscription, subscription_columns};
use crate::SqliteStore;
use crate::error::{self, Db};
use crate::rows::Columns;
use async_trait::async_trait;
use natter_store::{DeliveryRow, NewDelivery, PushJob, PushQueue, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use sqlx::Row;

/// Queues the push job of a message the append just stored
/// (`?1..?4`: message id, chat, seq, created); available at once. A job
/// already queued for the message is kept.
pub(crate) const INSERT_JOB: &str = "
    INSERT INTO push_jobs (message_id, chat_id, seq, created_at, available_at)
    VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (message_id) DO NOTHING";

/// Which of the deliveries given [`insert_deliveries`] stores.
#[derive(Clone, Copy)]
enum Stored {
    /// All of them (activation and `read` pushes, which also go to
    /// pending subscriptions).
    All,
    /// Those whose subscription is active now (a message's pushes: one
    /// replaced since its targets were read is pending, maybe another
    /// user's).
    ForActive,
}

/// Stores deliveries, available from when they were made.
fn insert_deliveries(
    conn: &Connection,
    deliveries: &[NewDelivery],
    stored: Stored,
) -> error::Result<()> {
    let mut insert = conn.prepare_cached(match stored {
        Stored::All => {
            "INSERT INTO push_deliveries (id, subscription_id, payload, topic, urgency, \
             created_at, expires_at, available_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)"
        }
        Stored::ForActive => {
            "INSERT INTO push_deliveries (id, subscription_id, payload, topic, urgency, \
             created_at, expires_at, available_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6 \
             WHERE EXISTS (SELECT 1 FROM push_subscriptions WHERE id = ?2 AND active = 1)"
        }
    })?;
    for d in deliveries {
        insert.execute(params![
            d.id,
            d.subscription_id,
            d.payload,
            d.topic,
            d.urgency,
            d.created_at,
            d.expires_at
        ])?;
    }
    Ok(())
}

/// Reads a claimed delivery joined with its subscription (`d_*` are the
/// delivery's own columns).
fn delivery(row: &rusqlite::Row<'_>) -> StoreResult<DeliveryRow> {
    let attempts: i64 = row.int("attempts")?;
    Ok(DeliveryRow {
        id: row.text("d_id")?,
        subscription: subscription(row)?,
        payload: row.get("payload").db()?,
        topic: row.text_opt("topic")?,
        urgency: row.text("urgency")?,
        created_at: row.int("d_created_at")?,
        expires_at: row.int("expires_at")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    })
}

impl SqliteStore {
    /// Whether `table` (`push_jobs` or `push_deliveries`) has a row
    /// available at `now`, looked up on a reader (by the table's
    /// `available_at` index): a claim that would find nothing costs no
    /// write. A row committed since is found by the next poll.
    async fn any_available(&self, table: Queue, now: i64) -> StoreResult<bool> {
        let sql = match table {
            Queue::Jobs => "SELECT EXISTS (SELECT 1 FROM push_jobs WHERE available_at <= ?1)",
            Queue::Deliveries => {
                "SELECT EXISTS (SELECT 1 FROM push_deliveries WHERE available_at <= ?1)"
            }
        };
        sqlx::query_scalar(sql)
            .bind(now)
            .fetch_one(&self.readers)
            .await
            .db()
    }
}

/// The two stages of the queue, for [`SqliteStore::any_available`].
#[derive(Clone, Copy)]
enum Queue {
    Jobs,
    Deliveries,
}

#[async_trait]
impl PushQueue for SqliteStore {
    async fn claim_jobs(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<PushJob>> {
        if !self.any_available(Queue::Jobs, now).await? {
            return Ok(Vec::new());
        }
        self.writer
            .write_statement(move |conn| {
                let mut available = conn.prepare_cached(
                    "SELECT message_id, chat_id, seq, created_at FROM push_jobs \
                     WHERE available_at <= ?1 ORDER BY available_at, message_id LIMIT ?2",
                )?;
                let jobs = available
                    .query_map(params![now, limit], |row| {
                        Ok(PushJob {
                            message_id: row.get(0)?,
                            chat_id: row.get(1)?,
                            seq: row.get(2)?,
                            created_at: row.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                if !jobs.is_empty() {
                    let ids: Vec<&str> = jobs.iter().map(|job| job.message_id.as_str()).collect();
                    conn.prepare_cached(
                        "UPDATE push_jobs SET available_at = ?1 \
                         WHERE message_id IN (SELECT value FROM json_each(?2))",
                    )?
                    .execute(params![lease_until, json_ids(&ids)?])?;
                }
                Ok(jobs)
            })
            .await
    }

    /// The job's row is the proof it is still unplanned: deleting it is
    /// the first step, and nothing else happens if it was gone. Whether a
    /// subscription is active is looked at in the same write job, so no
    /// subscribe can replace it between the look and the insert.
    async fn plan_job(
        &self,
        job: &PushJob,
        deliveries: &[NewDelivery],
        shown_users: &[String],
    ) -> StoreResult<()> {
        let (message_id, chat_id) = (job.message_id.clone(), job.chat_id.clone());
        let (deliveries, shown_users) = (deliveries.to_vec(), shown_users.to_vec());
        self.writer
            .write(move |conn| {
                let seq: Option<i64> = conn
                    .prepare_cached("DELETE FROM push_jobs WHERE message_id = ?1 RETURNING seq")?
                    .query_row(params![message_id], |row| row.get(0))
                    .optional()?;
                let Some(seq) = seq else {
                    return Ok(());
                };
                insert_deliveries(conn, &deliveries, Stored::ForActive)?;
                let mut shown = conn.prepare_cached(
                    "INSERT INTO push_shown (user_id, chat_id, first_seq, last_seq) \
                     VALUES (?1, ?2, ?3, ?3) ON CONFLICT (user_id, chat_id) DO UPDATE \
                     SET first_seq = min(first_seq, excluded.first_seq), \
                         last_seq = max(last_seq, excluded.last_seq)",
                )?;
                for user_id in &shown_users {
                    shown.execute(params![user_id, chat_id, seq])?;
                }
                Ok(())
            })
            .await
    }

    async fn enqueue(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let deliveries = deliveries.to_vec();
        self.writer
            .write(move |conn| insert_deliveries(conn, &deliveries, Stored::All))
            .await
    }

    /// Deliveries whose subscription is gone (deleted after they were
    /// planned) or whose session is no longer live at `now` are deleted
    /// instead of handed out (`live` is the session's id only if it is
    /// live).
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>> {
        if !self.any_available(Queue::Deliveries, now).await? {
            return Ok(Vec::new());
        }
        self.writer
            .write(move |conn| {
                let mut available = conn.prepare_cached(concat!(
                    "SELECT d.id AS d_id, d.subscription_id, d.payload, d.topic, d.urgency, \
                         d.created_at AS d_created_at, d.expires_at, d.attempts, \
                         s.id AS live, ",
                    subscription_columns!(),
                    " FROM push_deliveries d \
                     LEFT JOIN push_subscriptions p ON p.id = d.subscription_id \
                     LEFT JOIN sessions s ON s.id = p.session_id \
                         AND s.revoked = 0 AND s.expires_at > ?1 \
                     WHERE d.available_at <= ?1 ORDER BY d.available_at, d.id LIMIT ?2"
                ))?;
                let mut rows = available.query(params![now, limit])?;
                let (mut claimed, mut orphans) = (Vec::new(), Vec::new());
                while let Some(row) = rows.next()? {
                    match row.text_opt("live")? {
                        Some(_) => claimed.push(delivery(row)?),
                        None => orphans.push(row.text("d_id")?),
                    }
                }
                drop(rows);
                if !orphans.is_empty() {
                    conn.prepare_cached(
                        "DELETE FROM push_deliveries WHERE id IN (SELECT value FROM json_each(?1))",
                    )?
                    .execute(params![json_ids(&orphans)?])?;
                }
                if !claimed.is_empty() {
                    let ids: Vec<&str> = claimed.iter().map(|d| d.id.as_str()).collect();
                    conn.prepare_cached(
                        "UPDATE push_deliveries SET available_at = ?1 \
                         WHERE id IN (SELECT value FROM json_each(?2))",
                    )?
                    .execute(params![lease_until, json_ids(&ids)?])?;
                }
                Ok(claimed)
            })
            .await
    }

    async fn finish_delivery(&self, delivery_id: &str) -> StoreResult<()> {
        let id = delivery_id.to_owned();
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached("DELETE FROM push_deliveries WHERE id = ?1")?
                    .execute(params![id])?;
                Ok(())
            })
            .await
    }

    async fn retry_delivery(&self, delivery_id: &str, available_at: i64) -> StoreResult<()> {
        let id = delivery_id.to_owned();
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "UPDATE push_deliveries SET available_at = ?2, attempts = attempts + 1 \
                     WHERE id = ?1",
                )?
                .execute(params![id, available_at])?;
                Ok(())
            })
            .await
    }

    /// Looks on a reader first: most reads have nothing showing, and cost
    /// no write. The write looks again (a plan may have come between).
    async fn take_shown(&self, user_id: &str, chat_id: &str, read_seq: i64) -> StoreResult<bool> {
        let showing = sqlx::query(
            "SELECT 1 FROM push_shown WHERE user_id = ?1 AND chat_id = ?2 AND first_seq <= ?3",
        )
        .bind(user_id)
        .bind(chat_id)
        .bind(read_seq)
        .fetch_optional(&self.readers)
        .await
        .db()?;
        if showing.is_none() {
            return Ok(false);
        }
        let (user_id, chat_id) = (user_id.to_owned(), chat_id.to_owned());
        self.writer
            .write_statement(move |conn| {
                let last_seq: Option<i64> = conn
                    .prepare_cached(
                        "SELECT last_seq FROM push_shown \
                         WHERE user_id = ?1 AND chat_id = ?2 AND first_seq <= ?3",
                    )?
                    .query_row(params![user_id, chat_id, read_seq], |row| row.get(0))
                    .optional()?;
                match last_seq {
                    None => return Ok(false),
                    Some(last_seq) if last_seq <= read_seq => conn
                        .prepare_cached(
                            "DELETE FROM push_shown WHERE user_id = ?1 AND chat_id = ?2",
                        )?
                        .execute(params![user_id, chat_id])?,
                    Some(_) => conn
                        .prepare_cached(
                            "UPDATE push_shown SET first_seq = ?3 + 1 \
                             WHERE user_id = ?1 AND chat_id = ?2",
                        )?
                        .execute(params![user_id, chat_id, read_seq])?,
                };
                Ok(true)
            })
            .await
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM push_jobs) AS jobs, \
                 (SELECT count(*) FROM push_deliveries) AS deliveries",
        )
        .fetch_one(&self.readers)
        .await
        .db()?;
        let count = |name: &str| -> StoreResult<u64> {
            let value: i64 = row.try_get(name).db()?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        Ok((count("jobs")?, count("deliveries")?))
    }
}

#[cfg(test)]
mod tests;
