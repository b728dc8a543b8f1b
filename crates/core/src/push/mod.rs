//! Push notifications: natter sends Web Push itself (through
//! `natter-push`) to devices that are not looking. This module owns the
//! use cases around it: a device's subscriptions and their activation
//! ([`subscriptions`]), the notification settings ([`settings`]), who is
//! pushed what for a stored message ([`planner`]), and the task that
//! drains the durable queue ([`sender`]).
//!
//! The flow: an append of a message that may notify someone queues a push
//! job in the message's own transaction; the planner turns each job into
//! one delivery per subscription to push (or none); the sender posts
//! deliveries to the push services, retries what they refuse for now and
//! drops subscriptions they say are gone. Both stages are rows claimed
//! with leases, so a push owed for a stored message is sent even if the
//! process dies in between (at least once), and nodes of a cluster never
//! send one twice at the same time.

pub mod planner;
pub mod sender;
pub mod settings;
pub mod subscriptions;

use crate::{CoreError, CoreResult};
use natter_config::PushSettings;
use natter_push::{EndpointPolicy, PushClient, Vapid};
use natter_store::Secrets;
use std::time::Duration;
use tokio::sync::Notify;

/// Shortest `push.ttl_secs`: below, pushes would expire before a retry.
const MIN_TTL_SECS: u64 = 60;
/// Shortest `push.request_timeout_ms` a push service can answer within.
const MIN_TIMEOUT_MS: u64 = 100;
/// How long an activation push is tried: the device that subscribed is
/// waiting for it now, and an endpoint nobody reads is not worth a day.
pub(crate) const ACTIVATION_TTL_MS: i64 = 10 * 60 * 1000;

/// The name the VAPID private key is kept under among the shared secrets.
const VAPID_SECRET: &str = "vapid_private_key";

/// The VAPID private key every node of the cluster signs with: generated
/// by the first node that needs it and kept in the store. `None` while
/// push is off (no `push.vapid_subject`).
pub async fn vapid_key(
    settings: &PushSettings,
    store: &dyn Secrets,
) -> anyhow::Result<Option<Vec<u8>>> {
    if !settings.enabled() {
        return Ok(None);
    }
    let candidate = Vapid::generate_private_key();
    let key = store.shared_secret(VAPID_SECRET, &candidate).await?;
    Ok(Some(key))
}

/// Push as this node runs it: the client with the server's VAPID key, the
/// settings, and the bell that wakes the sender when work is queued.
pub struct Pusher {
    pub(crate) client: PushClient,
    pub(crate) public_key: String,
    pub(crate) policy: EndpointPolicy,
    pub(crate) settings: PushSettings,
    pub(crate) wake: Notify,
}

impl Pusher {
    /// `None` if push is off; an error if the subject or the key is bad.
    pub fn new(settings: &PushSettings, key: Option<&[u8]>) -> anyhow::Result<Option<Pusher>> {
        let Some(key) = key.filter(|_| settings.enabled()) else {
            return Ok(None);
        };
        if settings.ttl_secs < MIN_TTL_SECS || settings.request_timeout_ms < MIN_TIMEOUT_MS {
            anyhow::bail!(
                "push.ttl_secs must be at least {MIN_TTL_SECS} and push.request_timeout_ms at least {MIN_TIMEOUT_MS}"
            );
        }
        let vapid = Vapid::from_private_key(key, &settings.vapid_subject)?;
        let public_key = vapid.public_key();
        let policy = EndpointPolicy {
            allow_insecure: settings.allow_insecure_endpoints,
        };
        let client = PushClient::new(
            vapid,
            policy,
            Duration::from_millis(settings.request_timeout_ms.max(1)),
        )?;
        Ok(Some(Pusher {
            client,
            public_key,
            policy,
            settings: settings.clone(),
            wake: Notify::new(),
        }))
    }

    /// A delivery of `payload` to one subscription, to be queued.
    pub(crate) fn delivery(
        &self,
        subscription_id: &str,
        payload: Vec<u8>,
        topic: Option<String>,
        urgency: natter_push::Urgency,
        created_at: i64,
        expires_at: i64,
    ) -> natter_store::NewDelivery {
        natter_store::NewDelivery {
            id: crate::new_id(),
            subscription_id: subscription_id.to_owned(),
            payload,
            topic,
            urgency: urgency.as_str().to_owned(),
            created_at,
            expires_at,
        }
    }

    /// The push TTL in milliseconds.
    pub(crate) fn ttl_ms(&self) -> i64 {
        i64::try_from(self.settings.ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Wakes the sender: work was queued.
    pub(crate) fn ring(&self) {
        self.wake.notify_one();
    }
}

impl crate::Core {
    /// The push machinery, or a `not_found` telling the client that this
    /// server has push off.
    pub(crate) fn pusher(&self) -> CoreResult<&Pusher> {
        self.push.as_ref().ok_or_else(|| {
            CoreError::rejected(
                natter_proto::ErrorCode::NotFound,
                "push notifications are off on this server (push.vapid_subject is not set)",
            )
        })
    }

    /// True if this server sends pushes (the append then owes one).
    pub fn push_enabled(&self) -> bool {
        self.push.is_some()
    }
}

/// The `Topic` of a chat's message pushes: its id without hyphens (32
/// base64url characters, as RFC 8030 allows), so a newer push of the chat
/// replaces an undelivered older one.
pub(crate) fn chat_topic(chat_id: &str) -> String {
    chat_id.chars().filter(|c| *c != '-').take(32).collect()
}

/// The `Topic` of a chat's `read` pushes: a newer one replaces an older
/// one, but never a message push (which may be of a message after the
/// read one). 32 base64url characters of a digest of the chat id.
pub(crate) fn read_topic(chat_id: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("read:{chat_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(digest)
        .chars()
        .take(32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_32_base64url_characters_and_reads_have_their_own() {
        let chat_id = "0194f7a2-6b1c-7d3e-9f00-123456789abc";
        let (message, read) = (chat_topic(chat_id), read_topic(chat_id));
        for topic in [&message, &read] {
            assert_eq!(topic.len(), 32);
            assert!(
                topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            );
        }
        assert_ne!(message, read);
        assert_eq!(read, read_topic(chat_id));
    }
}
