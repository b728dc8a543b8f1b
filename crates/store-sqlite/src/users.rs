//! [`Users`]: accounts, profile updates, lookups and prefix search.
//! Password hashing and username validation are the caller's; this module
//! stores usernames lower-cased and lets the UNIQUE index report taken
//! names.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows::{self, user_columns};
use async_trait::async_trait;
use natter_store::{NewUser, StoreError, StoreResult, UserRow, Users};
use rusqlite::params;

#[async_trait]
impl Users for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<UserRow> {
        let row = UserRow {
            id: user.id,
            username: user.username.to_lowercase(),
            display_name: user.display_name,
            password_hash: user.password_hash,
            avatar_file_id: None,
            created_at: user.created_at,
            last_seen: None,
        };
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO users (id, username, display_name, password_hash, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    row.id,
                    row.username,
                    row.display_name,
                    row.password_hash,
                    row.created_at
                ])?;
                Ok(row)
            })
            .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(&self.readers)
        .await
        .db()?;
        found.as_ref().map(rows::user).transpose()
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = ?1"
        ))
        .bind(username.to_lowercase())
        .fetch_optional(&self.readers)
        .await
        .db()?;
        found.as_ref().map(rows::user).transpose()
    }

    /// Case-insensitive for ASCII letters (SQLite's `LIKE`); other letters
    /// match as typed.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>> {
        let pattern = format!("{}%", escape_like(prefix));
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\' \
             ORDER BY username LIMIT ?2"
        ))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await
        .db()?;
        found.iter().map(rows::user).collect()
    }

    async fn update_user(
        &self,
        id: &str,
        display_name: Option<String>,
        avatar_file_id: Option<String>,
    ) -> StoreResult<UserRow> {
        let id = id.to_owned();
        self.writer
            .write_statement(move |conn| {
                let mut update = conn.prepare_cached(concat!(
                    "UPDATE users SET display_name = coalesce(?2, display_name), \
                     avatar_file_id = coalesce(?3, avatar_file_id) WHERE id = ?1 RETURNING ",
                    user_columns!()
                ))?;
                let mut updated = update.query(params![id, display_name, avatar_file_id])?;
                Ok(rows::user(updated.next()?.ok_or(StoreError::NotFound)?)?)
            })
            .await
    }

    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached("UPDATE users SET last_seen = ?2 WHERE id = ?1")?
                    .execute(params![id, at])?;
                Ok(())
            })
            .await
    }
}

/// Makes `%`, `_` and the escape character itself match literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}
