//! [`Users`]: accounts, profile updates, lookups and prefix search.
//! Password hashing and username validation are the caller's; this module
//! stores usernames lower-cased and lets the UNIQUE constraint report
//! taken names.

use crate::PgStore;
use crate::error::Db;
use crate::rows::{self, user_columns};
use async_trait::async_trait;
use natter_store::{NewUser, StoreError, StoreResult, UserRow, Users};

#[async_trait]
impl Users for PgStore {
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
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.username)
        .bind(&row.display_name)
        .bind(&row.password_hash)
        .bind(row.created_at)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(row)
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(rows::user).transpose()
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username.to_lowercase())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(rows::user).transpose()
    }

    /// Case-insensitive as PostgreSQL's `lower()` is; `%` and `_` in the
    /// prefix match literally.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>> {
        let pattern = format!("{}%", escape_like(prefix));
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username LIKE lower($1) OR lower(display_name) LIKE lower($1) \
             ORDER BY username LIMIT $2"
        ))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        let updated = sqlx::query(concat!(
            "UPDATE users SET display_name = coalesce($2, display_name), \
             avatar_file_id = coalesce($3, avatar_file_id) WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id)
        .bind(display_name)
        .bind(avatar_file_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        rows::user(&updated.ok_or(StoreError::NotFound)?)
    }

    async fn set_last_seen(&self, id: &str, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_seen = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }
}

/// Makes `%`, `_` and the escape character itself (`\`, LIKE's default)
/// match literally.
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

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
    }
}
