//! Reading rows back into the store's row types, and the column lists the
//! queries select so that every query returns what these readers expect.
//! Columns are read by name; enumerations and metadata are parsed, and a
//! value that does not parse is an error, never a panic.
//!
//! The readers take any [`Columns`]: a row of the read pool (sqlx) or of
//! the writer's connection (rusqlite), so both read rows the same way.

use crate::error::{Db, corrupt};
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use natter_store::{ChatProfile, ChatRow, MemberRow, MessageRow, StoreResult, UserRow};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Typed access to a result row's columns by name, whichever driver
/// produced it.
pub(super) trait Columns {
    fn text(&self, name: &str) -> StoreResult<String>;
    fn text_opt(&self, name: &str) -> StoreResult<Option<String>>;
    fn int(&self, name: &str) -> StoreResult<i64>;
    fn int_opt(&self, name: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, name: &str) -> StoreResult<bool>;
}

impl Columns for SqliteRow {
    fn text(&self, name: &str) -> StoreResult<String> {
        self.try_get(name).db()
    }
    fn text_opt(&self, name: &str) -> StoreResult<Option<String>> {
        self.try_get(name).db()
    }
    fn int(&self, name: &str) -> StoreResult<i64> {
        self.try_get(name).db()
    }
    fn int_opt(&self, name: &str) -> StoreResult<Option<i64>> {
        self.try_get(name).db()
    }
    fn flag(&self, name: &str) -> StoreResult<bool> {
        self.try_get(name).db()
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, name: &str) -> StoreResult<String> {
        self.get(name).db()
    }
    fn text_opt(&self, name: &str) -> StoreResult<Option<String>> {
        self.get(name).db()
    }
    fn int(&self, name: &str) -> StoreResult<i64> {
        self.get(name).db()
    }
    fn int_opt(&self, name: &str) -> StoreResult<Option<i64>> {
        self.get(name).db()
    }
    fn flag(&self, name: &str) -> StoreResult<bool> {
        self.get(name).db()
    }
}

/// The columns [`user`] reads, from `users` (no alias).
macro_rules! user_columns {
    () => {
        "id, username, display_name, password_hash, avatar_file_id, created_at, last_seen"
    };
}

/// The columns [`chat`] reads, from `chats` aliased `c`.
macro_rules! chat_columns {
    () => {
        "c.id, c.type, c.name, c.created_by, c.created_at, c.last_seq, c.last_version, \
         c.last_activity_at, c.topic, c.description, c.avatar_file_id, c.e2ee, c.mls_epoch"
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
        "m.id, m.chat_id, m.seq, coalesce(m.changed_version, m.version) AS version, m.sender_id, \
         m.type, m.content, m.file_id, \
         m.metadata, m.client_msg_id, m.created_at, m.edited_at, m.deleted"
    };
}

/// The same columns unqualified, for `RETURNING` (which takes no alias).
macro_rules! message_returning {
    () => {
        "id, chat_id, seq, coalesce(changed_version, version) AS version, sender_id, type, \
         content, file_id, metadata, \
         client_msg_id, created_at, edited_at, deleted"
    };
}

pub(super) use {chat_columns, member_columns, message_columns, message_returning, user_columns};

pub(super) fn user(row: &impl Columns) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: row.text("id")?,
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        password_hash: row.text("password_hash")?,
        avatar_file_id: row.text_opt("avatar_file_id")?,
        created_at: row.int("created_at")?,
        last_seen: row.int_opt("last_seen")?,
    })
}

pub(super) fn chat(row: &impl Columns) -> StoreResult<ChatRow> {
    Ok(ChatRow {
        id: row.text("id")?,
        chat_type: chat_type(&row.text("type")?)?,
        name: row.text_opt("name")?,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        last_seq: row.int("last_seq")?,
        last_version: row.int("last_version")?,
        last_activity_at: row.int("last_activity_at")?,
        profile: ChatProfile {
            topic: row.text_opt("topic")?,
            description: row.text_opt("description")?,
            avatar_file_id: row.text_opt("avatar_file_id")?,
        },
        e2ee: row.flag("e2ee")?,
        mls_epoch: row.int("mls_epoch")?,
    })
}

pub(super) fn member(row: &impl Columns) -> StoreResult<MemberRow> {
    Ok(MemberRow {
        chat_id: row.text("chat_id")?,
        user_id: row.text("user_id")?,
        role: role(&row.text("role")?)?,
        joined_at: row.int("joined_at")?,
        read_seq: row.int("read_seq")?,
        delivered_seq: row.int("delivered_seq")?,
    })
}

pub(super) fn message(row: &impl Columns) -> StoreResult<MessageRow> {
    Ok(MessageRow {
        id: row.text("id")?,
        chat_id: row.text("chat_id")?,
        seq: row.int("seq")?,
        version: row.int("version")?,
        sender_id: row.text("sender_id")?,
        message_type: message_type(&row.text("type")?)?,
        content: row.text("content")?,
        file_id: row.text_opt("file_id")?,
        metadata: metadata_from_json(&row.text("metadata")?)?,
        client_msg_id: row.text_opt("client_msg_id")?,
        created_at: row.int("created_at")?,
        edited_at: row.int_opt("edited_at")?,
        deleted: row.flag("deleted")?,
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
