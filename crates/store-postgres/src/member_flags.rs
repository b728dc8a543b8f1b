//! A member's own marks on a chat (pinned, archived, marked unread): the
//! `members` columns of migration 4, changed here in one statement (the
//! member's row is its only lock). The chat list reads them with the
//! membership (`chat_list`), and a read advance clears `marked_unread`
//! (`markers`).

use crate::PgStore;
use crate::error::Db;
use natter_store::{MemberFlags, MemberFlagsChange, StoreResult};
use sqlx::Row;

/// Sets the marks `change` gives (a NULL keeps the stored one) and
/// answers all three as stored; no row if not a member.
const SET_FLAGS: &str = "
    UPDATE members SET
        pinned = coalesce($3, pinned),
        archived = coalesce($4, archived),
        marked_unread = coalesce($5, marked_unread)
    WHERE chat_id = $1 AND user_id = $2
    RETURNING pinned, archived, marked_unread";

/// [`natter_store::Chats::set_member_flags`] for PostgreSQL.
pub(crate) async fn set(
    db: &PgStore,
    chat_id: &str,
    user_id: &str,
    change: MemberFlagsChange,
) -> StoreResult<Option<MemberFlags>> {
    let row = sqlx::query(SET_FLAGS)
        .bind(chat_id)
        .bind(user_id)
        .bind(change.pinned)
        .bind(change.archived)
        .bind(change.marked_unread)
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.map(|row| {
        Ok(MemberFlags {
            pinned: row.try_get("pinned").db()?,
            archived: row.try_get("archived").db()?,
            marked_unread: row.try_get("marked_unread").db()?,
        })
    })
    .transpose()
}
