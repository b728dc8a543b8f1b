//! A member's own marks on a chat (pinned, archived, marked unread): the
//! `members` columns of migration 10, changed here in one statement on
//! the writer. The chat list reads them with the membership
//! (`chat_list`), and a read advance clears `marked_unread` (`markers`).

use crate::SqliteStore;
use natter_store::{MemberFlags, MemberFlagsChange, StoreResult};
use rusqlite::{OptionalExtension, params};

/// Sets the marks `change` gives (a NULL keeps the stored one) and
/// answers all three as stored; no row if not a member.
const SET_FLAGS: &str = "
    UPDATE members SET
        pinned = coalesce(?3, pinned),
        archived = coalesce(?4, archived),
        marked_unread = coalesce(?5, marked_unread)
    WHERE chat_id = ?1 AND user_id = ?2
    RETURNING pinned, archived, marked_unread";

/// [`natter_store::Chats::set_member_flags`] for SQLite.
pub(crate) async fn set(
    db: &SqliteStore,
    chat_id: &str,
    user_id: &str,
    change: MemberFlagsChange,
) -> StoreResult<Option<MemberFlags>> {
    let (chat_id, user_id) = (chat_id.to_owned(), user_id.to_owned());
    db.writer
        .write_statement(move |conn| {
            let flags = conn
                .prepare_cached(SET_FLAGS)?
                .query_row(
                    params![
                        chat_id,
                        user_id,
                        change.pinned,
                        change.archived,
                        change.marked_unread
                    ],
                    |row| {
                        Ok(MemberFlags {
                            pinned: row.get("pinned")?,
                            archived: row.get("archived")?,
                            marked_unread: row.get("marked_unread")?,
                        })
                    },
                )
                .optional()?;
            Ok(flags)
        })
        .await
}
