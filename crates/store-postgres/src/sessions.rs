//! [`Sessions`]: sessions and their refresh tokens (stored as hashes
//! only), with rotation and reuse detection. Token generation, hashing and
//! the access tokens themselves are the caller's.
//!
//! A session keeps every refresh token it ever had: one live (not used)
//! and the dead ones. Presenting a dead one means the token leaked (or a
//! client raced itself), so the whole session is revoked. Rotation locks
//! the token's row, so of two nodes presenting the same live token at
//! once one rotates and the other sees a reuse.

use crate::PgStore;
use crate::error::Db;
use async_trait::async_trait;
use natter_store::{RefreshOutcome, SessionOwner, Sessions, StoreResult};
use sqlx::Row;

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)";

#[async_trait]
impl Sessions for PgStore {
    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(session_id)
        .bind(user_id)
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
    /// the session's expiry moves to `expires_at`. A dead token revokes its
    /// session (even one already revoked or expired: reuse is reported as
    /// such). Anything else is `Invalid` and changes nothing.
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
        sqlx::query("UPDATE sessions SET expires_at = $2 WHERE id = $1")
            .bind(&session_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(RefreshOutcome::Rotated {
            session_id,
            user_id,
        })
    }

    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<SessionOwner>> {
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked = true \
             WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1) \
             RETURNING id, user_id",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        revoked
            .map(|row| {
                Ok(SessionOwner {
                    session_id: row.try_get("id").db()?,
                    user_id: row.try_get("user_id").db()?,
                })
            })
            .transpose()
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
}
