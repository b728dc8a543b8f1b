//! Messages: send (idempotent by `client_msg_id`), history, edit, delete
//! as tombstone, reactions, read markers and receipts.

use super::limits::UserAction;
use super::{
    Caller, Core, CoreError, CoreResult, counter, mls, new_id, no_control_characters, now_ms,
    views, voice,
};
use natter_bus::Envelope;
use natter_proto::Timestamp;
use natter_proto::chats::ChatType;
use natter_proto::events::ServerEvent;
use natter_proto::messages::{
    Message, MessagePage, MessageStatus, MessageType, Metadata, Receipt, SendAck, SendMessage,
};
use natter_store::{Appended, Cursor, MessageRow, NewMessage};

/// Longest message content, in characters.
pub const MAX_CONTENT_CHARS: usize = 16_384;
/// Longest `client_msg_id`.
const MAX_CLIENT_MSG_ID: usize = 128;
/// Most mentions on one message.
const MAX_MENTIONS: usize = 100;
/// Default and largest history page.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// A queued send (see [`Core::queue_send`]): resolves to the ack once the
/// message is durable and published; `true` if it is new.
pub type PendingSend<'a> = futures_util::future::BoxFuture<'a, CoreResult<(SendAck, bool)>>;

/// Where a history page starts, as the client gave it: a message id or
/// `seq:N`.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub before: Option<String>,
    pub after: Option<String>,
    /// The change cursor: messages whose `version` is above this, in
    /// `version` order.
    pub changed_after: Option<i64>,
    pub limit: Option<u32>,
    pub message_type: Option<String>,
}

impl Core {
    /// Stores a message and answers once it is durable; `true` if it is
    /// new, `false` if this sender already sent this `client_msg_id`.
    pub async fn send(&self, caller: &Caller, request: SendMessage) -> CoreResult<(SendAck, bool)> {
        self.queue_send(caller, request).await?.await
    }

