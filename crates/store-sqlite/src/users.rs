//! [`Users`]: accounts, profile updates, lookups and the people search
//! (username prefixes and prefixes of any display-name word, kept in
//! `user_name_words`, see migration 9). Password hashing and username
//! validation are the caller's; this module stores usernames lower-cased
//! and lets the UNIQUE index report taken names.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows::{self, user_columns};
use async_trait::async_trait;
use natter_store::{NewUser, StoreError, StoreResult, UserRow, Users, name_words, search_prefix};
use rusqlite::{Connection, params};

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
            .write(move |conn| {
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
                write_name_words(conn, &row.id, &row.display_name)?;
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

    /// Case-insensitive for all of Unicode (both sides are lower-cased by
    /// Rust); each branch of the union is a range scan of an index.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>> {
        let low = search_prefix(prefix);
        let high = format!("{low}{}", char::MAX);
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id IN (\
               SELECT id FROM users WHERE username >= ?1 AND username < ?2 \
               UNION SELECT user_id FROM user_name_words WHERE word >= ?1 AND word < ?2) \
             ORDER BY username LIMIT ?3"
        ))
        .bind(low)
        .bind(high)
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
            .write(move |conn| {
                let mut update = conn.prepare_cached(concat!(
                    "UPDATE users SET display_name = coalesce(?2, display_name), \
                     avatar_file_id = coalesce(?3, avatar_file_id) WHERE id = ?1 RETURNING ",
                    user_columns!()
                ))?;
                let mut updated = update.query(params![id, display_name, avatar_file_id])?;
                let row = rows::user(updated.next()?.ok_or(StoreError::NotFound)?)?;
                drop(updated);
                if display_name.is_some() {
                    conn.prepare_cached("DELETE FROM user_name_words WHERE user_id = ?1")?
                        .execute(params![id])?;
                    write_name_words(conn, &id, &row.display_name)?;
                }
                Ok(row)
            })
            .await
    }

    async fn set_password_hash(&self, id: &str, password_hash: &str) -> StoreResult<()> {
        let (id, hash) = (id.to_owned(), password_hash.to_owned());
        self.writer
            .write_statement(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                    .execute(params![id, hash])?;
                if changed == 0 {
                    return Err(StoreError::NotFound.into());
                }
                Ok(())
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

/// Stores the words the people search finds `display_name` by.
pub(crate) fn write_name_words(
    conn: &Connection,
    user_id: &str,
    display_name: &str,
) -> crate::error::Result<()> {
    let mut insert = conn
        .prepare_cached("INSERT OR IGNORE INTO user_name_words (word, user_id) VALUES (?1, ?2)")?;
    for word in name_words(display_name) {
        insert.execute(params![word, user_id])?;
    }
    Ok(())
}
