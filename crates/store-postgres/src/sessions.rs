//! [`Sessions`]: sessions and their refresh tokens (stored as hashes
//! only), with rotation and reuse detection, and sessions as their user
//! sees them: devices, named, last seen, removable. Token generation,
//! hashing and the access tokens themselves are the caller's.
//!
//! A session keeps every refresh token it ever had: one live (not used)
//! and the dead ones. Presenting a dead one means the token leaked (or a
//! client raced itself), so the whole session is revoked. Rotation locks
//! the token's row, so of two nodes presenting the same live token at
//! once one rotates and the other sees a reuse.
//!
//! However a session ends (reuse, logout, removal as a device, a password
//! change ending all the others), its push subscriptions and their queued
//! deliveries are deleted in the same transaction (see
//! `push::subscriptions::end_session`), and so are its MLS KeyPackages
//! (`key_packages::forget_device`); the session's row lock, taken by
//! the update that ends it, orders this with a subscribe on the same
//! device (which locks it to share).

use crate::PgStore;
use crate::error::Db;
use crate::key_packages::forget_device;
use crate::push::subscriptions::end_session;
use async_trait::async_trait;
use natter_store::{DeviceRow, RefreshOutcome, SessionOwner, Sessions, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The columns [`device`] reads, from `sessions`.
macro_rules! device_columns {
    () => {
        "id, name, created_at, last_seen_at"
    };
}

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)";

#[async_trait]
impl Sessions for PgStore {
    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        device_name: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, name, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(device_name)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(INSERT_REFRESH)
            .bind(refresh_hash)
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    /// A live token of a live session is retired, `new_hash` becomes live and
    /// the session's expiry moves to `expires_at` (and its last use to
    /// `now`). A dead token revokes its session (even one already revoked
    /// or expired: reuse is reported as such) and ends its subscriptions.
    /// Anything else is `Invalid` and changes nothing.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<RefreshOutcome> {
        let mut tx = self.pool.begin().await.db()?;
        let found = sqlx::query(
            "SELECT t.session_id, t.used, s.user_id, s.revoked, s.expires_at \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.hash = $1 FOR UPDATE OF t",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(token) = found else {
            return Ok(RefreshOutcome::Invalid);
        };
        let session_id: String = token.try_get("session_id").db()?;
        let user_id: String = token.try_get("user_id").db()?;
        if token.try_get::<bool, _>("used").db()? {
            sqlx::query("UPDATE sessions SET revoked = true WHERE id = $1")
                .bind(&session_id)
                .execute(&mut *tx)
                .await
                .db()?;
            end_session(&mut tx, &session_id).await?;
            forget_device(&mut tx, &session_id).await?;
            tx.commit().await.db()?;
            return Ok(RefreshOutcome::Reused {
                session_id,
                user_id,
            });
        }
        let revoked: bool = token.try_get("revoked").db()?;
        let expires: i64 = token.try_get("expires_at").db()?;
        if revoked || expires <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        sqlx::query("UPDATE refresh_tokens SET used = true WHERE hash = $1")
            .bind(old_hash)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(INSERT_REFRESH)
            .bind(new_hash)
            .bind(&session_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(
            "UPDATE sessions SET expires_at = $2, last_seen_at = GREATEST(last_seen_at, $3) \
             WHERE id = $1",
        )
        .bind(&session_id)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(RefreshOutcome::Rotated {
            session_id,
            user_id,
        })
    }

    /// Also ends the session's subscriptions.
    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<SessionOwner>> {
        let mut tx = self.pool.begin().await.db()?;
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked = true \
             WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1) \
             RETURNING id, user_id",
        )
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(revoked) = revoked else {
            return Ok(None);
        };
        let owner = SessionOwner {
            session_id: revoked.try_get("id").db()?,
            user_id: revoked.try_get("user_id").db()?,
        };
        end_session(&mut tx, &owner.session_id).await?;
        forget_device(&mut tx, &owner.session_id).await?;
        tx.commit().await.db()?;
        Ok(Some(owner))
    }

    async fn active_session_user(&self, session_id: &str, now: i64) -> StoreResult<Option<String>> {
        let found = sqlx::query(
            "SELECT user_id FROM sessions WHERE id = $1 AND NOT revoked AND expires_at > $2",
        )
        .bind(session_id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.map(|row| row.try_get(0)).transpose().db()
    }

    async fn devices(&self, user_id: &str, now: i64) -> StoreResult<Vec<DeviceRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM sessions WHERE user_id = $1 AND NOT revoked AND expires_at > $2 \
             ORDER BY created_at, id"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found.iter().map(device).collect()
    }

    async fn rename_device(
        &self,
        user_id: &str,
        session_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Option<DeviceRow>> {
        let renamed = sqlx::query(concat!(
            "UPDATE sessions SET name = $3 \
             WHERE id = $2 AND user_id = $1 AND NOT revoked AND expires_at > $4 RETURNING ",
            device_columns!()
        ))
        .bind(user_id)
        .bind(session_id)
        .bind(name)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        renamed.as_ref().map(device).transpose()
    }

    async fn revoke_device(&self, user_id: &str, session_id: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.db()?;
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked = true \
             WHERE id = $2 AND user_id = $1 AND NOT revoked AND expires_at > $3",
        )
        .bind(user_id)
        .bind(session_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if revoked == 0 {
            return Ok(false);
        }
        end_session(&mut tx, session_id).await?;
        forget_device(&mut tx, session_id).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep_session_id: &str,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await.db()?;
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked = true \
             WHERE user_id = $1 AND id <> $2 AND NOT revoked RETURNING id, created_at",
        )
        .bind(user_id)
        .bind(keep_session_id)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let mut ended = revoked
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("created_at").db()?,
                    row.try_get("id").db()?,
                ))
            })
            .collect::<StoreResult<Vec<(i64, String)>>>()?;
        // A claim locks the devices' KeyPackages in this order too (see
        // `key_packages`): the same order, so the two cannot deadlock.
        ended.sort();
        let mut ids = Vec::with_capacity(ended.len());
        for (_, session_id) in ended {
            end_session(&mut tx, &session_id).await?;
            forget_device(&mut tx, &session_id).await?;
            ids.push(session_id);
        }
        tx.commit().await.db()?;
        Ok(ids)
    }

    /// Never moves `last_seen_at` back (touches may arrive out of order).
    async fn touch_session(&self, session_id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(session_id)
            .bind(now)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }
}

fn device(row: &PgRow) -> StoreResult<DeviceRow> {
    Ok(DeviceRow {
        session_id: row.try_get("id").db()?,
        name: row.try_get("name").db()?,
        created_at: row.try_get("created_at").db()?,
        last_seen_at: row.try_get("last_seen_at").db()?,
    })
}