    /// As [`send`](Core::send), in two steps: checks the request and queues
    /// the message, then returns the future of its outcome (durable, then
    /// published). Messages queued one after the other get `seq`s in that
    /// order, so a socket can pipeline sends without reordering them.
    pub async fn queue_send(
        &self,
        caller: &Caller,
        request: SendMessage,
    ) -> CoreResult<PendingSend<'_>> {
        if request
            .sender_id
            .as_ref()
            .is_some_and(|id| *id != caller.user_id)
        {
            return Err(CoreError::forbidden("sender_id must be the caller"));
        }
        self.limits.user_action(&caller.user_id, UserAction::Send)?;
        let chat_id = request.chat_id;
        let metadata = request.metadata.unwrap_or_default();
        if request.message_type == MessageType::Call || metadata.call.is_some() {
            return Err(CoreError::invalid(
                "call entries (type call, metadata.call) are written by the server",
            ));
        }
        if metadata.mls.is_some() {
            return Err(CoreError::invalid("metadata.mls is written by the server"));
        }
        if request.message_type == MessageType::Mls {
            // Ciphertext for a group at some epoch: the chat must be
            // encrypted and have reached it (a member's read, so that the
            // checks tell an outsider nothing).
            let (chat, _) = self.membership(&chat_id, &caller.user_id).await?;
            if !chat.e2ee {
                return Err(not_encrypted());
            }
            mls::groups::check_application(&request.content, &chat_id, chat.mls_epoch)?;
        }
        if !metadata.is_empty() || request.message_type == MessageType::Voice {
            // Checking the metadata reads the chat (the message replied
            // to, the members mentioned), and a voice message's checks
            // (its duration, its file) say why it is refused: only for
            // members, so that they tell an outsider nothing. Plain
            // messages are authorized by the store's append itself.
            self.role_in(&chat_id, &caller.user_id).await?;
        }
        let content = check_content(&request.content, request.message_type)?;
        voice::check_metadata(request.message_type, &metadata, self.voice.max_duration_ms)?;
        if let Some(id) = &request.client_msg_id {
            if id.is_empty() || id.len() > MAX_CLIENT_MSG_ID {
                return Err(CoreError::invalid(format!(
                    "client_msg_id must be 1 to {MAX_CLIENT_MSG_ID} bytes long"
                )));
            }
            no_control_characters("client_msg_id", id, false)?;
        }
        match (request.message_type, &request.file_id) {
            (MessageType::Text, Some(_)) => {
                return Err(CoreError::invalid("file_id: text messages carry no file"));
            }
            (MessageType::Image | MessageType::File | MessageType::Voice, None) => {
                return Err(CoreError::invalid(
                    "file_id is required for image, file and voice messages",
                ));
            }
            (message_type, Some(file_id)) => {
                self.attachable_file(caller, file_id, message_type).await?;
            }
            (MessageType::Text | MessageType::Call | MessageType::Mls, None) => {}
        }
        let metadata = self.check_metadata(&chat_id, metadata).await?;
        // Announced by the announcer once durable (the store reports every
        // commit, in commit order, even if this request is abandoned).
        let appending = self
            .store
            .queue_append(NewMessage {
                id: new_id(),
                chat_id,
                sender_id: caller.user_id.clone(),
                message_type: request.message_type,
                content,
                file_id: request.file_id,
                metadata,
                client_msg_id: request.client_msg_id,
                created_at: now_ms(),
                owes_push: self.push_enabled(),
                mls_epoch: None,
            })
            .await?;
        Ok(Box::pin(async move {
            let (row, created) = match appending.await? {
                Appended::New(row) => (row, true),
                Appended::Existing(row) => (row, false),
                Appended::NotMember => return Err(CoreError::not_found("chat")),
                Appended::ReadOnly => {
                    return Err(CoreError::forbidden(
                        "only the owner and admins post in a channel",
                    ));
                }
                Appended::Encryption { e2ee: true } => return Err(encrypted()),
                Appended::Encryption { e2ee: false } => return Err(not_encrypted()),
                Appended::StaleEpoch { current } => {
                    return Err(CoreError::conflict(format!(
                        "the chat is at MLS epoch {current}"
                    )));
                }
            };
            if created {
                self.typing_ended_by_message(&row.chat_id, &row.sender_id);
                if let Some(pusher) = self.push.as_ref() {
                    pusher.ring();
                }
            }
            let ack = SendAck {
                message_id: row.id,
                chat_id: row.chat_id,
                seq: row.seq,
                status: MessageStatus::Sent,
                created_at: Timestamp(row.created_at),
            };
            Ok((ack, created))
        }))
    }

    pub async fn history(
        &self,
        caller: &Caller,
        chat_id: &str,
        query: HistoryQuery,
    ) -> CoreResult<MessagePage> {
        self.membership(chat_id, &caller.user_id).await?;
        let cursors_given = [
            query.before.is_some(),
            query.after.is_some(),
            query.changed_after.is_some(),
        ];
        if cursors_given.iter().filter(|given| **given).count() > 1 {
            return Err(CoreError::invalid(
                "give one of before, after and changed_after, not several",
            ));
        }
        let message_type = match query.message_type.as_deref() {
            None | Some("all") => None,
            Some(text) => Some(MessageType::parse(text).ok_or_else(|| {
                CoreError::invalid("type must be all, text, image, file, voice or mls")
            })?),
        };
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        if let Some(version) = query.changed_after {
            let version = counter("changed_after", version)?;
            let (rows, has_more) = self
                .store
                .changed_messages(chat_id, version, limit, message_type)
                .await?;
            let mut messages = self
                .render_messages(chat_id, &rows, LinksFor::User(&caller.user_id))
                .await?;
            self.mask_hidden(&caller.user_id, &mut messages).await?;
            return Ok(MessagePage { messages, has_more });
        }
        let cursor = match (&query.before, &query.after) {
            (Some(before), _) => Cursor::Before(self.cursor_seq(chat_id, "before", before).await?),
            (None, Some(after)) => Cursor::After(self.cursor_seq(chat_id, "after", after).await?),
            (None, None) => Cursor::Latest,
        };
        let (rows, has_more) = self
            .store
            .list_messages(chat_id, cursor, limit, message_type)
            .await?;
        let mut messages = self
            .render_messages(chat_id, &rows, LinksFor::User(&caller.user_id))
            .await?;
        self.mask_hidden(&caller.user_id, &mut messages).await?;
        Ok(MessagePage { messages, has_more })
    }

    /// A message the caller may see (member of its chat now).
    pub async fn message(&self, caller: &Caller, message_id: &str) -> CoreResult<Message> {
        let row = self.visible_message(caller, message_id).await?;
        let mut rendered = self
            .render_messages(
                &row.chat_id,
                std::slice::from_ref(&row),
                LinksFor::User(&caller.user_id),
            )
            .await?;
        self.mask_hidden(&caller.user_id, &mut rendered).await?;
        Ok(rendered.remove(0))
    }

    pub async fn edit_message(
        &self,
        caller: &Caller,
        message_id: &str,
        content: &str,
    ) -> CoreResult<Message> {
        let row = self.visible_message(caller, message_id).await?;
        if row.sender_id != caller.user_id {
            return Err(CoreError::forbidden("only the sender can edit a message"));
        }
        if row.deleted {
            return Err(CoreError::conflict("the message is deleted"));
        }
        if row.message_type == MessageType::Mls {
            return Err(CoreError::invalid(
                "an encrypted message cannot be edited: send a new one",
            ));
        }
        let content = check_content(content, row.message_type)?;
        let edited = self
            .store
            .edit_message(message_id, &content, now_ms())
            .await?;
        let message = self
            .render_messages(
                &edited.chat_id,
                std::slice::from_ref(&edited),
                LinksFor::Sender,
            )
            .await?
            .remove(0);
        self.bus.publish(Envelope::to_chat(
            &edited.chat_id,
            &ServerEvent::MessageUpdated {
                message: message.clone(),
            },
        ));
        Ok(message)
    }

    /// Leaves a tombstone. Deleting a deleted message is a no-op.
    pub async fn delete_message(&self, caller: &Caller, message_id: &str) -> CoreResult<()> {
        let row = self.visible_message(caller, message_id).await?;
        if row.sender_id != caller.user_id {
            let (chat, member) = self.membership(&row.chat_id, &caller.user_id).await?;
            // In a one-to-one chat nobody moderates: whoever started it is
            // its "owner" only in name, and may not delete the other's words.
            if chat.chat_type == ChatType::Direct {
                return Err(CoreError::forbidden(
                    "in a direct chat only the sender can delete a message",
                ));
            }
            if !member.role.can_manage() {
                return Err(CoreError::forbidden(
                    "only the sender, the owner and admins can delete a message",
                ));
            }
        }
        if row.deleted {
            return Ok(());
        }
        if row.metadata.mls.is_some() {
            // Devices that catch up later must still process it.
            return Err(CoreError::invalid(
                "a Commit is part of the chat's MLS group and cannot be deleted",
            ));
        }
        let deleted = self.store.delete_message(message_id, now_ms()).await?;
        self.bus.publish(Envelope::to_chat(
            &deleted.chat_id,
            &ServerEvent::MessageDeleted {
                chat_id: deleted.chat_id.clone(),
                message_id: deleted.id.clone(),
                seq: deleted.seq,
                version: deleted.version,
            },
        ));
        Ok(())
    }

    pub async fn react(
        &self,
        caller: &Caller,
        message_id: &str,
        emoji: &str,
        add: bool,
    ) -> CoreResult<()> {
        check_emoji(emoji)?;
        self.limits
            .user_action(&caller.user_id, UserAction::React)?;
        let row = self.visible_message(caller, message_id).await?;
        if row.deleted {
            return Err(CoreError::conflict("the message is deleted"));
        }
        let changed = if add {
            self.store
                .add_reaction(message_id, &caller.user_id, emoji, now_ms())
                .await?
        } else {
            self.store
                .remove_reaction(message_id, &caller.user_id, emoji)
                .await?
        };
        if let Some(version) = changed {
            let (chat_id, message_id, emoji, user_id) = (
                row.chat_id.clone(),
                row.id,
                emoji.to_owned(),
                caller.user_id.clone(),
            );
            let event = if add {
                ServerEvent::ReactionAdded {
                    chat_id,
                    message_id,
                    emoji,
                    user_id,
                    version,
                }
            } else {
                ServerEvent::ReactionRemoved {
                    chat_id,
                    message_id,
                    emoji,
                    user_id,
                    version,
                }
            };
            self.bus.publish(Envelope::to_chat(&row.chat_id, &event));
        }
        Ok(())
    }

    /// Messages of a chat with `after < seq < before`, ascending; for the
    /// gateway's gap repair (no caller: the gateway routes only to members).
    pub async fn messages_between(
        &self,
        chat_id: &str,
        after: i64,
        before: i64,
    ) -> CoreResult<Vec<Message>> {
        let wanted = (before - after - 1).clamp(0, i64::from(MAX_PAGE)) as u32;
        if wanted == 0 {
            return Ok(Vec::new());
        }
        let (rows, _) = self
            .store
            .list_messages(chat_id, Cursor::After(after), wanted, None)
            .await?;
        let rows: Vec<MessageRow> = rows.into_iter().filter(|row| row.seq < before).collect();
        self.render_messages(chat_id, &rows, LinksFor::Sender).await
    }

    pub async fn receipts(&self, caller: &Caller, message_id: &str) -> CoreResult<Vec<Receipt>> {
        let row = self.visible_message(caller, message_id).await?;
        let rows = self
            .store
            .receipts(&row.chat_id, row.seq, &row.sender_id)
            .await?;
        Ok(rows
            .into_iter()
            .map(|receipt| Receipt {
                user_id: receipt.user_id,
                delivered_at: receipt.delivered_at.map(Timestamp),
                read_at: receipt.read_at.map(Timestamp),
            })
            .collect())
    }

    /// Messages with their reactions and status (one query each, whatever
    /// the number of messages), file links issued as `links` says.
    pub(crate) async fn render_messages(
        &self,
        chat_id: &str,
        rows: &[MessageRow],
        links: LinksFor<'_>,
    ) -> CoreResult<Vec<Message>> {
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        let reactions = self.store.reactions(&ids).await?;
        let file_ids: Vec<String> = rows.iter().filter_map(|row| row.file_id.clone()).collect();
        let files = if file_ids.is_empty() {
            Vec::new()
        } else {
            self.store.files(&file_ids).await?
        };
        let board = views::StatusBoard::new(&self.store.members(chat_id).await?);
        Ok(rows
            .iter()
            .map(|row| {
                let status = board.status(row.seq, &row.sender_id);
                let file = row
                    .file_id
                    .as_ref()
                    .and_then(|id| files.iter().find(|file| &file.id == id))
                    .map(|file| self.files.file_ref(file, links.user(row)));
                views::message(row, views::reactions_of(&row.id, &reactions), status, file)
            })
            .collect())
    }
}

