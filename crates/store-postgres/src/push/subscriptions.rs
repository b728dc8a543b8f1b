//! [`PushSubscriptions`]: devices' Web Push subscriptions, keyed by
//! endpoint, pending until activated, and deleted with their queued
//! deliveries when unsubscribed, dropped by the push service, or when
//! their session ends ([`end_session`], for `sessions`). Validating
//! endpoints and keys, and making activation tokens, are the caller's.
//!
//! A subscription counts only while its session is live (not revoked,
//! not expired): reads join the session and check. A subscribe locks its
//! session to share, and whatever ends a session locks it to update, so
//! a subscription is never stored for a device ended meanwhile.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{
    Activation, NewSubscription, PushSubscriptions, StoreError, StoreResult, Subscribed,
    SubscriptionRow,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// The columns [`subscription`] reads, from `push_subscriptions` aliased
/// `p`.
macro_rules! subscription_columns {
    () => {
        "p.id, p.user_id, p.session_id, p.endpoint, p.p256dh, p.auth, p.active, p.created_at"
    };
}
pub(crate) use subscription_columns;

/// How often a subscribe looks its endpoint up again after losing the
/// race to insert it (once is enough: the winner has committed by then).
const ATTEMPTS: usize = 3;

/// Reads [`subscription_columns`].
pub(crate) fn subscription(row: &PgRow) -> StoreResult<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: row.try_get("id").db()?,
        user_id: row.try_get("user_id").db()?,
        session_id: row.try_get("session_id").db()?,
        endpoint: row.try_get("endpoint").db()?,
        p256dh: row.try_get("p256dh").db()?,
        auth: row.try_get("auth").db()?,
        active: row.try_get("active").db()?,
        created_at: row.try_get("created_at").db()?,
    })
}

/// Deletes the subscriptions of a session that ended, with their queued
/// deliveries; run in the transaction that ends it.
pub(crate) async fn end_session(tx: &mut PgConnection, session_id: &str) -> StoreResult<()> {
    sqlx::query(
        "WITH gone AS (DELETE FROM push_subscriptions WHERE session_id = $1 RETURNING id) \
         DELETE FROM push_deliveries d USING gone WHERE d.subscription_id = gone.id",
    )
    .bind(session_id)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}

impl PgStore {
    /// Deletes a subscription and its queued deliveries, in one
    /// statement; false if there was no such subscription (of `user_id`,
    /// when given).
    async fn delete_subscription(&self, id: &str, user_id: Option<&str>) -> StoreResult<bool> {
        let deleted: i64 = sqlx::query_scalar(
            "WITH gone AS (DELETE FROM push_subscriptions \
                 WHERE id = $1 AND ($2::text IS NULL OR user_id = $2) RETURNING id), \
             undelivered AS (DELETE FROM push_deliveries d USING gone \
                 WHERE d.subscription_id = gone.id) \
             SELECT count(*) FROM gone",
        )
        .bind(id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(deleted > 0)
    }
}

#[async_trait]
impl PushSubscriptions for PgStore {
    /// `NotFound` unless the device is a live session of the user. A
    /// replaced subscription loses what was queued for it: that was
    /// encrypted for its old keys, or meant for its old owner.
    async fn subscribe(&self, new: NewSubscription) -> StoreResult<Subscribed> {
        let mut tx = self.pool.begin().await.db()?;
        let live = sqlx::query(
            "SELECT 1 FROM sessions \
             WHERE id = $1 AND user_id = $2 AND NOT revoked AND expires_at > $3 FOR SHARE",
        )
        .bind(&new.session_id)
        .bind(&new.user_id)
        .bind(new.created_at)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        for _ in 0..ATTEMPTS {
            let known = sqlx::query(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM push_subscriptions p WHERE p.endpoint = $1 FOR UPDATE"
            ))
            .bind(&new.endpoint)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let subscribed = match known.as_ref().map(subscription).transpose()? {
                None => {
                    if !insert(&mut tx, &new).await? {
                        // Another subscribe inserted it meanwhile: look again.
                        continue;
                    }
                    Subscribed::Created(SubscriptionRow::created(&new))
                }
                Some(known) if known.same_as(&new) => Subscribed::Unchanged(known),
                Some(known) => {
                    replace(&mut tx, &known.id, &new).await?;
                    Subscribed::Replaced(known.replaced_by(&new))
                }
            };
            tx.commit().await.db()?;
            return Ok(subscribed);
        }
        Err(StoreError::backend(
            "a subscription's endpoint kept appearing and disappearing",
        ))
    }

