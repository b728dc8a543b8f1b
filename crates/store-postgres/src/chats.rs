//! [`Chats`]: chats and their members: creation (with at most one direct
//! chat per pair), lookups, renaming, joining and leaving, and the reads
//! of real-time sessions (cursors, presence audience). The chat list with
//! unread counts is built by `chat_list`; who may do what is the
//! caller's (except posting, which the append itself checks).
//!
//! Joining and leaving lock the chat row first, as an append batch does:
//! so a member removed (by any node) is either removed before an append
//! batch checks them, or after that batch committed, never in between.

use crate::error::Db;
use crate::rows::{self, chat_columns, member_columns};
use crate::{PgStore, chat_list};
use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};
use natter_store::{
    ChatListRow, ChatProfile, ChatRow, ChatUpdate, Chats, CursorRow, MemberRow, NewChat,
    StoreError, StoreResult,
};
use sqlx::Row;

#[async_trait]
impl Chats for PgStore {
    /// For a direct chat, the insert does nothing if the pair's key exists
    /// (waiting for a concurrent creation of the same pair to commit), and
    /// the existing chat is read back: of several concurrent creations one
    /// creates, the others find its chat.
    async fn create_chat(&self, chat: NewChat) -> StoreResult<(ChatRow, bool)> {
        let mut tx = self.pool.begin().await.db()?;
        let inserted = sqlx::query(
            "INSERT INTO chats (id, type, name, created_by, created_at, last_activity_at, \
             direct_key, member_count, e2ee) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) \
             ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(&chat.id)
        .bind(chat.chat_type.as_str())
        .bind(&chat.name)
        .bind(&chat.created_by)
        .bind(chat.created_at)
        .bind(&chat.direct_key)
        .bind(chat.members.len() as i64)
        .bind(chat.e2ee)
        .execute(&mut *tx)
        .await
        .db()?;
        if inserted.rows_affected() == 0 {
            let existing = sqlx::query(concat!(
                "SELECT ",
                chat_columns!(),
                " FROM chats c WHERE c.direct_key = $1"
            ))
            .bind(&chat.direct_key)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            return Ok((rows::chat(&existing)?, false));
        }
        // All members in one statement, in the order given.
        sqlx::query(
            "INSERT INTO members (chat_id, user_id, role, joined_at) \
             SELECT $1, u.user_id, u.role, $2 \
             FROM UNNEST($3::text[], $4::text[]) WITH ORDINALITY AS u(user_id, role, ord) \
             ORDER BY u.ord",
        )
        .bind(&chat.id)
        .bind(chat.created_at)
        .bind(
            chat.members
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            chat.members
                .iter()
                .map(|(_, role)| role.as_str())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let row = ChatRow {
            id: chat.id,
            chat_type: chat.chat_type,
            name: chat.name,
            created_by: chat.created_by,
            created_at: chat.created_at,
            last_seq: 0,
            last_version: 0,
            last_activity_at: chat.created_at,
            profile: ChatProfile::default(),
            e2ee: chat.e2ee,
            mls_epoch: 0,
        };
        Ok((row, true))
    }

    async fn chat(&self, chat_id: &str) -> StoreResult<Option<ChatRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            chat_columns!(),
            " FROM chats c WHERE c.id = $1"
        ))
        .bind(chat_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(rows::chat).transpose()
    }

