//! [`Chats`]: chats and their members: creation (with at most one direct
//! chat per pair), lookups, renaming, joining and leaving, and the reads
//! of real-time sessions (cursors, presence audience). The chat list with
//! unread counts is built by `chat_list`; who may do what is the
//! caller's (except posting, which the append itself checks).

use crate::error::{Db, corrupt};
use crate::rows::{self, chat_columns, member_columns};
use crate::{SqliteStore, chat_list};
use async_trait::async_trait;
use natter_proto::chats::{ChatType, Role};
use natter_store::{
    ChatListRow, ChatProfile, ChatRow, ChatUpdate, Chats, CursorRow, MemberRow, NewChat,
    StoreError, StoreResult,
};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

#[async_trait]
impl Chats for SqliteStore {
    /// The lookup of an existing direct chat runs inside the write job, so two
    /// concurrent creations of the same pair cannot both insert: the second
    /// one to run finds the first one's chat.
    async fn create_chat(&self, chat: NewChat) -> StoreResult<(ChatRow, bool)> {
        let members: Vec<(&str, &str)> = chat
            .members
            .iter()
            .map(|(id, role)| (id.as_str(), role.as_str()))
            .collect();
        let members =
            serde_json::to_string(&members).map_err(|err| corrupt(format!("members: {err}")))?;
        self.writer
        .write(move |conn| {
            if let Some(key) = &chat.direct_key {
                let mut lookup = conn.prepare_cached(concat!(
                    "SELECT ",
                    chat_columns!(),
                    " FROM chats c WHERE c.direct_key = ?1"
                ))?;
                if let Some(existing) = lookup.query(params![key])?.next()? {
                    return Ok((rows::chat(existing)?, false));
                }
            }
            conn.prepare_cached(
                "INSERT INTO chats (id, type, name, created_by, created_at, last_activity_at, direct_key, \
                 e2ee) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            )?
            .execute(params![
                chat.id,
                chat.chat_type.as_str(),
                chat.name,
                chat.created_by,
                chat.created_at,
                chat.direct_key,
                chat.e2ee
            ])?;
            // All members in one statement: `members` is a JSON array of
            // [user_id, role] pairs, inserted in the order given.
            conn.prepare_cached(
                "INSERT INTO members (chat_id, user_id, role, joined_at) \
                 SELECT ?1, value ->> 0, value ->> 1, ?2 FROM json_each(?3) ORDER BY key",
            )?
            .execute(params![chat.id, chat.created_at, members])?;
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
        })
        .await
    }

    async fn chat(&self, chat_id: &str) -> StoreResult<Option<ChatRow>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            chat_columns!(),
            " FROM chats c WHERE c.id = ?1"
        ))
        .bind(chat_id)
        .fetch_optional(&self.readers)
        .await
        .db()?;
        found.as_ref().map(rows::chat).transpose()
    }

    async fn membership(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatRow, MemberRow)>> {
        let found = sqlx::query(concat!(
        "SELECT ",
        chat_columns!(),
        ", ",
        member_columns!(),
        " FROM members mb JOIN chats c ON c.id = mb.chat_id WHERE mb.chat_id = ?1 AND mb.user_id = ?2"
    ))
    .bind(chat_id)
    .bind(user_id)
    .fetch_optional(&self.readers)
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
            " FROM members mb WHERE mb.chat_id = ?1 AND mb.user_id = ?2"
        ))
        .bind(chat_id)
        .bind(user_id)
        .fetch_optional(&self.readers)
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
            " FROM members mb WHERE mb.chat_id = ?1 ORDER BY mb.joined_at, mb.rowid"
        ))
        .bind(chat_id)
        .fetch_all(&self.readers)
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
        let (chat_id, update) = (chat_id.to_owned(), update.clone());
        self.writer
            .write_statement(move |conn| {
                // A field's flag says whether to set it (to the value, which
                // may be NULL) or keep it.
                let updated = conn
                    .prepare_cached(
                        "UPDATE chats SET name = coalesce(?2, name), \
                         topic = CASE WHEN ?3 THEN ?4 ELSE topic END, \
                         description = CASE WHEN ?5 THEN ?6 ELSE description END, \
                         avatar_file_id = CASE WHEN ?7 THEN ?8 ELSE avatar_file_id END \
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        chat_id,
                        update.name,
                        update.topic.is_some(),
                        update.topic.flatten(),
                        update.description.is_some(),
                        update.description.flatten(),
                        update.avatar_file_id.is_some(),
                        update.avatar_file_id.flatten(),
                    ])?;
                if updated == 0 {
                    return Err(StoreError::NotFound.into());
                }
                Ok(())
            })
            .await
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
        let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
        self.writer
        .write(move |conn| {
            let last_seq: i64 = conn
                .prepare_cached("SELECT last_seq FROM chats WHERE id = ?1")?
                .query_row(params![chat_id], |row| row.get(0))
                .optional()?
                .ok_or(StoreError::NotFound)?;
            conn.prepare_cached(
                "INSERT INTO members (chat_id, user_id, role, joined_at, read_seq, delivered_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute(params![chat_id, user_id, role.as_str(), now, last_seq])?;
            if last_seq > 0 {
                conn.prepare_cached(
                    "INSERT INTO marker_log (chat_id, user_id, kind, seq, at) VALUES (?1, ?2, 'read', ?3, ?4)",
                )?
                .execute(params![chat_id, user_id, last_seq, now])?;
            }
            Ok(MemberRow {
                chat_id,
                user_id,
                role,
                joined_at: now,
                read_seq: last_seq,
                delivered_seq: last_seq,
            })
        })
        .await
    }

    /// The member's marker history stays: should they come back, it still
    /// tells when they saw the messages of their first stay.
    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<bool> {
        let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
        self.writer
            .write_statement(move |conn| {
                let removed = conn
                    .prepare_cached("DELETE FROM members WHERE chat_id = ?1 AND user_id = ?2")?
                    .execute(params![chat_id, user_id])?;
                Ok(removed > 0)
            })
            .await
    }

    async fn member_role(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ChatType, Role)>> {
        let found = sqlx::query(
            "SELECT c.type, mb.role FROM members mb JOIN chats c ON c.id = mb.chat_id \
             WHERE mb.chat_id = ?1 AND mb.user_id = ?2",
        )
        .bind(chat_id)
        .bind(user_id)
        .fetch_optional(&self.readers)
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
            "SELECT c.id, c.last_seq, m.read_seq, c.last_version \
         FROM members m JOIN chats c ON c.id = m.chat_id \
         WHERE m.user_id = ?1 ORDER BY c.last_activity_at DESC, c.id",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(CursorRow {
                    chat_id: row.try_get(0).db()?,
                    last_seq: row.try_get(1).db()?,
                    read_seq: row.try_get(2).db()?,
                    last_version: row.try_get(3).db()?,
                })
            })
            .collect()
    }

    async fn co_members(&self, user_id: &str, max_members: u32) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT other.user_id FROM members me \
         JOIN chats c ON c.id = me.chat_id AND c.member_count <= ?2 \
         JOIN members other ON other.chat_id = me.chat_id AND other.user_id <> me.user_id \
         WHERE me.user_id = ?1",
        )
        .bind(user_id)
        .bind(i64::from(max_members))
        .fetch_all(&self.readers)
        .await
        .db()?;
        rows.iter().map(|row| row.try_get(0).db()).collect()
    }

    /// The ids go in as one JSON array (`json_each`), so one statement
    /// serves any number of them, with no limit on bound parameters.
    async fn chat_positions(&self, chat_ids: &[String]) -> StoreResult<Vec<(String, i64, i64)>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids =
            serde_json::to_string(chat_ids).map_err(|err| corrupt(format!("chat ids: {err}")))?;
        let rows = sqlx::query(
            "SELECT id, last_seq, last_version FROM chats \
             WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(ids)
        .fetch_all(&self.readers)
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
