//! "Delete for me": a member hides any message of a chat (their own,
//! another's, a tombstone) for themselves only. The message stays for
//! everyone else and keeps its `seq` for the hider too: history pages,
//! change pages and single lookups give it to them as a placeholder
//! (a tombstone marked `hidden`), so cursors and gap repair stay
//! gap-free; search and the chat list's last message leave it out (the
//! store's queries do). The hider's own connections hear `message.hidden`.

use super::{Caller, Core, CoreError, CoreResult, now_ms};
use natter_bus::Envelope;
use natter_proto::events::ServerEvent;
use natter_proto::messages::{Message, Metadata};

impl Core {
    /// Hides the message for the caller; hiding it again changes nothing
    /// and announces nothing. `not_found` unless the caller is a member of
    /// the message's chat now.
    pub async fn hide_message(&self, caller: &Caller, message_id: &str) -> CoreResult<()> {
        let row = self.visible_message(caller, message_id).await?;
        if row.metadata.mls.is_some() {
            // Hidden, its content would be gone from the user's other
            // devices' history, which must still process it.
            return Err(CoreError::invalid(
                "a Commit is part of the chat's MLS group and cannot be hidden",
            ));
        }
        if self
            .store
            .hide_message(&caller.user_id, &row.id, now_ms())
            .await?
        {
            self.bus.publish(Envelope::to_user(
                &caller.user_id,
                &ServerEvent::MessageHidden {
                    chat_id: row.chat_id,
                    message_id: row.id,
                    seq: row.seq,
                },
            ));
        }
        Ok(())
    }

    /// Turns the messages `user_id` hid into placeholders, in place (one
    /// store read for the whole page).
    pub(crate) async fn mask_hidden(
        &self,
        user_id: &str,
        messages: &mut [Message],
    ) -> CoreResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = messages.iter().map(|m| m.message_id.clone()).collect();
        let hidden = self.store.hidden_among(user_id, &ids).await?;
        for message in messages
            .iter_mut()
            .filter(|message| hidden.contains(&message.message_id))
        {
            placeholder(message);
        }
        Ok(())
    }
}

/// What a hidden message shows its hider: a tombstone (no content, file,
/// metadata or reactions) that keeps its ids, `seq`, `version`, sender,
/// type and time, marked `hidden`.
fn placeholder(message: &mut Message) {
    message.content.clear();
    message.file = None;
    message.metadata = Metadata::default();
    message.reactions.clear();
    message.edited_at = None;
    message.client_msg_id = None;
    message.deleted = true;
    message.hidden = true;
}
