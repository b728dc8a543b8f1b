//! Who is pushed what for a stored message. A push job (queued with the
//! message) becomes one delivery per active subscription of each member
//! who should hear of it: not the sender, not one who has read it already
//! (a plan that runs late), not `online` anywhere (no
//! connection, or all of them away), not in do-not-disturb, not muted in
//! the chat, and whose level in the chat lets this message through
//! (`mentions`: the user's id in `metadata.mentions`, or one of their
//! keywords as a word of the text).
//!
//! The decision itself ([`decide`]) and the payload ([`payload`]) are
//! plain functions of the facts, so they are tested without a server.

use super::{Pusher, chat_topic, settings::default_level};
use crate::{Core, CoreResult, now_ms};
use natter_proto::chats::ChatType;
use natter_proto::messages::MessageType;
use natter_proto::push::{PushPayload, PushSender};
use natter_proto::users::PresenceStatus;
use natter_push::Urgency;
use natter_store::{ChatRow, MessageRow, NotifyLevel, PushJob, RecipientSettings};

/// Longest `body` of a message push, in characters.
pub const MAX_BODY_CHARS: usize = 200;

/// Why a member is pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The message mentions them (pushed with high urgency).
    pub mentioned: bool,
}

/// Whether `recipient` is pushed for `message` in a chat of `chat_type`,
/// given their presence, at `now`.
pub fn decide(
    recipient: &RecipientSettings,
    chat_type: ChatType,
    message: &MessageRow,
    presence: PresenceStatus,
    now: i64,
) -> Option<Verdict> {
    let later = |until: Option<i64>| until.is_some_and(|until| until > now);
    if message.deleted
        || message.sender_id == recipient.user_id
        || recipient.read_seq >= message.seq
        || presence == PresenceStatus::Online
        || later(recipient.user.dnd_until)
        || later(recipient.chat.muted_until)
    {
        return None;
    }
    let mentioned = mentions(recipient, message);
    match recipient
        .chat
        .level
        .unwrap_or_else(|| default_level(chat_type))
    {
        NotifyLevel::All => Some(Verdict { mentioned }),
        NotifyLevel::Mentions if mentioned => Some(Verdict { mentioned }),
        NotifyLevel::Mentions | NotifyLevel::None => None,
    }
}

/// The message names the recipient: their id in `metadata.mentions`, or a
/// keyword of theirs as a whole word of the text (any case).
fn mentions(recipient: &RecipientSettings, message: &MessageRow) -> bool {
    let by_id = message
        .metadata
        .mentions
        .as_ref()
        .is_some_and(|ids| ids.contains(&recipient.user_id));
    if by_id || message.message_type != MessageType::Text || recipient.user.keywords.is_empty() {
        return by_id;
    }
    let text = message.content.to_lowercase();
    recipient
        .user
        .keywords
        .iter()
        .any(|keyword| contains_word(&text, keyword))
}

/// True if `word` occurs in `text` with no letter, digit or `_` right
/// before or after it.
fn contains_word(text: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// What a push of `message` shows: with previews, the chat's name (a
/// direct chat: the sender's), the sender's name and a body; without,
/// ids only.
pub struct Preview<'a> {
    pub chat: &'a ChatRow,
    pub sender_name: &'a str,
    /// The text, a file's name, "Image" or "Voice message".
    pub body: &'a str,
}

/// The plaintext of one message push for a recipient.
pub fn payload(
    preview: &Preview<'_>,
    message: &MessageRow,
    recipient: &RecipientSettings,
) -> PushPayload {
    let previews = recipient.user.previews;
    let chat_name = match preview.chat.chat_type {
        ChatType::Direct => Some(preview.sender_name.to_owned()),
        ChatType::Group | ChatType::Channel => preview.chat.name.clone(),
    };
    PushPayload::Message {
        chat_id: message.chat_id.clone(),
        chat_name: chat_name.filter(|_| previews),
        message_id: message.id.clone(),
        seq: message.seq,
        sender: PushSender {
            user_id: message.sender_id.clone(),
            display_name: previews.then(|| preview.sender_name.to_owned()),
        },
        body: previews.then(|| truncate(preview.body, MAX_BODY_CHARS)),
        unread_count: (message.seq - recipient.read_seq).max(1),
    }
}

/// `text` cut to at most `max` characters, with an ellipsis if cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

