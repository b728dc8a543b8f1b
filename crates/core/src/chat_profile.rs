//! A group's or channel's profile: name, topic (one line), description
//! (several lines) and avatar (an image the editor uploaded), changed by
//! its owner or admins in one call and announced as `chat.updated`. The
//! avatar is served to members as a signed thumbnail link (`avatar_url`);
//! the store keeps its file from the orphan sweep and lets members read it.

use super::{Caller, Core, CoreError, CoreResult, bounded_text, no_control_characters};
use natter_bus::Envelope;
use natter_proto::chats::{Chat, ChatSummary, ChatType, UpdateChat};
use natter_proto::events::ServerEvent;
use natter_store::{ChatRow, ChatUpdate};

/// Longest topic, in characters (one line).
pub const MAX_TOPIC_CHARS: usize = 250;
/// Longest description, in characters (lines allowed).
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

impl Core {
    /// Changes the fields `update` gives (`null` or `""` clears topic,
    /// description and avatar) and answers the chat as the caller sees it.
    /// `invalid` for an empty update, a direct chat, a field out of its
    /// limits or an avatar that is not an image; `not_found` for a chat the
    /// caller is not in or an avatar file that is not theirs; `forbidden`
    /// for plain members.
    pub async fn update_chat(
        &self,
        caller: &Caller,
        chat_id: &str,
        update: UpdateChat,
    ) -> CoreResult<Chat> {
        if update.is_empty() {
            return Err(CoreError::invalid(
                "give at least one of name, topic, description, avatar_file_id",
            ));
        }
        let (chat, member) = self.membership(chat_id, &caller.user_id).await?;
        if chat.chat_type == ChatType::Direct {
            return Err(CoreError::invalid(
                "direct chats have no name, topic, description or avatar to change",
            ));
        }
        if !member.role.can_manage() {
            return Err(CoreError::forbidden(
                "only the owner and admins can change a chat's profile",
            ));
        }
        let change = ChatUpdate {
            name: match &update.name {
                Some(name) => Some(bounded_text("name", name, 1, 100)?),
                None => None,
            },
            topic: update
                .topic
                .as_ref()
                .map(|topic| check_topic(topic.as_deref()))
                .transpose()?,
            description: update
                .description
                .as_ref()
                .map(|text| check_description(text.as_deref()))
                .transpose()?,
            avatar_file_id: match &update.avatar_file_id {
                Some(file_id) => Some(self.chat_avatar(caller, file_id.as_deref()).await?),
                None => None,
            },
        };
        self.store.update_chat(chat_id, &change).await?;
        let detail = self.chat(caller, chat_id).await?;
        self.bus.publish(Envelope::to_chat(
            chat_id,
            &ServerEvent::ChatUpdated {
                // To the whole chat: without the editor's own marks, nor
                // their last message (it skips what they hid for
                // themselves, which others must not learn).
                chat: ChatSummary {
                    mine: None,
                    last_message: None,
                    ..detail.summary.clone()
                },
            },
        ));
        Ok(detail)
    }

    /// The avatar's thumbnail link, issued to the member it is shown to:
    /// it works while that member may read the file (members of the chat
    /// may, as long as it is the chat's avatar).
    pub(crate) fn chat_avatar_url(&self, chat: &ChatRow, user_id: &str) -> Option<String> {
        chat.profile.avatar_file_id.as_ref().map(|file_id| {
            self.files
                .link(file_id, crate::blob::Variant::Thumb, user_id)
        })
    }

    /// A new avatar: an image the caller uploaded, as for their own
    /// avatar (another's file is `not_found`, a non-image `invalid`);
    /// `None` or `""` clears.
    async fn chat_avatar(
        &self,
        caller: &Caller,
        file_id: Option<&str>,
    ) -> CoreResult<Option<String>> {
        let Some(file_id) = file_id.filter(|id| !id.is_empty()) else {
            return Ok(None);
        };
        match self.store.file(file_id).await? {
            Some(file) if file.owner_id == caller.user_id => {
                if file.thumbnail_mime.is_none() {
                    return Err(CoreError::invalid("avatar_file_id must name an image"));
                }
                Ok(Some(file.id))
            }
            _ => Err(CoreError::not_found("file")),
        }
    }
}

/// A topic is one line of at most [`MAX_TOPIC_CHARS`], trimmed; empty
/// clears it.
fn check_topic(topic: Option<&str>) -> CoreResult<Option<String>> {
    let topic = bounded_text("topic", topic.unwrap_or_default(), 0, MAX_TOPIC_CHARS)?;
    Ok(Some(topic).filter(|topic| !topic.is_empty()))
}

/// A description may have several lines, at most
/// [`MAX_DESCRIPTION_CHARS`] characters, trimmed; empty clears it.
fn check_description(text: Option<&str>) -> CoreResult<Option<String>> {
    let text = text.unwrap_or_default().trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(CoreError::invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters long"
        )));
    }
    no_control_characters("description", text, true)?;
    Ok(Some(text.to_owned()).filter(|text| !text.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_one_bounded_line_and_blank_clears() {
        assert_eq!(
            check_topic(Some("  Plans ")).unwrap().as_deref(),
            Some("Plans")
        );
        assert_eq!(check_topic(Some("   ")).unwrap(), None);
        assert_eq!(check_topic(None).unwrap(), None);
        assert!(check_topic(Some("two\nlines")).is_err());
        assert!(check_topic(Some(&"t".repeat(MAX_TOPIC_CHARS))).is_ok());
        let long = check_topic(Some(&"t".repeat(MAX_TOPIC_CHARS + 1))).unwrap_err();
        assert!(long.to_string().contains("topic"), "{long}");
    }

    #[test]
    fn descriptions_may_span_lines_within_their_limit() {
        assert_eq!(
            check_description(Some("line one\nline two\n"))
                .unwrap()
                .as_deref(),
            Some("line one\nline two")
        );
        assert_eq!(check_description(Some("")).unwrap(), None);
        assert!(check_description(Some("a\u{0}b")).is_err());
        let long = check_description(Some(&"d".repeat(MAX_DESCRIPTION_CHARS + 1))).unwrap_err();
        assert!(long.to_string().contains("description"), "{long}");
    }
}
