//! A user's chat list: each chat with the user's role and read marker,
//! the member count, the unread count, the last message and, for direct
//! chats, the peer (the last message the user did not hide for
//! themselves: usually the chat's `last_seq`). One query for the whole list, whatever the number of
//! chats, so the last message is never newer than its chat's `last_seq`.
//! The user's own marks (pinned, archived, marked unread) come with their
//! membership row, their `muted_until` from a primary-key join on
//! `chat_notifications`: nothing more per chat.

use crate::PgStore;
use crate::error::Db;
use crate::rows::{self, LAST_MESSAGE, chat_columns, last_message_columns};
use natter_store::{ChatListRow, MemberFlags, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The chats of `$1` (`me` is the user's membership), filtered by
/// `$filter`, most recently active first.
macro_rules! list_sql {
    ($filter:literal) => {
        concat!(
            "SELECT ",
            chat_columns!(),
            ", ",
            last_message_columns!(),
            ", me.role AS my_role, me.read_seq AS my_read_seq, c.member_count, \
             me.pinned AS my_pinned, me.archived AS my_archived, \
             me.marked_unread AS my_marked_unread, cn.muted_until AS my_muted_until, \
             (SELECT count(*) FROM messages u WHERE u.chat_id = c.id AND u.seq > me.read_seq \
                 AND u.sender_id <> me.user_id AND NOT u.deleted \
                 AND (u.type <> 'mls' OR u.metadata->'mls' IS NULL)) AS unread_count, \
             peer.user_id AS peer_id, pu.display_name AS peer_name \
             FROM members me \
             JOIN chats c ON c.id = me.chat_id \
             LEFT JOIN messages lm ON lm.chat_id = c.id AND lm.seq = (SELECT x.seq \
                 FROM messages x WHERE x.chat_id = c.id AND NOT EXISTS (SELECT 1 \
                     FROM hidden_messages h WHERE h.user_id = me.user_id \
                     AND h.chat_id = c.id AND h.seq = x.seq) \
                 ORDER BY x.seq DESC LIMIT 1) \
             LEFT JOIN members peer \
                 ON c.type = 'direct' AND peer.chat_id = c.id AND peer.user_id <> me.user_id \
             LEFT JOIN users pu ON pu.id = peer.user_id \
             LEFT JOIN chat_notifications cn ON cn.user_id = me.user_id AND cn.chat_id = c.id \
             WHERE me.user_id = $1",
            $filter,
            " ORDER BY c.last_activity_at DESC, c.id"
        )
    };
}

/// `user_id`'s whole chat list, or just the entry of `chat_id`.
pub(crate) async fn list(
    db: &PgStore,
    user_id: &str,
    chat_id: Option<&str>,
) -> StoreResult<Vec<ChatListRow>> {
    let query = match chat_id {
        None => sqlx::query(list_sql!("")).bind(user_id),
        Some(chat_id) => sqlx::query(list_sql!(" AND me.chat_id = $2"))
            .bind(user_id)
            .bind(chat_id),
    };
    let found = query.fetch_all(&db.pool).await.db()?;
    found.iter().map(entry).collect()
}

fn entry(row: &PgRow) -> StoreResult<ChatListRow> {
    let member_count: i64 = row.try_get("member_count").db()?;
    let peer_id: Option<String> = row.try_get("peer_id").db()?;
    let peer_name: Option<String> = row.try_get("peer_name").db()?;
    let last_message = if rows::has_message(row, &LAST_MESSAGE)? {
        Some(rows::message_named(row, &LAST_MESSAGE)?)
    } else {
        None
    };
    Ok(ChatListRow {
        chat: rows::chat(row)?,
        role: rows::role(row.try_get("my_role").db()?)?,
        member_count: u32::try_from(member_count).unwrap_or(u32::MAX),
        read_seq: row.try_get("my_read_seq").db()?,
        unread_count: row.try_get("unread_count").db()?,
        last_message,
        peer: peer_id.zip(peer_name),
        flags: MemberFlags {
            pinned: row.try_get("my_pinned").db()?,
            archived: row.try_get("my_archived").db()?,
            marked_unread: row.try_get("my_marked_unread").db()?,
        },
        muted_until: row.try_get("my_muted_until").db()?,
    })
}
