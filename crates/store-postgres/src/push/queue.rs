//! [`PushQueue`]: the two stages of the durable push queue (jobs, then
//! deliveries), claims under leases, planning a job into its deliveries,
//! and the notifications shown that a read takes back. Jobs are written
//! by the append batch (`appender::pushes`); what to push, and sending
//! it, are the caller's.
//!
//! A claim is one statement: the oldest available rows, locked and
//! skipping any another transaction holds (`FOR UPDATE SKIP LOCKED`),
//! moved to the end of the lease. A row a claim on another node has just
//! moved is re-read by PostgreSQL before it is locked, and no longer
//! available: two nodes never get the same row.

use super::subscriptions::{subscription, subscription_columns};
use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{DeliveryRow, NewDelivery, PushJob, PushQueue, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use std::collections::BTreeSet;

/// `$1` now, `$2` the lease's end, `$3` the most jobs to take.
const CLAIM_JOBS: &str = "
    WITH claimed AS (
        UPDATE push_jobs j SET available_at = $2
        FROM (SELECT message_id, available_at FROM push_jobs
              WHERE available_at <= $1 ORDER BY available_at, message_id LIMIT $3
              FOR UPDATE SKIP LOCKED) AS c
        WHERE j.message_id = c.message_id
        RETURNING j.message_id, j.chat_id, j.seq, j.created_at, c.available_at AS was
    )
    SELECT message_id, chat_id, seq, created_at FROM claimed ORDER BY was, message_id";

/// As [`CLAIM_JOBS`], for deliveries, each joined with its subscription
/// (none if it is gone; `d_*` are the delivery's own columns) and its
/// session's id as `live` if that session is live at `$1` (none if it
/// was revoked or has expired).
const CLAIM_DELIVERIES: &str = concat!(
    "WITH claimed AS (
        UPDATE push_deliveries d SET available_at = $2
        FROM (SELECT id, available_at FROM push_deliveries
              WHERE available_at <= $1 ORDER BY available_at, id LIMIT $3
              FOR UPDATE SKIP LOCKED) AS c
        WHERE d.id = c.id
        RETURNING d.id, d.subscription_id, d.payload, d.topic, d.urgency, d.created_at,
            d.expires_at, d.attempts, c.available_at AS was
    )
    SELECT d.id AS d_id, d.payload, d.topic, d.urgency, d.created_at AS d_created_at,
        d.expires_at, d.attempts, s.id AS live, ",
    subscription_columns!(),
    " FROM claimed d LEFT JOIN push_subscriptions p ON p.id = d.subscription_id
    LEFT JOIN sessions s ON s.id = p.session_id AND NOT s.revoked AND s.expires_at > $1
    ORDER BY d.was, d.id"
);

/// The insert of [`insert_deliveries`], from the arrays `$1..$7`, with
/// `$join` (SQL) after the array's rows `d`.
macro_rules! insert_deliveries_sql {
    ($join:literal) => {
        concat!(
            "INSERT INTO push_deliveries (id, subscription_id, payload, topic, urgency, \
                 created_at, expires_at, available_at) \
             SELECT d.id, d.subscription_id, d.payload, d.topic, d.urgency, d.created_at, \
                 d.expires_at, d.created_at \
             FROM UNNEST($1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], \
                 $6::int8[], $7::int8[]) \
                 AS d(id, subscription_id, payload, topic, urgency, created_at, expires_at)",
            $join
        )
    };
}

/// Which of the deliveries given [`insert_deliveries`] it stores.
#[derive(Clone, Copy)]
enum Stored {
    /// All of them (activation and `read` pushes, which also go to
    /// pending subscriptions).
    All,
    /// Those whose subscription is active as the statement starts (a
    /// message's pushes; see [`PushQueue::plan_job`] for the lock that
    /// keeps it so until the commit).
    ForActive,
}

/// Stores deliveries in one statement, available from when they were
/// made.
async fn insert_deliveries<'e>(
    executor: impl PgExecutor<'e>,
    deliveries: &[NewDelivery],
    stored: Stored,
) -> StoreResult<()> {
    let column = |field: fn(&NewDelivery) -> &str| deliveries.iter().map(field).collect::<Vec<_>>();
    let sql = match stored {
        Stored::All => insert_deliveries_sql!(""),
        Stored::ForActive => insert_deliveries_sql!(
            " JOIN push_subscriptions p ON p.id = d.subscription_id AND p.active"
        ),
    };
    let payloads: Vec<&[u8]> = deliveries.iter().map(|d| &d.payload[..]).collect();
    let topics: Vec<Option<&str>> = deliveries.iter().map(|d| d.topic.as_deref()).collect();
    sqlx::query(sql)
        .bind(column(|d| &d.id))
        .bind(column(|d| &d.subscription_id))
        .bind(payloads)
        .bind(topics)
        .bind(column(|d| &d.urgency))
        .bind(deliveries.iter().map(|d| d.created_at).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.expires_at).collect::<Vec<_>>())
        .execute(executor)
        .await
        .db()?;
    Ok(())
}

