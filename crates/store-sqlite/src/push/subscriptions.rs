//! [`PushSubscriptions`]: devices' Web Push subscriptions, keyed by
//! endpoint, pending until activated, and deleted with their queued
//! deliveries when unsubscribed, dropped by the push service, or when
//! their session ends ([`end_session`], for `sessions`). Validating
//! endpoints and keys, and making activation tokens, are the caller's.
//!
//! A subscription counts only while its session is live (not revoked,
//! not expired): reads join the session and check.

use super::json_ids;
use crate::SqliteStore;
use crate::error::{self, Db};
use crate::rows::Columns;
use async_trait::async_trait;
use natter_store::{
    Activation, NewSubscription, PushSubscriptions, StoreError, StoreResult, Subscribed,
    SubscriptionRow,
};
use rusqlite::{Connection, OptionalExtension, params};

/// The columns [`subscription`] reads, from `push_subscriptions` aliased
/// `p`.
macro_rules! subscription_columns {
    () => {
        "p.id, p.user_id, p.session_id, p.endpoint, p.p256dh, p.auth, p.active, p.created_at"
    };
}
pub(crate) use subscription_columns;

/// Reads [`subscription_columns`].
pub(crate) fn subscription(row: &impl Columns) -> StoreResult<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        session_id: row.text("session_id")?,
        endpoint: row.text("endpoint")?,
        p256dh: row.text("p256dh")?,
        auth: row.text("auth")?,
        active: row.flag("active")?,
        created_at: row.int("created_at")?,
    })
}

/// Deletes the subscriptions of a session that ended, with their queued
/// deliveries; run inside the write job that ends it.
pub(crate) fn end_session(conn: &Connection, session_id: &str) -> error::Result<()> {
    conn.prepare_cached(
        "DELETE FROM push_deliveries WHERE subscription_id IN \
         (SELECT id FROM push_subscriptions WHERE session_id = ?1)",
    )?
    .execute(params![session_id])?;
    conn.prepare_cached("DELETE FROM push_subscriptions WHERE session_id = ?1")?
        .execute(params![session_id])?;
    Ok(())
}

/// Deletes a subscription and its queued deliveries; false if there was
/// no such subscription (of `user_id`, when given), and then nothing is
/// deleted: the id may be another user's, whose deliveries stay.
fn delete(conn: &Connection, id: &str, user_id: Option<&str>) -> error::Result<bool> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM push_subscriptions WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
        )?
        .execute(params![id, user_id])?;
    if deleted == 0 {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM push_deliveries WHERE subscription_id = ?1")?
        .execute(params![id])?;
    Ok(true)
}

#[async_trait]
impl PushSubscriptions for SqliteStore {
    /// `NotFound` unless the device is a live session of the user. A
    /// replaced subscription loses what was queued for it: that was
    /// encrypted for its old keys, or meant for its old owner.
    async fn subscribe(&self, new: NewSubscription) -> StoreResult<Subscribed> {
        self.writer
            .write(move |conn| {
                let live: bool = conn
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM sessions \
                         WHERE id = ?1 AND user_id = ?2 AND revoked = 0 AND expires_at > ?3)",
                    )?
                    .query_row(
                        params![new.session_id, new.user_id, new.created_at],
                        |row| row.get(0),
                    )?;
                if !live {
                    return Err(StoreError::NotFound.into());
                }
                let mut lookup = conn.prepare_cached(concat!(
                    "SELECT ",
                    subscription_columns!(),
                    " FROM push_subscriptions p WHERE p.endpoint = ?1"
                ))?;
                let mut found = lookup.query(params![new.endpoint])?;
                let known = found.next()?.map(subscription).transpose()?;
                drop(found);
                let Some(known) = known else {
                    conn.prepare_cached(
                        "INSERT INTO push_subscriptions (id, user_id, session_id, endpoint, \
                         p256dh, auth, activation_hash, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(params![
                        new.id,
                        new.user_id,
                        new.session_id,
                        new.endpoint,
                        new.p256dh,
                        new.auth,
                        new.activation_hash,
                        new.created_at
                    ])?;
                    return Ok(Subscribed::Created(SubscriptionRow::created(&new)));
                };
                if known.same_as(&new) {
                    return Ok(Subscribed::Unchanged(known));
                }
                conn.prepare_cached(
                    "UPDATE push_subscriptions SET user_id = ?2, session_id = ?3, p256dh = ?4, \
                     auth = ?5, activation_hash = ?6, active = 0 WHERE id = ?1",
                )?
                .execute(params![
                    known.id,
                    new.user_id,
                    new.session_id,
                    new.p256dh,
                    new.auth,
                    new.activation_hash
                ])?;
                conn.prepare_cached("DELETE FROM push_deliveries WHERE subscription_id = ?1")?
                    .execute(params![known.id])?;
                Ok(Subscribed::Replaced(known.replaced_by(&new)))
            })
            .await
    }

    async fn subscriptions_of(&self, user_id: &str, now: i64) -> StoreResult<Vec<SubscriptionRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id \
             WHERE p.user_id = ?1 AND s.revoked = 0 AND s.expires_at > ?2 \
             ORDER BY p.created_at, p.id"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.readers)
        .await
        .db()?;
        found.iter().map(subscription).collect()
    }

    async fn unsubscribe(&self, user_id: &str, subscription_id: &str) -> StoreResult<bool> {
        let (user_id, id) = (user_id.to_owned(), subscription_id.to_owned());
        self.writer
            .write(move |conn| delete(conn, &id, Some(&user_id)))
            .await
    }

    /// The hash stays stored once active, so that activating again with
    /// the same token is still `Activated`.
    async fn activate(
        &self,
        user_id: &str,
        subscription_id: &str,
        activation_hash: &str,
        now: i64,
    ) -> StoreResult<Activation> {
        let (user_id, id, hash) = (
            user_id.to_owned(),
            subscription_id.to_owned(),
            activation_hash.to_owned(),
        );
        self.writer
            .write_statement(move |conn| {
                let found: Option<(String, bool)> = conn
                    .prepare_cached(
                        "SELECT p.activation_hash, p.active FROM push_subscriptions p \
                         JOIN sessions s ON s.id = p.session_id \
                         WHERE p.id = ?1 AND p.user_id = ?2 AND s.revoked = 0 \
                           AND s.expires_at > ?3",
                    )?
                    .query_row(params![id, user_id, now], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                let Some((stored, active)) = found else {
                    return Ok(Activation::NotFound);
                };
                if stored != hash {
                    return Ok(Activation::WrongToken);
                }
                if !active {
                    conn.prepare_cached("UPDATE push_subscriptions SET active = 1 WHERE id = ?1")?
                        .execute(params![id])?;
                }
                Ok(Activation::Activated)
            })
            .await
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
             WHERE p.user_id IN (SELECT value FROM json_each(?1)) AND p.active = 1 \
               AND s.revoked = 0 AND s.expires_at > ?2 \
             ORDER BY p.user_id, p.created_at, p.id"
        ))
        .bind(json_ids(user_ids)?)
        .bind(now)
        .fetch_all(&self.readers)
        .await
        .db()?;
        found.iter().map(subscription).collect()
    }

    async fn drop_subscription(&self, subscription_id: &str) -> StoreResult<()> {
        let id = subscription_id.to_owned();
        self.writer
            .write(move |conn| delete(conn, &id, None).map(|_| ()))
            .await
    }
}
