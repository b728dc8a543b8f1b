//! A user's chat list: each chat with the user's role and read marker,
//! the member count, the unread count, the last message and, for direct
//! chats, the peer. Two queries for the whole list (chats, then their last
//! messages), whatever the number of chats, read in one snapshot.
//! The user's own marks (pinned, archived, marked unread) come with their
//! membership row, their `muted_until` from a primary-key join on
//! `chat_notifications`: nothing more per chat.

use crate::SqliteStore;
use crate::error::Db;
use crate::rows::{self, chat_columns, message_columns};
use natter_store::{ChatListRow, MemberFlags, MessageRow, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::collections::HashMap;

/// The chats of `?1` (`me` is the user's membership), filtered by
/// `$filter`, most recently active first.
macro_rules! chats_sql {
    ($filter:literal) => {
        concat!(
            "SELECT ",
            chat_columns!(),
            ", me.role AS my_role, me.read_seq AS my_read_seq, \
             me.pinned AS my_pinned, me.archived AS my_archived, \
             me.marked_unread AS my_marked_unread, cn.muted_until AS my_muted_until, \
             c.member_count, \
             (SELECT count(*) FROM messages u WHERE u.chat_id = c.id AND u.seq > me.read_seq \
                 AND u.sender_id <> me.user_id AND u.deleted = 0 \
                 AND (u.type <> 'mls' OR json_extract(u.metadata, '$.mls') IS NULL)) AS unread_count, \
             peer.user_id AS peer_id, pu.display_name AS peer_name \
             FROM members me \
             JOIN chats c ON c.id = me.chat_id \
             LEFT JOIN members peer \
                 ON c.type = 'direct' AND peer.chat_id = c.id AND peer.user_id <> me.user_id \
             LEFT JOIN users pu ON pu.id = peer.user_id \
             LEFT JOIN chat_notifications cn ON cn.user_id = me.user_id AND cn.chat_id = c.id \
             WHERE me.user_id = ?1",
            $filter,
            " ORDER BY c.last_activity_at DESC, c.id"
        )
    };
}

/// The newest message (highest `seq`) of each chat of `?1` that the user
/// did not hide for themselves, filtered. Walks the chat's `seq` index
/// down from the top, so it costs one step unless the newest ones are
/// hidden.
macro_rules! last_messages_sql {
    ($filter:literal) => {
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM members me \
             JOIN chats c ON c.id = me.chat_id \
             JOIN messages m ON m.chat_id = c.id AND m.seq = (SELECT x.seq \
                 FROM messages x WHERE x.chat_id = c.id AND NOT EXISTS (SELECT 1 \
                     FROM hidden_messages h WHERE h.user_id = me.user_id \
                     AND h.chat_id = c.id AND h.seq = x.seq) \
                 ORDER BY x.seq DESC LIMIT 1) \
             WHERE me.user_id = ?1",
            $filter
        )
    };
}

/// `user_id`'s whole chat list, or just the entry of `chat_id`.
pub(crate) async fn list(
    db: &SqliteStore,
    user_id: &str,
    chat_id: Option<&str>,
) -> StoreResult<Vec<ChatListRow>> {
    match chat_id {
        None => read(db, chats_sql!(""), last_messages_sql!(""), user_id, None).await,
        Some(chat_id) => {
            read(
                db,
                chats_sql!(" AND me.chat_id = ?2"),
                last_messages_sql!(" AND me.chat_id = ?2"),
                user_id,
                Some(chat_id),
            )
            .await
        }
    }
}

async fn read(
    db: &SqliteStore,
    chats_sql: &'static str,
    last_messages_sql: &'static str,
    user_id: &str,
    chat_id: Option<&str>,
) -> StoreResult<Vec<ChatListRow>> {
    // A read transaction: both queries see the same snapshot, so a last
    // message is never newer than its chat's `last_seq`.
    let mut snapshot = db.readers.begin().await.db()?;
    let chats = sqlx::query(chats_sql)
        .bind(user_id)
        .bind(chat_id)
        .fetch_all(&mut *snapshot)
        .await
        .db()?;
    let last = sqlx::query(last_messages_sql)
        .bind(user_id)
        .bind(chat_id)
        .fetch_all(&mut *snapshot)
        .await
        .db()?;
    snapshot.commit().await.db()?;

    let mut last_by_chat: HashMap<String, MessageRow> = last
        .iter()
        .map(|row| rows::message(row).map(|message| (message.chat_id.clone(), message)))
        .collect::<StoreResult<_>>()?;
    chats
        .iter()
        .map(|row| entry(row, &mut last_by_chat))
        .collect()
}

fn entry(
    row: &SqliteRow,
    last_by_chat: &mut HashMap<String, MessageRow>,
) -> StoreResult<ChatListRow> {
    let chat = rows::chat(row)?;
    let member_count: i64 = row.try_get("member_count").db()?;
    let peer_id: Option<String> = row.try_get("peer_id").db()?;
    let peer_name: Option<String> = row.try_get("peer_name").db()?;
    Ok(ChatListRow {
        role: rows::role(row.try_get("my_role").db()?)?,
        member_count: u32::try_from(member_count).unwrap_or(u32::MAX),
        read_seq: row.try_get("my_read_seq").db()?,
        unread_count: row.try_get("unread_count").db()?,
        last_message: last_by_chat.remove(&chat.id),
        peer: peer_id.zip(peer_name),
        flags: MemberFlags {
            pinned: row.try_get("my_pinned").db()?,
            archived: row.try_get("my_archived").db()?,
            marked_unread: row.try_get("my_marked_unread").db()?,
        },
        muted_until: row.try_get("my_muted_until").db()?,
        chat,
    })
}