    async fn membership(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatRow, MemberRow)>> {
        // The chat's and the member's columns have distinct names, so one
        // row reads as both.
        let found = sqlx::query(concat!(
            "SELECT ",
            chat_columns!(),
            ", ",
            member_columns!(),
            " FROM members mb JOIN chats c ON c.id = mb.chat_id \
             WHERE mb.chat_id = $1 AND mb.user_id = $2"
        ))
        .bind(chat_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found
            .as_ref()
            .map(|row| Ok((rows::chat(row)?, rows::member(row)?)))
            .transpose()
    }

    async fn member(&self, chat_id: &str, user_id: &str) -> StoreResult<Option<MemberRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members mb WHERE mb.chat_id = $1 AND mb.user_id = $2"
        ))
        .bind(chat_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found.as_ref().map(rows::member).transpose()
    }

    /// Oldest first; members who joined at the same time in the order they
    /// were added.
    async fn members(&self, chat_id: &str) -> StoreResult<Vec<MemberRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            member_columns!(),
            " FROM members mb WHERE mb.chat_id = $1 ORDER BY mb.joined_at, mb.added"
        ))
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found.iter().map(rows::member).collect()
    }

    async fn set_member_flags(
        &self,
        chat_id: &str,
        user_id: &str,
        change: natter_store::MemberFlagsChange,
    ) -> StoreResult<Option<natter_store::MemberFlags>> {
        crate::member_flags::set(self, chat_id, user_id, change).await
    }

    async fn update_chat(&self, chat_id: &str, update: &ChatUpdate) -> StoreResult<()> {
        // A field's flag says whether to set it (to the value, which may be
        // NULL) or keep it.
        let updated = sqlx::query(
            "UPDATE chats SET name = coalesce($2, name), \
             topic = CASE WHEN $3 THEN $4 ELSE topic END, \
             description = CASE WHEN $5 THEN $6 ELSE description END, \
             avatar_file_id = CASE WHEN $7 THEN $8 ELSE avatar_file_id END \
             WHERE id = $1",
        )
        .bind(chat_id)
        .bind(&update.name)
        .bind(update.topic.is_some())
        .bind(update.topic.clone().flatten())
        .bind(update.description.is_some())
        .bind(update.description.clone().flatten())
        .bind(update.avatar_file_id.is_some())
        .bind(update.avatar_file_id.clone().flatten())
        .execute(&self.pool)
        .await
        .db()?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The new member's markers start at the chat's `last_seq`, and that is
    /// logged as a read at `now`, so receipts of older messages show when the
    /// member got to see them. `NotFound` if the chat (or user) does not exist.
    async fn add_member(
        &self,
        chat_id: &str,
        user_id: &str,
        role: Role,
        now: i64,
    ) -> StoreResult<MemberRow> {
        let mut tx = self.pool.begin().await.db()?;
        let last_seq: i64 = sqlx::query(
            "UPDATE chats SET member_count = member_count + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(chat_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or(StoreError::NotFound)?
        .try_get(0)
        .db()?;
        sqlx::query(
            "WITH joined AS (\
                 INSERT INTO members (chat_id, user_id, role, joined_at, read_seq, delivered_seq) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING chat_id) \
             INSERT INTO marker_log (chat_id, user_id, kind, seq, at) \
             SELECT chat_id, $2, 'read', $5, $4 FROM joined WHERE $5 > 0",
        )
        .bind(chat_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now)
        .bind(last_seq)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(MemberRow {
            chat_id: chat_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            joined_at: now,
            read_seq: last_seq,
            delivered_seq: last_seq,
        })
    }

    /// The member's marker history stays: should they come back, it still
    /// tells when they saw the messages of their first stay.
    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.db()?;
        let chat = sqlx::query("SELECT id FROM chats WHERE id = $1 FOR UPDATE")
            .bind(chat_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if chat.is_none() {
            return Ok(false);
        }
        let removed = sqlx::query(
            "WITH removed AS (DELETE FROM members WHERE chat_id = $1 AND user_id = $2 RETURNING 1) \
             UPDATE chats SET member_count = member_count - 1 \
             WHERE id = $1 AND EXISTS (SELECT 1 FROM removed)",
        )
        .bind(chat_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(removed.rows_affected() > 0)
    }

    async fn member_role(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatType, Role)>> {
        let found = sqlx::query(
            "SELECT c.type, mb.role FROM members mb JOIN chats c ON c.id = mb.chat_id \
             WHERE mb.chat_id = $1 AND mb.user_id = $2",
        )
        .bind(chat_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(found) = found else {
            return Ok(None);
        };
        let chat_type = rows::chat_type(found.try_get("type").db()?)?;
        let role = rows::role(found.try_get("role").db()?)?;
        Ok(Some((chat_type, role)))
    }

    async fn chats_for_user(&self, user_id: &str) -> StoreResult<Vec<ChatListRow>> {
        chat_list::list(self, user_id, None).await
    }

    async fn chat_for_user(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<ChatListRow>> {
        Ok(chat_list::list(self, user_id, Some(chat_id))
            .await?
            .into_iter()
            .next())
    }

    async fn chat_cursors(&self, user_id: &str) -> StoreResult<Vec<CursorRow>> {
        let rows = sqlx::query(
            "SELECT c.id, c.last_seq, mb.read_seq, c.last_version \
             FROM members mb JOIN chats c ON c.id = mb.chat_id \
             WHERE mb.user_id = $1 ORDER BY c.last_activity_at DESC, c.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(CursorRow {
                    chat_id: row.try_get("id").db()?,
                    last_seq: row.try_get("last_seq").db()?,
                    read_seq: row.try_get("read_seq").db()?,
                    last_version: row.try_get("last_version").db()?,
                })
            })
            .collect()
    }

    async fn co_members(&self, user_id: &str, max_members: u32) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT other.user_id FROM members me \
             JOIN chats c ON c.id = me.chat_id AND c.member_count <= $2 \
             JOIN members other ON other.chat_id = me.chat_id AND other.user_id <> me.user_id \
             WHERE me.user_id = $1",
        )
        .bind(user_id)
        .bind(i64::from(max_members))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|row| row.try_get(0).db()).collect()
    }

    async fn chat_positions(&self, chat_ids: &[String]) -> StoreResult<Vec<(String, i64, i64)>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query("SELECT id, last_seq, last_version FROM chats WHERE id = ANY($1)")
            .bind(chat_ids)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0).db()?,
                    row.try_get(1).db()?,
                    row.try_get(2).db()?,
                ))
            })
            .collect()
    }
}
