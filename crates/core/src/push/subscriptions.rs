//! A device's Web Push subscriptions: posted with the browser's keys
//! (checked against SSRF before anything is stored), proven by an
//! activation push whose token the device posts back, listed and deleted
//! by their user. Nothing but the activation push goes to a subscription
//! before it is active, so natter never pushes to an endpoint its owner
//! cannot read.

use super::{ACTIVATION_TTL_MS, read_topic};
use crate::tokens::{hash_refresh_token, new_refresh_token};
use crate::{Caller, Core, CoreError, CoreResult, new_id, now_ms};
use natter_proto::Timestamp;
use natter_proto::push::{NewPushSubscription, PushPayload, PushSubscription, SubscriptionStatus};
use natter_push::Urgency;
use natter_store::{Activation, NewDelivery, NewSubscription, Subscribed, SubscriptionRow};

/// Most subscriptions one user keeps (every browser and phone of theirs):
/// each costs a row and an activation push to a URL the client chose.
pub const MAX_SUBSCRIPTIONS_PER_USER: usize = 20;

/// Longest activation token accepted (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

impl Core {
    /// The server's VAPID public key (the browser's
    /// `applicationServerKey`).
    pub fn vapid_public_key(&self) -> CoreResult<String> {
        Ok(self.pusher()?.public_key.clone())
    }

    /// Stores the caller's device's subscription and pushes it its
    /// activation token; true if it was new (201), false if the endpoint
    /// was known (200). A known active endpoint with the same keys stays
    /// as it is; otherwise it waits for a new token, pushed now.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        request: NewPushSubscription,
    ) -> CoreResult<(PushSubscription, bool)> {
        let pusher = self.pusher()?;
        let known = self
            .store
            .subscriptions_of(&caller.user_id, now_ms())
            .await?;
        if known.len() >= MAX_SUBSCRIPTIONS_PER_USER
            && !known.iter().any(|known| known.endpoint == request.endpoint)
        {
            return Err(CoreError::conflict(format!(
                "at most {MAX_SUBSCRIPTIONS_PER_USER} push subscriptions per user: delete one first"
            )));
        }
        natter_push::validate_subscription(
            &request.endpoint,
            &request.keys.p256dh,
            &request.keys.auth,
            pusher.policy,
        )
        .await
        .map_err(|invalid| CoreError::invalid(invalid.to_string()))?;
        let token = new_refresh_token()?;
        let subscribed = self
            .store
            .subscribe(NewSubscription {
                id: new_id(),
                user_id: caller.user_id.clone(),
                session_id: caller.session_id.clone(),
                endpoint: request.endpoint,
                p256dh: request.keys.p256dh,
                auth: request.keys.auth,
                activation_hash: hash_refresh_token(&token),
                created_at: now_ms(),
            })
            .await?;
        let (row, created) = match subscribed {
            Subscribed::Created(row) => (row, true),
            Subscribed::Replaced(row) => (row, false),
            Subscribed::Unchanged(row) => return Ok((subscription_view(&row), false)),
        };
        self.push_activation(&row, &token).await?;
        Ok((subscription_view(&row), created))
    }

    async fn push_activation(&self, row: &SubscriptionRow, token: &str) -> CoreResult<()> {
        let pusher = self.pusher()?;
        let payload = PushPayload::Activate {
            subscription_id: row.id.clone(),
            token: token.to_owned(),
        };
        let now = now_ms();
        self.store
            .enqueue(&[pusher.delivery(
                &row.id,
                serde_json::to_vec(&payload).map_err(anyhow::Error::from)?,
                None,
                Urgency::Normal,
                now,
                now.saturating_add(ACTIVATION_TTL_MS),
            )])
            .await?;
        pusher.ring();
        Ok(())
    }

    /// Activates the caller's subscription with the token its activation
    /// push carried; a wrong token is 400, someone else's subscription 404.
    pub async fn activate_subscription(
        &self,
        caller: &Caller,
        subscription_id: &str,
        token: &str,
    ) -> CoreResult<()> {
        self.pusher()?;
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(CoreError::invalid("token is not this subscription's"));
        }
        match self
            .store
            .activate(
                &caller.user_id,
                subscription_id,
                &hash_refresh_token(token),
                now_ms(),
            )
            .await?
        {
            Activation::Activated => Ok(()),
            Activation::WrongToken => Err(CoreError::invalid("token is not this subscription's")),
            Activation::NotFound => Err(CoreError::not_found("subscription")),
        }
    }

    /// The caller's subscriptions (of every live device of theirs).
    pub async fn subscriptions(&self, caller: &Caller) -> CoreResult<Vec<PushSubscription>> {
        self.pusher()?;
        let rows = self
            .store
            .subscriptions_of(&caller.user_id, now_ms())
            .await?;
        Ok(rows.iter().map(subscription_view).collect())
    }

    pub async fn unsubscribe(&self, caller: &Caller, subscription_id: &str) -> CoreResult<()> {
        self.pusher()?;
        if self
            .store
            .unsubscribe(&caller.user_id, subscription_id)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::not_found("subscription"))
        }
    }

    /// After the user read a chat up to `seq` on some device: if their
    /// devices show notifications of it, pushes `read` so they clear them
    /// (a Topic of its own per chat: a newer `read` replaces an older one,
    /// never a message push). Failures cost only the clearing.
    pub(crate) async fn push_read(&self, user_id: &str, chat_id: &str, seq: i64) {
        let Some(pusher) = self.push.as_ref() else {
            return;
        };
        let cleared = async {
            if !self.store.take_shown(user_id, chat_id, seq).await? {
                return Ok::<_, CoreError>(());
            }
            let now = now_ms();
            let payload = serde_json::to_vec(&PushPayload::Read {
                chat_id: chat_id.to_owned(),
                seq,
            })
            .map_err(anyhow::Error::from)?;
            let targets = self.store.push_targets(&[user_id.to_owned()], now).await?;
            let deliveries: Vec<NewDelivery> = targets
                .iter()
                .map(|target| {
                    pusher.delivery(
                        &target.id,
                        payload.clone(),
                        Some(read_topic(chat_id)),
                        Urgency::Low,
                        now,
                        now.saturating_add(pusher.ttl_ms()),
                    )
                })
                .collect();
            if !deliveries.is_empty() {
                self.store.enqueue(&deliveries).await?;
                pusher.ring();
            }
            Ok(())
        };
        if let Err(error) = cleared.await {
            tracing::warn!(%chat_id, ?error, "queueing a read push failed");
        }
    }
}

fn subscription_view(row: &SubscriptionRow) -> PushSubscription {
    PushSubscription {
        subscription_id: row.id.clone(),
        endpoint: row.endpoint.clone(),
        device_id: row.session_id.clone(),
        status: if row.active {
            SubscriptionStatus::Active
        } else {
            SubscriptionStatus::Pending
        },
        created_at: Timestamp(row.created_at),
    }
}
