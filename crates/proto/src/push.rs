//! Push notifications: the server's VAPID key, a device's Web Push
//! subscriptions, the notification settings of a user and of their chats,
//! and the payloads natter pushes (encrypted; decrypted by the device).

use crate::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// `GET /api/v1/push/vapid`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct VapidKey {
    /// base64url of the uncompressed P-256 point: the browser's
    /// `applicationServerKey`.
    pub public_key: String,
}

/// The keys of a `PushSubscription`, base64url.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `POST /api/v1/push/subscriptions`: the browser's `PushSubscription`
/// as `toJSON()` gives it (`expirationTime` is ignored).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewPushSubscription {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

/// Whether a subscription is pushed to yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Waiting for the activation token pushed to it.
    Pending,
    Active,
}

/// A stored subscription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushSubscription {
    pub subscription_id: String,
    pub endpoint: String,
    /// The device (session) it belongs to; it ends with it.
    pub device_id: String,
    pub status: SubscriptionStatus,
    pub created_at: Timestamp,
}

/// `GET /api/v1/push/subscriptions`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionList {
    pub subscriptions: Vec<PushSubscription>,
}

/// `POST /api/v1/push/subscriptions/{subscription_id}/activate`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivateSubscription {
    /// The token of the `activate` push.
    pub token: String,
}

/// How much of a chat a member is pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationLevel {
    All,
    Mentions,
    None,
}

/// `GET|PUT /api/v1/chats/{chat_id}/notifications`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatNotifications {
    /// Default `all` for direct chats and groups, `mentions` for channels.
    pub level: NotificationLevel,
    /// No pushes from this chat until then.
    #[serde(default)]
    pub muted_until: Option<Timestamp>,
}

/// `GET /api/v1/users/me/notifications`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MyNotifications {
    /// Do not disturb: no pushes at all until then.
    pub dnd_until: Option<Timestamp>,
    /// Words that count as mentions of you (whole words, any case).
    pub keywords: Vec<String>,
    /// Whether pushes carry the text and the sender's name.
    pub previews: bool,
}

/// `PATCH /api/v1/users/me/notifications`: absent fields stay as they are;
/// `"dnd_until": null` ends do-not-disturb.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateMyNotifications {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Timestamp>)]
    pub dnd_until: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previews: Option<bool>,
}

/// A field that is present (`Some`, possibly `Some(None)` for `null`)
/// rather than absent (`None`, through `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Who sent a pushed message; `display_name` only with previews on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushSender {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// What a device decrypts from a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushPayload {
    /// Proves the subscription reaches its owner: post the token to
    /// `.../activate`.
    Activate {
        subscription_id: String,
        token: String,
    },
    /// A new message in a chat.
    Message {
        chat_id: String,
        /// The chat's name (a direct chat: the sender's name); `null`
        /// with previews off.
        chat_name: Option<String>,
        message_id: String,
        seq: i64,
        sender: PushSender,
        /// At most 200 characters of the text, a file's name, "Image"
        /// or "Voice message"; only with previews on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Messages of others after the user's read marker.
        unread_count: i64,
    },
    /// The user read the chat up to `seq` on some device: clear its
    /// notifications.
    Read { chat_id: String, seq: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_null_from_absent() {
        let absent: UpdateMyNotifications = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.dnd_until, None);
        let cleared: UpdateMyNotifications = serde_json::from_str(r#"{"dnd_until":null}"#).unwrap();
        assert_eq!(cleared.dnd_until, Some(None));
        let set: UpdateMyNotifications =
            serde_json::from_str(r#"{"dnd_until":"2026-12-04T10:00:00.000Z"}"#).unwrap();
        assert!(matches!(set.dnd_until, Some(Some(_))));
    }

    #[test]
    fn payloads_are_tagged_by_type() {
        let read = serde_json::to_value(PushPayload::Read {
            chat_id: "c".into(),
            seq: 3,
        })
        .unwrap();
        assert_eq!(
            read,
            serde_json::json!({"type":"read","chat_id":"c","seq":3})
        );
    }
}
