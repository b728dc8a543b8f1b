//! Notification settings: per chat (`all` / `mentions` / `none`, muted
//! until) and per user (do not disturb until, keywords that count as
//! mentions, previews). They work whether or not this server has push on,
//! so that a client can show and keep them either way.

use crate::{Caller, Core, CoreError, CoreResult, MAX_COUNTER, bounded_text};
use natter_proto::Timestamp;
use natter_proto::chats::ChatType;
use natter_proto::push::{
    ChatNotifications, MyNotifications, NotificationLevel, UpdateMyNotifications,
};
use natter_store::{ChatNotifyRow, NotifyLevel, UserNotifyRow};

/// At most this many keywords per user.
pub const MAX_KEYWORDS: usize = 32;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_LEN: usize = 64;

/// The level a member has in a chat of this type until they choose one:
/// everything in conversations, mentions only in broadcast channels.
pub fn default_level(chat_type: ChatType) -> NotifyLevel {
    match chat_type {
        ChatType::Direct | ChatType::Group => NotifyLevel::All,
        ChatType::Channel => NotifyLevel::Mentions,
    }
}

impl Core {
    /// The caller's settings for a chat they are a member of.
    pub async fn chat_notifications(
        &self,
        caller: &Caller,
        chat_id: &str,
    ) -> CoreResult<ChatNotifications> {
        let (chat_type, _) = self.role_in(chat_id, &caller.user_id).await?;
        let row = self
            .store
            .chat_notifications(&caller.user_id, chat_id)
            .await?;
        Ok(chat_view(&row, chat_type))
    }

    pub async fn set_chat_notifications(
        &self,
        caller: &Caller,
        chat_id: &str,
        settings: ChatNotifications,
    ) -> CoreResult<ChatNotifications> {
        let (chat_type, _) = self.role_in(chat_id, &caller.user_id).await?;
        let row = ChatNotifyRow {
            level: Some(store_level(settings.level)),
            muted_until: settings
                .muted_until
                .map(|at| time_setting("muted_until", at))
                .transpose()?,
        };
        self.store
            .set_chat_notifications(&caller.user_id, chat_id, &row)
            .await?;
        // The summary's `muted` may have changed: the caller's other devices.
        self.announce_own_summary_or_log(chat_id, &caller.user_id)
            .await;
        Ok(chat_view(&row, chat_type))
    }

    pub async fn my_notifications(&self, caller: &Caller) -> CoreResult<MyNotifications> {
        let row = self.store.user_notifications(&caller.user_id).await?;
        Ok(user_view(row))
    }

    /// Changes the fields given; keywords are trimmed, lower-cased and
    /// deduplicated.
    pub async fn update_my_notifications(
        &self,
        caller: &Caller,
        update: UpdateMyNotifications,
    ) -> CoreResult<MyNotifications> {
        let mut row = self.store.user_notifications(&caller.user_id).await?;
        if let Some(dnd_until) = update.dnd_until {
            row.dnd_until = dnd_until
                .map(|at| time_setting("dnd_until", at))
                .transpose()?;
        }
        if let Some(keywords) = update.keywords {
            row.keywords = normalize_keywords(&keywords)?;
        }
        if let Some(previews) = update.previews {
            row.previews = previews;
        }
        self.store
            .set_user_notifications(&caller.user_id, &row)
            .await?;
        Ok(user_view(row))
    }
}

/// A point in time a client sets, within what JSON numbers hold.
fn time_setting(field: &str, at: Timestamp) -> CoreResult<i64> {
    if !(0..=MAX_COUNTER).contains(&at.millis()) {
        return Err(CoreError::invalid(format!(
            "{field} must be a time after 1970"
        )));
    }
    Ok(at.millis())
}

/// Keywords as they are matched: trimmed, lower-case, one word each,
/// without repeats.
fn normalize_keywords(keywords: &[String]) -> CoreResult<Vec<String>> {
    if keywords.len() > MAX_KEYWORDS {
        return Err(CoreError::invalid(format!(
            "keywords: at most {MAX_KEYWORDS}"
        )));
    }
    let mut normalized: Vec<String> = Vec::with_capacity(keywords.len());
    for keyword in keywords {
        let keyword = bounded_text("keywords", keyword, 1, MAX_KEYWORD_LEN)?.to_lowercase();
        if keyword.split_whitespace().count() != 1 {
            return Err(CoreError::invalid("keywords: each is one word (no spaces)"));
        }
        if !normalized.contains(&keyword) {
            normalized.push(keyword);
        }
    }
    Ok(normalized)
}

fn chat_view(row: &ChatNotifyRow, chat_type: ChatType) -> ChatNotifications {
    ChatNotifications {
        level: wire_level(row.level.unwrap_or_else(|| default_level(chat_type))),
        muted_until: row.muted_until.map(Timestamp),
    }
}

fn user_view(row: UserNotifyRow) -> MyNotifications {
    MyNotifications {
        dnd_until: row.dnd_until.map(Timestamp),
        keywords: row.keywords,
        previews: row.previews,
    }
}

fn store_level(level: NotificationLevel) -> NotifyLevel {
    match level {
        NotificationLevel::All => NotifyLevel::All,
        NotificationLevel::Mentions => NotifyLevel::Mentions,
        NotificationLevel::None => NotifyLevel::None,
    }
}

fn wire_level(level: NotifyLevel) -> NotificationLevel {
    match level {
        NotifyLevel::All => NotificationLevel::All,
        NotifyLevel::Mentions => NotificationLevel::Mentions,
        NotifyLevel::None => NotificationLevel::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_single_lower_case_words_without_repeats() {
        let keywords = ["Deploy".to_owned(), " deploy ".to_owned(), "ops".to_owned()];
        assert_eq!(normalize_keywords(&keywords).unwrap(), ["deploy", "ops"]);
        assert!(normalize_keywords(&["two words".to_owned()]).is_err());
        assert!(normalize_keywords(&[" ".to_owned()]).is_err());
        let many: Vec<String> = (0..=MAX_KEYWORDS).map(|i| format!("k{i}")).collect();
        assert!(normalize_keywords(&many).is_err());
    }

    #[test]
    fn channels_default_to_mentions_and_conversations_to_all() {
        assert_eq!(default_level(ChatType::Direct), NotifyLevel::All);
        assert_eq!(default_level(ChatType::Group), NotifyLevel::All);
        assert_eq!(default_level(ChatType::Channel), NotifyLevel::Mentions);
    }
}