impl Core {
    /// Turns one job into its deliveries (stored, and the job deleted, in
    /// one transaction); returns how many.
    pub(crate) async fn plan_push(&self, pusher: &Pusher, job: &PushJob) -> CoreResult<usize> {
        let now = now_ms();
        let message = self.store.message(&job.message_id).await?;
        let chat = self.store.chat(&job.chat_id).await?;
        let (Some(message), Some(chat)) = (message, chat) else {
            self.store.plan_job(job, &[], &[]).await?;
            return Ok(0);
        };
        let recipients = if message.deleted {
            Vec::new()
        } else {
            self.store
                .recipients(&chat.id, &message.sender_id, now)
                .await?
        };
        let ids: Vec<String> = recipients.iter().map(|r| r.user_id.clone()).collect();
        let statuses = self.presence.statuses(&ids).await;
        let chosen: Vec<(&RecipientSettings, Verdict)> = recipients
            .iter()
            .zip(statuses)
            .filter_map(|(recipient, presence)| {
                decide(recipient, chat.chat_type, &message, presence, now)
                    .map(|verdict| (recipient, verdict))
            })
            .collect();
        if chosen.is_empty() {
            self.store.plan_job(job, &[], &[]).await?;
            return Ok(0);
        }
        let chosen_ids: Vec<String> = chosen.iter().map(|(r, _)| r.user_id.clone()).collect();
        let targets = self.store.push_targets(&chosen_ids, now).await?;
        let sender_name = self
            .store
            .user_by_id(&message.sender_id)
            .await?
            .map(|user| user.display_name)
            .unwrap_or_default();
        let body = self.push_body(&message).await?;
        let preview = Preview {
            chat: &chat,
            sender_name: &sender_name,
            body: &body,
        };
        let expires_at = job.created_at.saturating_add(pusher.ttl_ms());
        let mut deliveries = Vec::with_capacity(targets.len());
        let mut shown = Vec::new();
        for (recipient, verdict) in &chosen {
            let plaintext = serde_json::to_vec(&payload(&preview, &message, recipient))
                .map_err(anyhow::Error::from)?;
            let urgency = if verdict.mentioned || chat.chat_type == ChatType::Direct {
                Urgency::High
            } else {
                Urgency::Normal
            };
            let before = deliveries.len();
            deliveries.extend(
                targets
                    .iter()
                    .filter(|target| target.user_id == recipient.user_id)
                    .map(|target| {
                        pusher.delivery(
                            &target.id,
                            plaintext.clone(),
                            Some(chat_topic(&chat.id)),
                            urgency,
                            job.created_at,
                            expires_at,
                        )
                    }),
            );
            if deliveries.len() > before {
                shown.push(recipient.user_id.clone());
            }
        }
        self.store.plan_job(job, &deliveries, &shown).await?;
        Ok(deliveries.len())
    }