/// Whom the file links of rendered messages are issued to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LinksFor<'a> {
    /// The one user the rendering is for.
    User(&'a str),
    /// Each message's sender: a rendering for a whole chat, whose links the
    /// gateway issues again to each recipient (see `Files::relink`).
    Sender,
}

impl<'a> LinksFor<'a> {
    fn user(self, row: &'a MessageRow) -> &'a str {
        match self {
            LinksFor::User(user_id) => user_id,
            LinksFor::Sender => &row.sender_id,
        }
    }
}

impl Core {
    /// The message if the caller is a member of its chat now.
    pub(crate) async fn visible_message(
        &self,
        caller: &Caller,
        message_id: &str,
    ) -> CoreResult<MessageRow> {
        let row = self
            .store
            .message(message_id)
            .await?
            .ok_or_else(|| CoreError::not_found("message"))?;
        match self.store.member(&row.chat_id, &caller.user_id).await? {
            Some(_) => Ok(row),
            None => Err(CoreError::not_found("message")),
        }
    }

    /// A history cursor: `seq:N` or the id of a message of this chat.
    async fn cursor_seq(&self, chat_id: &str, field: &str, value: &str) -> CoreResult<i64> {
        if let Some(number) = value.strip_prefix("seq:") {
            let seq = number
                .parse::<i64>()
                .map_err(|_| CoreError::invalid(format!("{field}: seq:N needs a number N >= 0")))?;
            return counter(field, seq);
        }
        match self.store.message(value).await? {
            Some(row) if row.chat_id == chat_id => Ok(row.seq),
            _ => Err(CoreError::invalid(format!(
                "{field}: no such message in this chat"
            ))),
        }
    }

