//! [`Sessions`]: sessions and their refresh tokens (stored as hashes
//! only), with rotation and reuse detection, and sessions as their user
//! sees them: devices, named, last seen, removable. Token generation,
//! hashing and the access tokens themselves are the caller's.
//!
//! A session keeps every refresh token it ever had: one live (`used = 0`)
//! and the dead ones. Presenting a dead one means the token leaked (or a
//! client raced itself), so the whole session is revoked.
//!
//! However a session ends (reuse, logout, removal as a device, a password
//! change ending all the others), its push subscriptions and their queued
//! deliveries are deleted in the same write (see
//! `push::subscriptions::end_session`), and so are its MLS KeyPackages
//! (`key_packages::forget_device`).

use crate::SqliteStore;
use crate::error::Db;
use crate::key_packages::forget_device;
use crate::push::subscriptions::end_session;
use async_trait::async_trait;
use natter_store::{DeviceRow, RefreshOutcome, SessionOwner, Sessions, StoreResult};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?1, ?2, ?3)";

/// The columns [`device`] reads, from `sessions`.
macro_rules! device_columns {
    () => {
        "id, name, created_at, last_seen_at"
    };
}
/// A refresh token and its session, as rotation reads them.
struct Token {
    session_id: String,
    used: bool,
    user_id: String,
    revoked: bool,
    expires_at: i64,
}

