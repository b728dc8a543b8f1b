//! Chats and their members: creation (with at most one direct chat per
//! pair), lookups, renaming, joining and leaving. The chat list with
//! unread counts is in `chat_list`; who may do what is the caller's.

use super::SqliteStore;
use super::error::corrupt;
use super::rows::{self, chat_columns, member_columns};
use crate::store::{ChatRow, MemberRow, NewChat, StoreError, StoreResult};
use natter_proto::chats::Role;
use rusqlite::{OptionalExtension, params};

/// The lookup of an existing direct chat runs inside the write job, so two
/// concurrent creations of the same pair cannot both insert: the second
/// one to run finds the first one's chat.
pub(super) async fn create_chat(db: &SqliteStore, chat: NewChat) -> StoreResult<(ChatRow, bool)> {
    let members: Vec<(&str, &str)> = chat
        .members
        .iter()
        .map(|(id, role)| (id.as_str(), role.as_str()))
        .collect();
    let members =
        serde_json::to_string(&members).map_err(|err| corrupt(format!("members: {err}")))?;
    db.writer
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
                "INSERT INTO chats (id, type, name, created_by, created_at, last_activity_at, direct_key) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            )?
            .execute(params![
                chat.id,
                chat.chat_type.as_str(),
                chat.name,
                chat.created_by,
                chat.created_at,
                chat.direct_key
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
                last_activity_at: chat.created_at,
            };
            Ok((row, true))
        })
        .await
}

pub(super) async fn chat(db: &SqliteStore, chat_id: &str) -> StoreResult<Option<ChatRow>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        chat_columns!(),
        " FROM chats c WHERE c.id = ?1"
    ))
    .bind(chat_id)
    .fetch_optional(&db.readers)
    .await?;
    found.as_ref().map(rows::chat).transpose()
}

pub(super) async fn membership(
    db: &SqliteStore,
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
    .fetch_optional(&db.readers)
    .await?;
    found
        .as_ref()
        .map(|row| Ok((rows::chat(row)?, rows::member(row)?)))
        .transpose()
}

pub(super) async fn member(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
) -> StoreResult<Option<MemberRow>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members mb WHERE mb.chat_id = ?1 AND mb.user_id = ?2"
    ))
    .bind(chat_id)
    .bind(user_id)
    .fetch_optional(&db.readers)
    .await?;
    found.as_ref().map(rows::member).transpose()
}

/// Oldest first; members who joined at the same time in the order they
/// were added.
pub(super) async fn members(db: &SqliteStore, chat_id: &str) -> StoreResult<Vec<MemberRow>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        member_columns!(),
        " FROM members mb WHERE mb.chat_id = ?1 ORDER BY mb.joined_at, mb.rowid"
    ))
    .bind(chat_id)
    .fetch_all(&db.readers)
    .await?;
    found.iter().map(rows::member).collect()
}

/// `NotFound` if there is no such chat.
pub(super) async fn rename_chat(db: &SqliteStore, chat_id: &str, name: &str) -> StoreResult<()> {
    let (chat_id, name) = (chat_id.to_owned(), name.to_owned());
    db.writer
        .write_statement(move |conn| {
            let renamed = conn
                .prepare_cached("UPDATE chats SET name = ?2 WHERE id = ?1")?
                .execute(params![chat_id, name])?;
            if renamed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
}

/// The new member's markers start at the chat's `last_seq`, and that is
/// logged as a read at `now`, so receipts of older messages show when the
/// member got to see them. `NotFound` if the chat (or user) does not exist.
pub(super) async fn add_member(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> StoreResult<MemberRow> {
    let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
    db.writer
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
pub(super) async fn remove_member(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
    db.writer
        .write_statement({
            let (chat_id, user_id) = (chat_id.clone(), user_id.clone());
            move |conn| {
                let removed = conn
                    .prepare_cached("DELETE FROM members WHERE chat_id = ?1 AND user_id = ?2")?
                    .execute(params![chat_id, user_id])?;
                Ok(removed > 0)
            }
        })
        .await
        .inspect(|_| db.roles.forget(&chat_id, &user_id))
}