    /// What a push says of a message with previews on.
    async fn push_body(&self, message: &MessageRow) -> CoreResult<String> {
        Ok(match message.message_type {
            MessageType::Text => message.content.clone(),
            MessageType::Image => "Image".into(),
            MessageType::Voice => "Voice message".into(),
            MessageType::File => match &message.file_id {
                Some(file_id) => self
                    .store
                    .file(file_id)
                    .await?
                    .map_or_else(|| "File".into(), |file| file.name),
                None => "File".into(),
            },
            // Ciphertext: the server cannot read it and never says more.
            MessageType::Mls => "New message".into(),
            MessageType::Call => match &message.metadata.call {
                Some(call) if call.video => "Missed video call".into(),
                _ => "Missed voice call".into(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_proto::messages::Metadata;
    use natter_store::{ChatNotifyRow, UserNotifyRow};

    const NOW: i64 = 1_000_000;

    fn recipient(user_id: &str) -> RecipientSettings {
        RecipientSettings {
            user_id: user_id.into(),
            chat: ChatNotifyRow::default(),
            user: UserNotifyRow::default(),
            read_seq: 3,
        }
    }

    fn text(content: &str) -> MessageRow {
        MessageRow {
            id: "m1".into(),
            chat_id: "c1".into(),
            seq: 5,
            version: 5,
            sender_id: "ann".into(),
            message_type: MessageType::Text,
            content: content.into(),
            file_id: None,
            metadata: Metadata::default(),
            client_msg_id: None,
            created_at: NOW,
            edited_at: None,
            deleted: false,
        }
    }

    fn pushed(r: &RecipientSettings, chat: ChatType, m: &MessageRow) -> Option<Verdict> {
        decide(r, chat, m, PresenceStatus::Offline, NOW)
    }

    #[test]
    fn a_member_who_read_the_message_already_is_not_pushed() {
        let mut bob = recipient("bob");
        bob.read_seq = 5;
        assert!(pushed(&bob, ChatType::Direct, &text("hi")).is_none());
    }

    #[test]
    fn offline_and_away_members_are_pushed_online_ones_and_the_sender_not() {
        let bob = recipient("bob");
        let message = text("hi");
        assert!(pushed(&bob, ChatType::Group, &message).is_some());
        assert!(decide(&bob, ChatType::Group, &message, PresenceStatus::Away, NOW).is_some());
        assert!(decide(&bob, ChatType::Group, &message, PresenceStatus::Online, NOW).is_none());
        assert!(pushed(&recipient("ann"), ChatType::Group, &message).is_none());
        let mut deleted = text("hi");
        deleted.deleted = true;
        assert!(pushed(&bob, ChatType::Group, &deleted).is_none());
    }

    #[test]
    fn do_not_disturb_and_mute_hold_until_their_time() {
        let message = text("hi");
        let mut bob = recipient("bob");
        bob.user.dnd_until = Some(NOW + 1);
        assert!(pushed(&bob, ChatType::Direct, &message).is_none());
        bob.user.dnd_until = Some(NOW);
        assert!(pushed(&bob, ChatType::Direct, &message).is_some());
        bob.chat.muted_until = Some(NOW + 60_000);
        assert!(pushed(&bob, ChatType::Direct, &message).is_none());
    }

    #[test]
    fn levels_let_through_everything_mentions_or_nothing() {
        let mut bob = recipient("bob");
        let plain = text("lunch?");
        let mut mention = text("lunch?");
        mention.metadata.mentions = Some(vec!["bob".into()]);
        // Channels default to mentions.
        assert!(pushed(&bob, ChatType::Channel, &plain).is_none());
        assert_eq!(
            pushed(&bob, ChatType::Channel, &mention),
            Some(Verdict { mentioned: true })
        );
        bob.chat.level = Some(NotifyLevel::All);
        assert!(pushed(&bob, ChatType::Channel, &plain).is_some());
        bob.chat.level = Some(NotifyLevel::None);
        assert!(pushed(&bob, ChatType::Channel, &mention).is_none());
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let mut bob = recipient("bob");
        bob.chat.level = Some(NotifyLevel::Mentions);
        bob.user.keywords = vec!["deploy".into(), "node.js".into()];
        assert!(pushed(&bob, ChatType::Group, &text("Deploy now!")).is_some());
        assert!(pushed(&bob, ChatType::Group, &text("who broke node.js?")).is_some());
        assert!(pushed(&bob, ChatType::Group, &text("redeploy it")).is_none());
        assert!(pushed(&bob, ChatType::Group, &text("deployment")).is_none());
        assert!(pushed(&bob, ChatType::Group, &text("deploy_x")).is_none());
    }

    #[test]
    fn payloads_carry_names_and_text_only_with_previews() {
        let chat = ChatRow {
            id: "c1".into(),
            chat_type: ChatType::Group,
            name: Some("Ops".into()),
            created_by: "ann".into(),
            created_at: 0,
            last_seq: 5,
            last_version: 5,
            last_activity_at: 0,
            profile: Default::default(),
            e2ee: false,
            mls_epoch: 0,
        };
        let long = "x".repeat(MAX_BODY_CHARS + 50);
        let message = text(&long);
        let preview = Preview {
            chat: &chat,
            sender_name: "Ann",
            body: &message.content,
        };
        let mut bob = recipient("bob");
        let PushPayload::Message {
            chat_name,
            sender,
            body,
            unread_count,
            ..
        } = payload(&preview, &message, &bob)
        else {
            panic!("a message payload");
        };
        assert_eq!(chat_name.as_deref(), Some("Ops"));
        assert_eq!(sender.display_name.as_deref(), Some("Ann"));
        assert_eq!(body.unwrap().chars().count(), MAX_BODY_CHARS);
        assert_eq!(unread_count, 2);
        bob.user.previews = false;
        let json = serde_json::to_string(&payload(&preview, &message, &bob)).unwrap();
        assert!(!json.contains("Ann") && !json.contains("Ops") && !json.contains("xxx"));
        assert!(json.contains(r#""user_id":"ann""#), "{json}");
    }
}