#[async_trait]
impl Sessions for SqliteStore {
    async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        device_name: &str,
        refresh_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let (session_id, user_id, name, hash) = (
            session_id.to_owned(),
            user_id.to_owned(),
            device_name.to_owned(),
            refresh_hash.to_owned(),
        );
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                "INSERT INTO sessions (id, user_id, name, created_at, last_seen_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            )?
            .execute(params![session_id, user_id, name, now, expires_at])?;
                conn.prepare_cached(INSERT_REFRESH)?
                    .execute(params![hash, session_id, now])?;
                Ok(())
            })
            .await
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
        let (old_hash, new_hash) = (old_hash.to_owned(), new_hash.to_owned());
        self.writer
        .write(move |conn| {
            let found = conn
                .prepare_cached(
                    "SELECT t.session_id, t.used, s.user_id, s.revoked, s.expires_at \
                     FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?1",
                )?
                .query_row(params![old_hash], |row| {
                    Ok(Token {
                        session_id: row.get("session_id")?,
                        used: row.get("used")?,
                        user_id: row.get("user_id")?,
                        revoked: row.get("revoked")?,
                        expires_at: row.get("expires_at")?,
                    })
                })
                .optional()?;
            let Some(token) = found else {
                return Ok(RefreshOutcome::Invalid);
            };
            if token.used {
                conn.prepare_cached("UPDATE sessions SET revoked = 1 WHERE id = ?1")?
                    .execute(params![token.session_id])?;
                end_session(conn, &token.session_id)?;
                forget_device(conn, &token.session_id)?;
                return Ok(RefreshOutcome::Reused {
                    session_id: token.session_id,
                    user_id: token.user_id,
                });
            }
            if token.revoked || token.expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            conn.prepare_cached("UPDATE refresh_tokens SET used = 1 WHERE hash = ?1")?
                .execute(params![old_hash])?;
            conn.prepare_cached(INSERT_REFRESH)?
                .execute(params![new_hash, token.session_id, now])?;
            conn.prepare_cached(
                "UPDATE sessions SET expires_at = ?2, last_seen_at = max(last_seen_at, ?3) \
                 WHERE id = ?1",
            )?
            .execute(params![token.session_id, expires_at, now])?;
            Ok(RefreshOutcome::Rotated {
                session_id: token.session_id,
                user_id: token.user_id,
            })
        })
        .await
    }

    /// Also ends the session's subscriptions.
    async fn revoke_by_refresh(&self, hash: &str) -> StoreResult<Option<SessionOwner>> {
        let hash = hash.to_owned();
        self.writer
            .write(move |conn| {
                let owner = conn
                    .prepare_cached(
                        "UPDATE sessions SET revoked = 1 \
                         WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = ?1) \
                         RETURNING id, user_id",
                    )?
                    .query_row(params![hash], |row| {
                        Ok(SessionOwner {
                            session_id: row.get("id")?,
                            user_id: row.get("user_id")?,
                        })
                    })
                    .optional()?;
                if let Some(owner) = &owner {
                    end_session(conn, &owner.session_id)?;
                    forget_device(conn, &owner.session_id)?;
                }
                Ok(owner)
            })
            .await
    }

    async fn active_session_user(&self, session_id: &str, now: i64) -> StoreResult<Option<String>> {
        let found = sqlx::query(
            "SELECT user_id FROM sessions WHERE id = ?1 AND revoked = 0 AND expires_at > ?2",
        )
        .bind(session_id)
        .bind(now)
        .fetch_optional(&self.readers)
        .await
        .db()?;
        found.map(|row| row.try_get(0)).transpose().db()
    }

    async fn devices(&self, user_id: &str, now: i64) -> StoreResult<Vec<DeviceRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM sessions WHERE user_id = ?1 AND revoked = 0 AND expires_at > ?2 \
             ORDER BY created_at, id"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.readers)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                Ok(DeviceRow {
                    session_id: row.try_get("id").db()?,
                    name: row.try_get("name").db()?,
                    created_at: row.try_get("created_at").db()?,
                    last_seen_at: row.try_get("last_seen_at").db()?,
                })
            })
            .collect()
    }

    async fn rename_device(
        &self,
        user_id: &str,
        session_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Option<DeviceRow>> {
        let (user_id, session_id, name) =
            (user_id.to_owned(), session_id.to_owned(), name.to_owned());
        self.writer
            .write_statement(move |conn| {
                Ok(conn
                    .prepare_cached(concat!(
                        "UPDATE sessions SET name = ?3 \
                         WHERE id = ?2 AND user_id = ?1 AND revoked = 0 AND expires_at > ?4 \
                         RETURNING ",
                        device_columns!()
                    ))?
                    .query_row(params![user_id, session_id, name, now], device)
                    .optional()?)
            })
            .await
    }

    async fn revoke_device(&self, user_id: &str, session_id: &str, now: i64) -> StoreResult<bool> {
        let (user_id, session_id) = (user_id.to_owned(), session_id.to_owned());
        self.writer
            .write(move |conn| {
                let revoked = conn
                    .prepare_cached(
                        "UPDATE sessions SET revoked = 1 \
                         WHERE id = ?2 AND user_id = ?1 AND revoked = 0 AND expires_at > ?3",
                    )?
                    .execute(params![user_id, session_id, now])?;
                if revoked > 0 {
                    end_session(conn, &session_id)?;
                    forget_device(conn, &session_id)?;
                }
                Ok(revoked > 0)
            })
            .await
    }

    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep_session_id: &str,
    ) -> StoreResult<Vec<String>> {
        let (user_id, keep) = (user_id.to_owned(), keep_session_id.to_owned());
        self.writer
            .write(move |conn| {
                let revoked = conn
                    .prepare_cached(
                        "UPDATE sessions SET revoked = 1 \
                         WHERE user_id = ?1 AND id <> ?2 AND revoked = 0 RETURNING id",
                    )?
                    .query_map(params![user_id, keep], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for session_id in &revoked {
                    end_session(conn, session_id)?;
                    forget_device(conn, session_id)?;
                }
                Ok(revoked)
            })
            .await
    }

    /// Never moves `last_seen_at` back (touches may arrive out of order).
    async fn touch_session(&self, session_id: &str, now: i64) -> StoreResult<()> {
        let session_id = session_id.to_owned();
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2",
                )?
                .execute(params![session_id, now])?;
                Ok(())
            })
            .await
    }
}

fn device(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        session_id: row.get("id")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
        last_seen_at: row.get("last_seen_at")?,
    })
}