fn delivery(row: &PgRow) -> StoreResult<DeliveryRow> {
    let attempts: i64 = row.try_get("attempts").db()?;
    Ok(DeliveryRow {
        id: row.try_get("d_id").db()?,
        subscription: subscription(row)?,
        payload: row.try_get("payload").db()?,
        topic: row.try_get("topic").db()?,
        urgency: row.try_get("urgency").db()?,
        created_at: row.try_get("d_created_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    })
}

#[async_trait]
impl PushQueue for PgStore {
    async fn claim_jobs(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<PushJob>> {
        let claimed = sqlx::query(CLAIM_JOBS)
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .db()?;
        claimed
            .iter()
            .map(|row| {
                Ok(PushJob {
                    message_id: row.try_get("message_id").db()?,
                    chat_id: row.try_get("chat_id").db()?,
                    seq: row.try_get("seq").db()?,
                    created_at: row.try_get("created_at").db()?,
                })
            })
            .collect()
    }

    /// Deleting the job's row comes first: of two nodes planning the same
    /// job, the second waits for the first's row lock, then finds no row
    /// and stores nothing. Then the deliveries' subscriptions are locked
    /// to share (in id order): a subscribe replacing one of them (which
    /// locks it to update) has either committed, and the insert, a
    /// statement of its own, sees it pending and skips it; or waits for
    /// this commit and then deletes what was queued for it. Shown records
    /// are written in user order, so that two plans of one chat never
    /// wait for each other in a cycle.
    async fn plan_job(
        &self,
        job: &PushJob,
        deliveries: &[NewDelivery],
        shown_users: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        let seq: Option<i64> =
            sqlx::query_scalar("DELETE FROM push_jobs WHERE message_id = $1 RETURNING seq")
                .bind(&job.message_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        let Some(seq) = seq else {
            return Ok(());
        };
        if !deliveries.is_empty() {
            let subscriptions: BTreeSet<&str> = deliveries
                .iter()
                .map(|d| d.subscription_id.as_str())
                .collect();
            sqlx::query(
                "SELECT 1 FROM push_subscriptions WHERE id = ANY($1) ORDER BY id FOR SHARE",
            )
            .bind(subscriptions.into_iter().collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .db()?;
            insert_deliveries(&mut *tx, deliveries, Stored::ForActive).await?;
        }
        let users: BTreeSet<&str> = shown_users.iter().map(String::as_str).collect();
        if !users.is_empty() {
            sqlx::query(
                "INSERT INTO push_shown (user_id, chat_id, first_seq, last_seq) \
                 SELECT u.user_id, $2, $3, $3 FROM UNNEST($1::text[]) WITH ORDINALITY AS u(user_id, ord) \
                 ORDER BY u.ord \
                 ON CONFLICT (user_id, chat_id) DO UPDATE \
                 SET first_seq = LEAST(push_shown.first_seq, EXCLUDED.first_seq), \
                     last_seq = GREATEST(push_shown.last_seq, EXCLUDED.last_seq)",
            )
            .bind(users.into_iter().collect::<Vec<_>>())
            .bind(&job.chat_id)
            .bind(seq)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()
    }

    async fn enqueue(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        insert_deliveries(&self.pool, deliveries, Stored::All).await
    }

    /// Deliveries whose subscription is gone (deleted after they were
    /// planned) or whose session is no longer live at `now` are deleted
    /// instead of handed out.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let claimed = sqlx::query(CLAIM_DELIVERIES)
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .db()?;
        let (mut deliveries, mut orphans) = (Vec::new(), Vec::new());
        for row in &claimed {
            match row.try_get::<Option<String>, _>("live").db()? {
                Some(_) => deliveries.push(delivery(row)?),
                None => orphans.push(row.try_get::<String, _>("d_id").db()?),
            }
        }
        if !orphans.is_empty() {
            sqlx::query("DELETE FROM push_deliveries WHERE id = ANY($1)")
                .bind(orphans)
                .execute(&self.pool)
                .await
                .db()?;
        }
        Ok(deliveries)
    }

    async fn finish_delivery(&self, delivery_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM push_deliveries WHERE id = $1")
            .bind(delivery_id)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn retry_delivery(&self, delivery_id: &str, available_at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE push_deliveries SET available_at = $2, attempts = attempts + 1 WHERE id = $1",
        )
        .bind(delivery_id)
        .bind(available_at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    /// Looks first: most reads have nothing showing, and cost no write.
    /// The write is one statement that deletes the record or moves its
    /// start, whichever applies to the row as it is then.
    async fn take_shown(&self, user_id: &str, chat_id: &str, read_seq: i64) -> StoreResult<bool> {
        let showing = sqlx::query(
            "SELECT 1 FROM push_shown WHERE user_id = $1 AND chat_id = $2 AND first_seq <= $3",
        )
        .bind(user_id)
        .bind(chat_id)
        .bind(read_seq)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        if showing.is_none() {
            return Ok(false);
        }
        let taken: i64 = sqlx::query_scalar(
            "WITH gone AS (DELETE FROM push_shown \
                 WHERE user_id = $1 AND chat_id = $2 AND first_seq <= $3 AND last_seq <= $3 \
                 RETURNING 1), \
             moved AS (UPDATE push_shown SET first_seq = $3 + 1 \
                 WHERE user_id = $1 AND chat_id = $2 AND first_seq <= $3 AND last_seq > $3 \
                 RETURNING 1) \
             SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM moved)",
        )
        .bind(user_id)
        .bind(chat_id)
        .bind(read_seq)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(taken > 0)
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM push_jobs) AS jobs, \
                 (SELECT count(*) FROM push_deliveries) AS deliveries",
        )
        .fetch_one(&self.pool)
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
