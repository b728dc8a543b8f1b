//! A member's own marks on a chat: pinned, archived, marked unread
//! (`PATCH /chats/{id}/me`), and the summary that shows them with
//! `muted`. Each change is announced as `chat.updated` to the member's
//! own connections only: the marks are nobody else's business, and the
//! member's other devices keep their list in step. A read advance that
//! clears `marked_unread` is announced the same way (see `markers`).

use super::{Caller, Core, CoreError, CoreResult, now_ms};
use natter_bus::Envelope;
use natter_proto::chats::{ChatSummary, MyChatFlags, UpdateMyChat};
use natter_proto::events::ServerEvent;
use natter_store::{ChatListRow, MemberFlagsChange};

impl Core {
    /// Changes the marks `update` gives and answers the caller's summary;
    /// `invalid` if it gives none, `not_found` for a non-member.
    pub async fn update_my_chat(
        &self,
        caller: &Caller,
        chat_id: &str,
        update: UpdateMyChat,
    ) -> CoreResult<ChatSummary> {
        if update.is_empty() {
            return Err(CoreError::invalid(
                "give at least one of pinned, archived, marked_unread",
            ));
        }
        let change = MemberFlagsChange {
            pinned: update.pinned,
            archived: update.archived,
            marked_unread: update.marked_unread,
        };
        self.store
            .set_member_flags(chat_id, &caller.user_id, change)
            .await?
            .ok_or_else(|| CoreError::not_found("chat"))?;
        self.announce_own_summary(chat_id, &caller.user_id)
            .await?
            .ok_or_else(|| CoreError::not_found("chat"))
    }

    /// Sends `user_id`'s own summary of the chat as `chat.updated` to
    /// their connections only, and returns it; `None` if not a member
    /// (nothing is sent).
    pub(crate) async fn announce_own_summary(
        &self,
        chat_id: &str,
        user_id: &str,
    ) -> CoreResult<Option<ChatSummary>> {
        let Some(row) = self.store.chat_for_user(chat_id, user_id).await? else {
            return Ok(None);
        };
        let summary = self.summary(&row, user_id).await?;
        self.bus.publish(Envelope::to_user(
            user_id,
            &ServerEvent::ChatUpdated {
                chat: summary.clone(),
            },
        ));
        Ok(Some(summary))
    }

    /// [`Core::announce_own_summary`] after a change that is already
    /// stored (a read, notification settings): a failure to announce is
    /// logged, not returned, since the change itself succeeded and the
    /// member's devices catch up with their next list.
    pub(crate) async fn announce_own_summary_or_log(&self, chat_id: &str, user_id: &str) {
        if let Err(error) = self.announce_own_summary(chat_id, user_id).await {
            tracing::warn!(%chat_id, ?error, "announcing a member's own summary failed");
        }
    }
}

/// The marks a list entry shows its member, `muted` as of `now`.
pub(crate) fn my_flags(row: &ChatListRow, now: i64) -> MyChatFlags {
    MyChatFlags {
        pinned: row.flags.pinned,
        archived: row.flags.archived,
        marked_unread: row.flags.marked_unread,
        muted: row.muted_until.is_some_and(|until| until > now),
    }
}

/// [`my_flags`] as of this moment.
pub(crate) fn my_flags_now(row: &ChatListRow) -> MyChatFlags {
    my_flags(row, now_ms())
}
