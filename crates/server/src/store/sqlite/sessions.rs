//! Sessions and their refresh tokens (stored as hashes only), with
//! rotation and reuse detection. Token generation, hashing and the access
//! tokens themselves are the caller's.
//!
//! A session keeps every refresh token it ever had: one live (`used = 0`)
//! and the dead ones. Presenting a dead one means the token leaked (or a
//! client raced itself), so the whole session is revoked.

use super::SqliteStore;
use crate::store::{RefreshOutcome, StoreResult};
use sqlx::Row;

pub(super) async fn create_session(
    db: &SqliteStore,
    session_id: &str,
    user_id: &str,
    refresh_hash: &str,
    now: i64,
    expires_at: i64,
) -> StoreResult<()> {
    let (session_id, user_id, hash) = (
        session_id.to_owned(),
        user_id.to_owned(),
        refresh_hash.to_owned(),
    );
    db.writer
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(&session_id)
                .bind(&user_id)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *conn)
                .await?;
                sqlx::query("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?1, ?2, ?3)")
                    .bind(&hash)
                    .bind(&session_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
}

/// A live token of a live session is retired, `new_hash` becomes live and
/// the session's expiry moves to `expires_at`. A dead token revokes its
/// session (even one already revoked or expired: reuse is reported as
/// such). Anything else is `Invalid` and changes nothing.
pub(super) async fn rotate_refresh(
    db: &SqliteStore,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    expires_at: i64,
) -> StoreResult<RefreshOutcome> {
    let (old_hash, new_hash) = (old_hash.to_owned(), new_hash.to_owned());
    db.writer
        .write(move |conn| {
            Box::pin(async move {
                let found = sqlx::query(
                    "SELECT t.session_id, t.used, s.user_id, s.revoked, s.expires_at \
                     FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?1",
                )
                .bind(&old_hash)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(found) = found else {
                    return Ok(RefreshOutcome::Invalid);
                };
                let session_id: String = found.try_get("session_id")?;
                if found.try_get::<bool, _>("used")? {
                    sqlx::query("UPDATE sessions SET revoked = 1 WHERE id = ?1")
                        .bind(&session_id)
                        .execute(&mut *conn)
                        .await?;
                    return Ok(RefreshOutcome::Reused { session_id });
                }
                if found.try_get::<bool, _>("revoked")? || found.try_get::<i64, _>("expires_at")? <= now {
                    return Ok(RefreshOutcome::Invalid);
                }
                sqlx::query("UPDATE refresh_tokens SET used = 1 WHERE hash = ?1")
                    .bind(&old_hash)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?1, ?2, ?3)")
                    .bind(&new_hash)
                    .bind(&session_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE sessions SET expires_at = ?2 WHERE id = ?1")
                    .bind(&session_id)
                    .bind(expires_at)
                    .execute(&mut *conn)
                    .await?;
                let user_id = found.try_get("user_id")?;
                Ok(RefreshOutcome::Rotated { session_id, user_id })
            })
        })
        .await
}

pub(super) async fn revoke_by_refresh(db: &SqliteStore, hash: &str) -> StoreResult<Option<String>> {
    let hash = hash.to_owned();
    db.writer
        .write_statement(move |conn| {
            Box::pin(async move {
                let revoked = sqlx::query(
                    "UPDATE sessions SET revoked = 1 \
                     WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = ?1) RETURNING id",
                )
                .bind(&hash)
                .fetch_optional(conn)
                .await?;
                Ok(revoked.map(|row| row.try_get("id")).transpose()?)
            })
        })
        .await
}

pub(super) async fn session_active(
    db: &SqliteStore,
    session_id: &str,
    now: i64,
) -> StoreResult<bool> {
    let found =
        sqlx::query("SELECT 1 FROM sessions WHERE id = ?1 AND revoked = 0 AND expires_at > ?2")
            .bind(session_id)
            .bind(now)
            .fetch_optional(&db.readers)
            .await?;
    Ok(found.is_some())
}
