//! Reads for real-time sessions: the cursors of the `ready` frame and the
//! audience of a user's presence.

use super::SqliteStore;
use crate::store::StoreResult;
use natter_proto::events::ChatCursor;
use sqlx::Row;

pub(super) async fn chat_cursors(db: &SqliteStore, user_id: &str) -> StoreResult<Vec<ChatCursor>> {
    let rows = sqlx::query(
        "SELECT c.id, c.last_seq, m.read_seq FROM members m JOIN chats c ON c.id = m.chat_id \
         WHERE m.user_id = ?1 ORDER BY c.last_activity_at DESC, c.id",
    )
    .bind(user_id)
    .fetch_all(&db.readers)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ChatCursor {
                chat_id: row.try_get(0)?,
                last_seq: row.try_get(1)?,
                read_seq: row.try_get(2)?,
            })
        })
        .collect()
}

pub(super) async fn co_members(
    db: &SqliteStore,
    user_id: &str,
    max_members: u32,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT other.user_id FROM members me \
         JOIN members other ON other.chat_id = me.chat_id AND other.user_id <> me.user_id \
         WHERE me.user_id = ?1 \
           AND (SELECT count(*) FROM members x WHERE x.chat_id = me.chat_id) <= ?2",
    )
    .bind(user_id)
    .bind(i64::from(max_members))
    .fetch_all(&db.readers)
    .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}