    async fn subscriptions_of(&self, user_id: &str, now: i64) -> StoreResult<Vec<SubscriptionRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id \
             WHERE p.user_id = $1 AND NOT s.revoked AND s.expires_at > $2 \
             ORDER BY p.created_at, p.id"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found.iter().map(subscription).collect()
    }

    async fn unsubscribe(&self, user_id: &str, subscription_id: &str) -> StoreResult<bool> {
        self.delete_subscription(subscription_id, Some(user_id))
            .await
    }

    /// The hash stays stored once active, so that activating again with
    /// the same token is still `Activated`. The row is locked meanwhile:
    /// a subscribe replacing its token waits.
    async fn activate(
        &self,
        user_id: &str,
        subscription_id: &str,
        activation_hash: &str,
        now: i64,
    ) -> StoreResult<Activation> {
        let mut tx = self.pool.begin().await.db()?;
        let found = sqlx::query(
            "SELECT p.activation_hash, p.active FROM push_subscriptions p \
             JOIN sessions s ON s.id = p.session_id \
             WHERE p.id = $1 AND p.user_id = $2 AND NOT s.revoked AND s.expires_at > $3 \
             FOR UPDATE OF p",
        )
        .bind(subscription_id)
        .bind(user_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(found) = found else {
            return Ok(Activation::NotFound);
        };
        let stored: String = found.try_get("activation_hash").db()?;
        if stored != activation_hash {
            return Ok(Activation::WrongToken);
        }
        if !found.try_get::<bool, _>("active").db()? {
            sqlx::query("UPDATE push_subscriptions SET active = true WHERE id = $1")
                .bind(subscription_id)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(Activation::Activated)
    }

    async fn push_targets(
        &self,
        user_ids: &[String],
        now: i64,
    ) -> StoreResult<Vec<SubscriptionRow>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = sqlx::query(concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id \
             WHERE p.user_id = ANY($1) AND p.active AND NOT s.revoked AND s.expires_at > $2 \
             ORDER BY p.user_id, p.created_at, p.id"
        ))
        .bind(user_ids)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found.iter().map(subscription).collect()
    }

    async fn drop_subscription(&self, subscription_id: &str) -> StoreResult<()> {
        self.delete_subscription(subscription_id, None).await?;
        Ok(())
    }
}

/// Inserts `new` unless its endpoint is taken (waiting for a concurrent
/// insert of it to commit or roll back); true if it did.
async fn insert(tx: &mut PgConnection, new: &NewSubscription) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO push_subscriptions (id, user_id, session_id, endpoint, p256dh, auth, \
             activation_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (endpoint) DO NOTHING",
    )
    .bind(&new.id)
    .bind(&new.user_id)
    .bind(&new.session_id)
    .bind(&new.endpoint)
    .bind(&new.p256dh)
    .bind(&new.auth)
    .bind(&new.activation_hash)
    .bind(new.created_at)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(inserted.rows_affected() > 0)
}

/// Gives the subscription `id` the values of `new`, pending, and drops
/// what was queued for it.
async fn replace(tx: &mut PgConnection, id: &str, new: &NewSubscription) -> StoreResult<()> {
    sqlx::query(
        "WITH replaced AS (UPDATE push_subscriptions SET user_id = $2, session_id = $3, \
                 p256dh = $4, auth = $5, activation_hash = $6, active = false WHERE id = $1) \
         DELETE FROM push_deliveries WHERE subscription_id = $1",
    )
    .bind(id)
    .bind(&new.user_id)
    .bind(&new.session_id)
    .bind(&new.p256dh)
    .bind(&new.auth)
    .bind(&new.activation_hash)
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
}
