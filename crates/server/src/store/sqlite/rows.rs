//! Reading rows back into the store's row types, and the column lists the
//! queries select so that every query returns what these readers expect.
//! Columns are read by name; enumerations and metadata are parsed, and a
//! value that does not parse is an error, never a panic.

use super::error::corrupt;
use crate::store::{ChatRow, MemberRow, MessageRow, StoreResult, UserRow};
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// The columns [`user`] reads, from `users` (no alias).
macro_rules! user_columns {
    () => {
        "id, username, display_name, password_hash, avatar_file_id, created_at, last_seen"
    };
}

/// The columns [`chat`] reads, from `chats` aliased `c`.
macro_rules! chat_columns {
    () => {
        "c.id, c.type, c.name, c.created_by, c.created_at, c.last_seq, c.last_activity_at"
    };
}

/// The columns [`member`] reads, from `members` aliased `mb`.
macro_rules! member_columns {
    () => {
        "mb.chat_id, mb.user_id, mb.role, mb.joined_at, mb.read_seq, mb.delivered_seq"
    };
}

/// The columns [`message`] reads, from `messages` aliased `m`.
macro_rules! message_columns {
    () => {
        "m.id, m.chat_id, m.seq, m.sender_id, m.type, m.content, m.file_id, m.metadata, \
         m.client_msg_id, m.created_at, m.edited_at, m.deleted"
    };
}

/// The same columns unqualified, for `RETURNING` (which takes no alias).
macro_rules! message_returning {
    () => {
        "id, chat_id, seq, sender_id, type, content, file_id, metadata, client_msg_id, \
         created_at, edited_at, deleted"
    };
}

pub(super) use {chat_columns, member_columns, message_columns, message_returning, user_columns};

pub(super) fn user(row: &SqliteRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        avatar_file_id: row.try_get("avatar_file_id")?,
        created_at: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen")?,
    })
}

pub(super) fn chat(row: &SqliteRow) -> StoreResult<ChatRow> {
    Ok(ChatRow {
        id: row.try_get("id")?,
        chat_type: chat_type(row.try_get("type")?)?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_seq: row.try_get("last_seq")?,
        last_activity_at: row.try_get("last_activity_at")?,
    })
}

pub(super) fn member(row: &SqliteRow) -> StoreResult<MemberRow> {
    Ok(MemberRow {
        chat_id: row.try_get("chat_id")?,
        user_id: row.try_get("user_id")?,
        role: role(row.try_get("role")?)?,
        joined_at: row.try_get("joined_at")?,
        read_seq: row.try_get("read_seq")?,
        delivered_seq: row.try_get("delivered_seq")?,
    })
}

pub(super) fn message(row: &SqliteRow) -> StoreResult<MessageRow> {
    Ok(MessageRow {
        id: row.try_get("id")?,
        chat_id: row.try_get("chat_id")?,
        seq: row.try_get("seq")?,
        sender_id: row.try_get("sender_id")?,
        message_type: message_type(row.try_get("type")?)?,
        content: row.try_get("content")?,
        file_id: row.try_get("file_id")?,
        metadata: metadata_from_json(row.try_get("metadata")?)?,
        client_msg_id: row.try_get("client_msg_id")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
        deleted: row.try_get("deleted")?,
    })
}

pub(super) fn chat_type(text: &str) -> StoreResult<ChatType> {
    ChatType::parse(text).ok_or_else(|| corrupt(format!("unknown chat type {text:?}")))
}

pub(super) fn role(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| corrupt(format!("unknown role {text:?}")))
}

pub(super) fn message_type(text: &str) -> StoreResult<MessageType> {
    MessageType::parse(text).ok_or_else(|| corrupt(format!("unknown message type {text:?}")))
}

pub(super) fn metadata_to_json(metadata: &Metadata) -> StoreResult<String> {
    serde_json::to_string(metadata).map_err(|err| corrupt(format!("cannot encode metadata: {err}")))
}

fn metadata_from_json(text: &str) -> StoreResult<Metadata> {
    serde_json::from_str(text).map_err(|err| corrupt(format!("bad metadata {text:?}: {err}")))
}
