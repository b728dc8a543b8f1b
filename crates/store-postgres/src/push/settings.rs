//! [`NotificationSettings`]: members' per-chat notification settings,
//! users' own (do-not-disturb, keywords, previews), and the one query the
//! push planner runs per message: who of a chat could be pushed, with
//! everything that decides whether they are. Deciding is the caller's.
//!
//! No row means the defaults; setting one replaces it whole.

use crate::PgStore;
use crate::error::{Db, corrupt};
use async_trait::async_trait;
use natter_store::{
    ChatNotifyRow, NotificationSettings, NotifyLevel, RecipientSettings, StoreResult, UserNotifyRow,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// A stored level (`NULL`: the chat type's default), read with
/// [`NotifyLevel`]'s own names.
fn level(name: Option<String>) -> StoreResult<Option<NotifyLevel>> {
    let parsed = name.map(|name| name.parse::<NotifyLevel>()).transpose();
    parsed.map_err(|err| corrupt(err.to_string()))
}

fn chat_settings(row: &PgRow) -> StoreResult<ChatNotifyRow> {
    Ok(ChatNotifyRow {
        level: level(row.try_get("level").db()?)?,
        muted_until: row.try_get("muted_until").db()?,
    })
}

/// The user's settings from a row whose `keywords` is NULL when the user
/// has none stored (a LEFT JOIN that found nothing): the defaults.
fn user_settings(row: &PgRow) -> StoreResult<UserNotifyRow> {
    let Some(keywords) = row.try_get::<Option<Vec<String>>, _>("keywords").db()? else {
        return Ok(UserNotifyRow::default());
    };
    Ok(UserNotifyRow {
        dnd_until: row.try_get("dnd_until").db()?,
        keywords,
        previews: row.try_get("previews").db()?,
    })
}

#[async_trait]
impl NotificationSettings for PgStore {
    async fn chat_notifications(&self, user_id: &str, chat_id: &str) -> StoreResult<ChatNotifyRow> {
        let found = sqlx::query(
            "SELECT level, muted_until FROM chat_notifications WHERE user_id = $1 AND chat_id = $2",
        )
        .bind(user_id)
        .bind(chat_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found
            .as_ref()
            .map_or_else(|| Ok(ChatNotifyRow::default()), chat_settings)
    }

    /// `NotFound` if the user or the chat does not exist.
    async fn set_chat_notifications(
        &self,
        user_id: &str,
        chat_id: &str,
        settings: &ChatNotifyRow,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO chat_notifications (user_id, chat_id, level, muted_until) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, chat_id) \
             DO UPDATE SET level = EXCLUDED.level, muted_until = EXCLUDED.muted_until",
        )
        .bind(user_id)
        .bind(chat_id)
        .bind(settings.level.map(NotifyLevel::as_str))
        .bind(settings.muted_until)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn user_notifications(&self, user_id: &str) -> StoreResult<UserNotifyRow> {
        let found = sqlx::query(
            "SELECT dnd_until, keywords, previews FROM user_notifications WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        found
            .as_ref()
            .map_or_else(|| Ok(UserNotifyRow::default()), user_settings)
    }

    /// `NotFound` if the user does not exist.
    async fn set_user_notifications(
        &self,
        user_id: &str,
        settings: &UserNotifyRow,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_notifications (user_id, dnd_until, keywords, previews) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) \
             DO UPDATE SET dnd_until = EXCLUDED.dnd_until, keywords = EXCLUDED.keywords, \
                 previews = EXCLUDED.previews",
        )
        .bind(user_id)
        .bind(settings.dnd_until)
        .bind(&settings.keywords[..])
        .bind(settings.previews)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    /// The chat's members (by the `members` primary key), each with two
    /// settings lookups by primary key and one probe of their
    /// subscriptions (by user) for an active one on a live device.
    async fn recipients(
        &self,
        chat_id: &str,
        except_user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<RecipientSettings>> {
        let found = sqlx::query(
            "SELECT mb.user_id, mb.read_seq, cn.level, cn.muted_until, \
                 un.dnd_until, un.keywords, un.previews \
             FROM members mb \
             LEFT JOIN chat_notifications cn ON cn.user_id = mb.user_id AND cn.chat_id = mb.chat_id \
             LEFT JOIN user_notifications un ON un.user_id = mb.user_id \
             WHERE mb.chat_id = $1 AND mb.user_id <> $2 AND EXISTS ( \
                 SELECT 1 FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id \
                 WHERE p.user_id = mb.user_id AND p.active \
                   AND NOT s.revoked AND s.expires_at > $3) \
             ORDER BY mb.user_id",
        )
        .bind(chat_id)
        .bind(except_user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .db()?;
        found
            .iter()
            .map(|row| {
                Ok(RecipientSettings {
                    user_id: row.try_get("user_id").db()?,
                    chat: chat_settings(row)?,
                    user: user_settings(row)?,
                    read_seq: row.try_get("read_seq").db()?,
                })
            })
            .collect()
    }
}
