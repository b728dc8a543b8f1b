//! [`Users`]: accounts, profile updates, lookups and the people search
//! (username prefixes and prefixes of any display-name word, kept in
//! `user_name_words`, see migration 3).
//! Password hashing and username validation are the caller's; this module
//! stores usernames lower-cased and lets the UNIQUE constraint report
//! taken names.

use crate::PgStore;
use crate::error::Db;
use crate::rows::{self, user_columns};
use async_trait::async_trait;
use natter_store::{NewUser, StoreError, StoreResult, UserRow, Users, name_words, search_prefix};
use sqlx::PgConnection;

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
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(&row.username)
        .bind(&row.display_name)
        .bind(&row.password_hash)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .db()?;
        write_name_words(&mut tx, &row.id, &row.display_name).await?;
        tx.commit().await.db()?;
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

    /// Case-insensitive for all of Unicode (both sides are lower-cased by
    /// Rust); `%` and `_` in the prefix match literally, and each branch
    /// of the union is a `text_pattern_ops` index scan.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<UserRow>> {
        let pattern = format!("{}%", escape_like(&search_prefix(prefix)));
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id IN (\
               SELECT id FROM users WHERE username LIKE $1 \
               UNION SELECT user_id FROM user_name_words WHERE word LIKE $1) \
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
        let renamed = display_name.is_some();
        let mut tx = self.pool.begin().await.db()?;
        let updated = sqlx::query(concat!(
            "UPDATE users SET display_name = coalesce($2, display_name), \
             avatar_file_id = coalesce($3, avatar_file_id) WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id)
        .bind(display_name)
        .bind(avatar_file_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let row = rows::user(&updated.ok_or(StoreError::NotFound)?)?;
        if renamed {
            sqlx::query("DELETE FROM user_name_words WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            write_name_words(&mut tx, id, &row.display_name).await?;
        }
        tx.commit().await.db()?;
        Ok(row)
    }

    async fn set_password_hash(&self, id: &str, password_hash: &str) -> StoreResult<()> {
        let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(&self.pool)
            .await
            .db()?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
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

/// Stores the words the people search finds `display_name` by.
async fn write_name_words(
    tx: &mut PgConnection,
    user_id: &str,
    display_name: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO user_name_words (user_id, word) \
         SELECT $1, word FROM unnest($2::text[]) AS word ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(name_words(display_name))
    .execute(&mut *tx)
    .await
    .db()?;
    Ok(())
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