    async fn check_metadata(&self, chat_id: &str, mut metadata: Metadata) -> CoreResult<Metadata> {
        if let Some(reply_to) = &metadata.reply_to {
            match self.store.message(reply_to).await? {
                Some(target) if target.chat_id == chat_id => {}
                _ => {
                    return Err(CoreError::invalid(
                        "metadata.reply_to must name a message of the same chat",
                    ));
                }
            }
        }
        if let Some(mentions) = &mut metadata.mentions {
            mentions.sort();
            mentions.dedup();
            if mentions.len() > MAX_MENTIONS {
                return Err(CoreError::invalid(format!(
                    "metadata.mentions may name at most {MAX_MENTIONS} users"
                )));
            }
            for user_id in mentions.iter() {
                if self.store.member_role(chat_id, user_id).await?.is_none() {
                    return Err(CoreError::invalid(format!(
                        "metadata.mentions: {user_id} is not a member of this chat"
                    )));
                }
            }
        }
        Ok(metadata)
    }
}

/// The refusal of a plain message in an end-to-end encrypted chat.
pub(crate) fn encrypted() -> CoreError {
    CoreError::invalid("this chat is end-to-end encrypted: send type mls")
}

/// The refusal of an `mls` message in a plain chat.
pub(crate) fn not_encrypted() -> CoreError {
    CoreError::invalid("this chat is not end-to-end encrypted: type mls is for encrypted chats")
}

/// Text must say something; attachments may come without a caption. An
/// `mls` message's content is base64 ciphertext, bounded more loosely.
fn check_content(content: &str, message_type: MessageType) -> CoreResult<String> {
    let max = match message_type {
        MessageType::Mls => mls::groups::MAX_MLS_CONTENT_CHARS,
        _ => MAX_CONTENT_CHARS,
    };
    if content.chars().count() > max {
        return Err(CoreError::invalid(format!(
            "content must be at most {max} characters long"
        )));
    }
    if matches!(message_type, MessageType::Text | MessageType::Mls) && content.trim().is_empty() {
        return Err(CoreError::invalid("content must not be empty"));
    }
    no_control_characters("content", content, true)?;
    Ok(content.to_owned())
}

/// A reaction is one short emoji-like token: no spaces or control
/// characters, at most 64 bytes.
fn check_emoji(emoji: &str) -> CoreResult<()> {
    let valid = !emoji.is_empty()
        && emoji.len() <= 64
        && !emoji.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "emoji must be 1 to 64 bytes without spaces",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_needs_content_but_attachments_may_go_without() {
        assert!(check_content("  ", MessageType::Text).is_err());
        assert!(check_content("", MessageType::Image).is_ok());
        assert!(check_content(&"x".repeat(MAX_CONTENT_CHARS + 1), MessageType::Text).is_err());
    }

    #[test]
    fn emoji_are_short_tokens() {
        assert!(check_emoji("👍").is_ok());
        assert!(check_emoji("+1").is_ok());
        assert!(check_emoji("").is_err());
        assert!(check_emoji("a b").is_err());
        assert!(check_emoji(&"x".repeat(65)).is_err());
    }
}
