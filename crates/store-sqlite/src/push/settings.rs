//! [`NotificationSettings`]: members' per-chat notification settings,
//! users' own (do-not-disturb, keywords, previews), and the one query the
//! push planner runs per message: who of a chat could be pushed, with
//! everything that decides whether they are. Deciding is the caller's.
//!
//! No row means the defaults; setting one replaces it whole.

use crate::SqliteStore;
use crate::error::{Db, corrupt};
use async_trait::async_trait;
use natter_store::{
    ChatNotifyRow, NotificationSettings, NotifyLevel, RecipientSettings, StoreResult, UserNotifyRow,
};
use rusqlite::params;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// A stored level (`NULL`: the chat type's default), read with
/// [`NotifyLevel`]'s own names.
fn level(name: Option<String>) -> StoreResult<Option<NotifyLevel>> {
    let parsed = name.map(|name| name.parse::<NotifyLevel>()).transpose();
    parsed.map_err(|err| corrupt(err.to_string()))
}

fn chat_settings(row: &SqliteRow) -> StoreResult<ChatNotifyRow> {
    Ok(ChatNotifyRow {
        level: level(row.try_get("level").db()?)?,
        muted_until: row.try_get("muted_until").db()?,
    })
}

/// The user's settings from a row whose `keywords` is NULL when the user
/// has none stored (a LEFT JOIN that found nothing): the defaults.
fn user_settings(row: &SqliteRow) -> StoreResult<UserNotifyRow> {
    let Some(keywords) = row.try_get::<Option<String>, _>("keywords").db()? else {
        return Ok(UserNotifyRow::default());
    };
    Ok(UserNotifyRow {
        dnd_until: row.try_get("dnd_until").db()?,
        keywords: serde_json::from_str(&keywords)
            .map_err(|err| corrupt(format!("bad keywords {keywords:?}: {err}")))?,
        previews: row.try_get("previews").db()?,
    })
}

#[async_trait]
impl NotificationSettings for SqliteStore {
    async fn chat_notifications(&self, user_id: &str, chat_id: &str) -> StoreResult<ChatNotifyRow> {
        let found = sqlx::query(
            "SELECT level, muted_until FROM chat_notifications WHERE user_id = ?1 AND chat_id = ?2",
        )
        .bind(user_id)
        .bind(chat_id)
        .fetch_optional(&self.readers)
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
        let (user_id, chat_id) = (user_id.to_owned(), chat_id.to_owned());
        let (level, muted_until) = (
            settings.level.map(NotifyLevel::as_str),
            settings.muted_until,
        );
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO chat_notifications (user_id, chat_id, level, muted_until) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, chat_id) \
                     DO UPDATE SET level = excluded.level, muted_until = excluded.muted_until",
                )?
                .execute(params![user_id, chat_id, level, muted_until])?;
                Ok(())
            })
            .await
    }

    async fn user_notifications(&self, user_id: &str) -> StoreResult<UserNotifyRow> {
        let found = sqlx::query(
            "SELECT dnd_until, keywords, previews FROM user_notifications WHERE user_id = ?1",
        )
        .bind(user_id)
        .fetch_optional(&self.readers)
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
        let user_id = user_id.to_owned();
        let keywords = serde_json::to_string(&settings.keywords)
            .map_err(|err| corrupt(format!("cannot encode keywords: {err}")))?;
        let (dnd_until, previews) = (settings.dnd_until, settings.previews);
        self.writer
            .write_statement(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO user_notifications (user_id, dnd_until, keywords, previews) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) \
                     DO UPDATE SET dnd_until = excluded.dnd_until, keywords = excluded.keywords, \
                         previews = excluded.previews",
                )?
                .execute(params![user_id, dnd_until, keywords, previews])?;
                Ok(())
            })
            .await
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
             WHERE mb.chat_id = ?1 AND mb.user_id <> ?2 AND EXISTS ( \
                 SELECT 1 FROM push_subscriptions p JOIN sessions s ON s.id = p.session_id \
                 WHERE p.user_id = mb.user_id AND p.active = 1 \
                   AND s.revoked = 0 AND s.expires_at > ?3) \
             ORDER BY mb.user_id",
        )
        .bind(chat_id)
        .bind(except_user_id)
        .bind(now)
        .fetch_all(&self.readers)
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
