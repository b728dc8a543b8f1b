//! Reading rows back into the store's row types, and the column lists the
//! queries select so that every query returns what these readers expect.
//! Columns are read by name; enumerations and metadata are parsed, and a
//! value that does not parse is an error, never a panic.

use crate::error::{Db, corrupt};
use natter_proto::chats::{ChatType, Role};
use natter_proto::messages::{MessageType, Metadata};
use natter_store::{ChatProfile, ChatRow, MemberRow, MessageRow, StoreResult, UserRow};
use sqlx::Row;
use sqlx::postgres::PgRow;

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
        "m.id, m.chat_id, m.seq, m.version, m.sender_id, m.type, m.content, m.file_id, \
         m.metadata::text AS metadata, m.client_msg_id, m.created_at, m.edited_at, m.deleted"
    };
}

pub(crate) use {chat_columns, member_columns, message_columns, user_columns};

pub(crate) fn user(row: &PgRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: row.try_get("id").db()?,
        username: row.try_get("username").db()?,
        display_name: row.try_get("display_name").db()?,
        password_hash: row.try_get("password_hash").db()?,
        avatar_file_id: row.try_get("avatar_file_id").db()?,
        created_at: row.try_get("created_at").db()?,
        last_seen: row.try_get("last_seen").db()?,
    })
}

pub(crate) fn chat(row: &PgRow) -> StoreResult<ChatRow> {
    Ok(ChatRow {
        id: row.try_get("id").db()?,
        chat_type: chat_type(row.try_get("type").db()?)?,
        name: row.try_get("name").db()?,
        created_by: row.try_get("created_by").db()?,
        created_at: row.try_get("created_at").db()?,
        last_seq: row.try_get("last_seq").db()?,
        last_version: row.try_get("last_version").db()?,
        last_activity_at: row.try_get("last_activity_at").db()?,
        profile: ChatProfile {
            topic: row.try_get("topic").db()?,
            description: row.try_get("description").db()?,
            avatar_file_id: row.try_get("avatar_file_id").db()?,
        },
        e2ee: row.try_get("e2ee").db()?,
        mls_epoch: row.try_get("mls_epoch").db()?,
    })
}

pub(crate) fn member(row: &PgRow) -> StoreResult<MemberRow> {
    Ok(MemberRow {
        chat_id: row.try_get("chat_id").db()?,
        user_id: row.try_get("user_id").db()?,
        role: role(row.try_get("role").db()?)?,
        joined_at: row.try_get("joined_at").db()?,
        read_seq: row.try_get("read_seq").db()?,
        delivered_seq: row.try_get("delivered_seq").db()?,
    })
}

/// The names a message's columns are read under: as
/// [`message_columns!`] selects them, or prefixed where a query selects a
/// second message beside other rows (the chat list's last message).
pub(crate) struct MessageNames {
    id: &'static str,
    chat_id: &'static str,
    seq: &'static str,
    version: &'static str,
    sender_id: &'static str,
    kind: &'static str,
    content: &'static str,
    file_id: &'static str,
    metadata: &'static str,
    client_msg_id: &'static str,
    created_at: &'static str,
    edited_at: &'static str,
    deleted: &'static str,
}

/// The names of [`message_columns!`].
pub(crate) const MESSAGE: MessageNames = MessageNames {
    id: "id",
    chat_id: "chat_id",
    seq: "seq",
    version: "version",
    sender_id: "sender_id",
    kind: "type",
    content: "content",
    file_id: "file_id",
    metadata: "metadata",
    client_msg_id: "client_msg_id",
    created_at: "created_at",
    edited_at: "edited_at",
    deleted: "deleted",
};

pub(crate) fn message(row: &PgRow) -> StoreResult<MessageRow> {
    message_named(row, &MESSAGE)
}

pub(crate) fn message_named(row: &PgRow, names: &MessageNames) -> StoreResult<MessageRow> {
    Ok(MessageRow {
        id: row.try_get(names.id).db()?,
        chat_id: row.try_get(names.chat_id).db()?,
        seq: row.try_get(names.seq).db()?,
        version: row.try_get(names.version).db()?,
        sender_id: row.try_get(names.sender_id).db()?,
        message_type: message_type(row.try_get(names.kind).db()?)?,
        content: row.try_get(names.content).db()?,
        file_id: row.try_get(names.file_id).db()?,
        metadata: metadata_from_json(row.try_get(names.metadata).db()?)?,
        client_msg_id: row.try_get(names.client_msg_id).db()?,
        created_at: row.try_get(names.created_at).db()?,
        edited_at: row.try_get(names.edited_at).db()?,
        deleted: row.try_get(names.deleted).db()?,
    })
}

/// Whether the row holds a message under these names (a LEFT JOIN that
/// found none leaves them NULL).
pub(crate) fn has_message(row: &PgRow, names: &MessageNames) -> StoreResult<bool> {
    Ok(row.try_get::<Option<String>, _>(names.id).db()?.is_some())
}

/// The chat list's last message: [`message_columns!`] of `lm`, prefixed
/// `last_`.
macro_rules! last_message_columns {
    () => {
        "lm.id AS last_id, lm.chat_id AS last_chat_id, lm.seq AS last_seq_no, \
         lm.version AS last_msg_version, lm.sender_id AS last_sender_id, lm.type AS last_type, \
         lm.content AS last_content, lm.file_id AS last_file_id, \
         lm.metadata::text AS last_metadata, lm.client_msg_id AS last_client_msg_id, \
         lm.created_at AS last_created_at, lm.edited_at AS last_edited_at, \
         lm.deleted AS last_deleted"
    };
}

pub(crate) use last_message_columns;

/// The names of [`last_message_columns!`].
pub(crate) const LAST_MESSAGE: MessageNames = MessageNames {
    id: "last_id",
    chat_id: "last_chat_id",
    seq: "last_seq_no",
    version: "last_msg_version",
    sender_id: "last_sender_id",
    kind: "last_type",
    content: "last_content",
    file_id: "last_file_id",
    metadata: "last_metadata",
    client_msg_id: "last_client_msg_id",
    created_at: "last_created_at",
    edited_at: "last_edited_at",
    deleted: "last_deleted",
};

pub(crate) fn chat_type(text: &str) -> StoreResult<ChatType> {
    ChatType::parse(text).ok_or_else(|| corrupt(format!("unknown chat type {text:?}")))
}

pub(crate) fn role(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| corrupt(format!("unknown role {text:?}")))
}

pub(crate) fn message_type(text: &str) -> StoreResult<MessageType> {
    MessageType::parse(text).ok_or_else(|| corrupt(format!("unknown message type {text:?}")))
}

pub(crate) fn metadata_to_json(metadata: &Metadata) -> StoreResult<String> {
    serde_json::to_string(metadata).map_err(|err| corrupt(format!("cannot encode metadata: {err}")))
}

fn metadata_from_json(text: &str) -> StoreResult<Metadata> {
    serde_json::from_str(text).map_err(|err| corrupt(format!("bad metadata {text:?}: {err}")))
}
