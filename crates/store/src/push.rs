//! Push notifications as the store keeps them: the Web Push subscriptions
//! of devices ([`PushSubscriptions`]), the notification settings of users
//! and of their chats ([`NotificationSettings`]), and the durable push
//! queue ([`PushQueue`]).
//!
//! The queue has two stages, both rows, so that a push owed for a stored
//! message survives a crash at any point (at least once):
//! 1. a **job** per message that owes pushes, written in the same
//!    transaction as the message (see [`NewMessage::owes_push`](crate::NewMessage));
//! 2. **deliveries**, one per subscription to push: a job is turned into
//!    its deliveries and deleted in one transaction
//!    ([`PushQueue::plan_job`]); a delivery is deleted once the push
//!    service took it.
//!
//! Jobs and deliveries are claimed with a lease (`available_at` moves to
//! the end of the lease), so that a sender that dies mid-way leaves work
//! another sender (on this node after a restart, or on another node) picks
//! up when the lease runs out; on PostgreSQL claims skip rows another
//! transaction holds (`FOR UPDATE SKIP LOCKED`), so nodes never claim the
//! same row at once.

use crate::StoreResult;
use async_trait::async_trait;
use std::str::FromStr;

/// A subscription as a device posts it (the browser's `PushSubscription`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSubscription {
    pub id: String,
    pub user_id: String,
    /// The device (session) it belongs to; it ends with it.
    pub session_id: String,
    pub endpoint: String,
    /// The user agent's P-256 public key, base64url as the browser gives it.
    pub p256dh: String,
    /// The user agent's 16-byte auth secret, base64url.
    pub auth: String,
    /// SHA-256 hex of the activation token pushed to it.
    pub activation_hash: String,
    pub created_at: i64,
}

/// A stored subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    pub user_id: String,
    pub session_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// False until the owner proved it reads the pushes (activation).
    pub active: bool,
    pub created_at: i64,
}

impl SubscriptionRow {
    /// The row `new` stores when its endpoint is new: pending, with
    /// `new`'s id and creation time.
    pub fn created(new: &NewSubscription) -> SubscriptionRow {
        SubscriptionRow {
            id: new.id.clone(),
            user_id: new.user_id.clone(),
            session_id: new.session_id.clone(),
            endpoint: new.endpoint.clone(),
            p256dh: new.p256dh.clone(),
            auth: new.auth.clone(),
            active: false,
            created_at: new.created_at,
        }
    }

    /// Whether posting `new` for this row's endpoint leaves it as it is
    /// ([`Subscribed::Unchanged`]): the row is active and has `new`'s
    /// user, device and keys. A pending row is never unchanged: posting
    /// it again stands for a lost activation push, and gets a new token.
    pub fn same_as(&self, new: &NewSubscription) -> bool {
        self.active
            && self.user_id == new.user_id
            && self.session_id == new.session_id
            && self.p256dh == new.p256dh
            && self.auth == new.auth
    }

    /// This row once `new` has replaced it ([`Subscribed::Replaced`]):
    /// `new`'s values, pending, keeping this row's id and creation time
    /// (and endpoint, which is what matched).
    pub fn replaced_by(&self, new: &NewSubscription) -> SubscriptionRow {
        SubscriptionRow {
            id: self.id.clone(),
            created_at: self.created_at,
            endpoint: self.endpoint.clone(),
            ..SubscriptionRow::created(new)
        }
    }
}

/// What posting a subscription did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscribed {
    /// A new endpoint: stored, pending activation.
    Created(SubscriptionRow),
    /// The endpoint was known, active, with the same user, keys and
    /// device: nothing changed (the new activation hash is not stored).
    Unchanged(SubscriptionRow),
    /// The endpoint was known with other keys, another device or another
    /// user, or was still pending: it now holds the new values, keeps its
    /// id and `created_at`, and is pending with the new activation hash.
    Replaced(SubscriptionRow),
}

/// What an activation attempt found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The token matched (or the subscription was already active with it).
    Activated,
    /// The subscription exists and is the caller's, the token is not its.
    WrongToken,
    /// No such subscription of this user (or its device has ended).
    NotFound,
}

#[async_trait]
pub trait PushSubscriptions: Send + Sync {
    /// Stores a subscription, keyed by its endpoint (see [`Subscribed`]).
    async fn subscribe(&self, subscription: NewSubscription) -> StoreResult<Subscribed>;
    /// The user's subscriptions whose device is live (not revoked, not
    /// expired at `now`), oldest first.
    async fn subscriptions_of(&self, user_id: &str, now: i64) -> StoreResult<Vec<SubscriptionRow>>;
    /// Deletes one of the user's subscriptions with its queued
    /// deliveries; false if it had none by that id (and then nothing is
    /// deleted, whoever's the id is).
    async fn unsubscribe(&self, user_id: &str, subscription_id: &str) -> StoreResult<bool>;
    /// Activates the user's subscription if `activation_hash` is its own.
    async fn activate(
        &self,
        user_id: &str,
        subscription_id: &str,
        activation_hash: &str,
        now: i64,
    ) -> StoreResult<Activation>;
    /// The active subscriptions of live devices of these users (the
    /// targets of a message push).
    async fn push_targets(
        &self,
        user_ids: &[String],
        now: i64,
    ) -> StoreResult<Vec<SubscriptionRow>>;
    /// Deletes a subscription the push service says is gone (404/410),
    /// with its queued deliveries.
    async fn drop_subscription(&self, subscription_id: &str) -> StoreResult<()>;
}

/// How much of a chat a member wants to be pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyLevel {
    All,
    Mentions,
    None,
}

impl NotifyLevel {
    /// The level's name as both backends store it (and the schema's
    /// `CHECK` lists): `all`, `mentions`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::None => "none",
        }
    }
}

/// A stored level name that is none of [`NotifyLevel::as_str`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification level {0:?}")]
pub struct UnknownNotifyLevel(pub String);

impl FromStr for NotifyLevel {
    type Err = UnknownNotifyLevel;

    /// The inverse of [`NotifyLevel::as_str`] (exact, lower case).
    fn from_str(name: &str) -> Result<NotifyLevel, UnknownNotifyLevel> {
        match name {
            "all" => Ok(NotifyLevel::All),
            "mentions" => Ok(NotifyLevel::Mentions),
            "none" => Ok(NotifyLevel::None),
            other => Err(UnknownNotifyLevel(other.to_owned())),
        }
    }
}

/// A member's settings for one chat; `level: None` means the chat type's
/// default (decided by the caller).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatNotifyRow {
    pub level: Option<NotifyLevel>,
    pub muted_until: Option<i64>,
}

/// A user's own notification settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserNotifyRow {
    pub dnd_until: Option<i64>,
    /// Words that count as a mention, lower-cased by the caller.
    pub keywords: Vec<String>,
    /// Whether pushes carry the text and the sender's name.
    pub previews: bool,
}

impl Default for UserNotifyRow {
    fn default() -> Self {
        UserNotifyRow {
            dnd_until: None,
            keywords: Vec::new(),
            previews: true,
        }
    }
}

/// Everything that decides whether one member is pushed for a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientSettings {
    pub user_id: String,
    pub chat: ChatNotifyRow,
    pub user: UserNotifyRow,
    /// The member's read marker in the chat (for the unread count).
    pub read_seq: i64,
}

#[async_trait]
pub trait NotificationSettings: Send + Sync {
    /// The member's settings for the chat (defaults if never set).
    async fn chat_notifications(&self, user_id: &str, chat_id: &str) -> StoreResult<ChatNotifyRow>;
    async fn set_chat_notifications(
        &self,
        user_id: &str,
        chat_id: &str,
        settings: &ChatNotifyRow,
    ) -> StoreResult<()>;
    /// The user's settings (defaults if never set).
    async fn user_notifications(&self, user_id: &str) -> StoreResult<UserNotifyRow>;
    async fn set_user_notifications(
        &self,
        user_id: &str,
        settings: &UserNotifyRow,
    ) -> StoreResult<()>;
    /// For every member of the chat other than `except_user_id` who has at
    /// least one active subscription of a live device at `now`: their
    /// settings (one query: the planner runs it per message).
    async fn recipients(
        &self,
        chat_id: &str,
        except_user_id: &str,
        now: i64,
    ) -> StoreResult<Vec<RecipientSettings>>;
}

/// A message that owes pushes, as the queue hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushJob {
    pub message_id: String,
    pub chat_id: String,
    pub seq: i64,
    pub created_at: i64,
}

/// One push to send to one subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    pub id: String,
    pub subscription_id: String,
    /// The plaintext (JSON) before encryption: encrypted per attempt.
    pub payload: Vec<u8>,
    /// RFC 8030 `Topic`: a newer push with the same topic replaces an
    /// undelivered older one at the push service.
    pub topic: Option<String>,
    /// RFC 8030 `Urgency`: `very-low`, `low`, `normal` or `high`.
    pub urgency: String,
    /// When the message was stored (push latency is measured from here).
    pub created_at: i64,
    /// After this, the push is dropped unsent (its TTL ran out).
    pub expires_at: i64,
}

/// A delivery claimed for sending, with where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription: SubscriptionRow,
    pub payload: Vec<u8>,
    pub topic: Option<String>,
    pub urgency: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Attempts made before this one.
    pub attempts: u32,
}

#[async_trait]
pub trait PushQueue: Send + Sync {
    /// Up to `limit` jobs available at `now`, oldest first, each leased
    /// until `lease_until` (a claimed job is not handed out again before).
    async fn claim_jobs(&self, now: i64, lease_until: i64, limit: u32)
    -> StoreResult<Vec<PushJob>>;
    /// In one transaction: stores the job's deliveries and deletes the
    /// job (so a job is planned at most once), and records that each of
    /// `shown_users` has a notification of the job's chat showing at the
    /// job's seq (see [`PushQueue::take_shown`]). A job already planned
    /// (gone) stores nothing. Only deliveries whose subscription is
    /// active at that moment are stored: one replaced (pending again,
    /// perhaps another user's now) or deleted since the caller read its
    /// targets is not pushed the message.
    async fn plan_job(
        &self,
        job: &PushJob,
        deliveries: &[NewDelivery],
        shown_users: &[String],
    ) -> StoreResult<()>;
    /// Queues deliveries that belong to no job (activation and `read`
    /// pushes).
    async fn enqueue(&self, deliveries: &[NewDelivery]) -> StoreResult<()>;
    /// Up to `limit` deliveries available at `now` (oldest first), leased
    /// until `lease_until`, with their subscriptions. Deliveries whose
    /// subscription is gone, or whose device is no longer live at `now`
    /// (revoked, expired), are deleted instead of handed out (and count
    /// towards `limit`).
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRow>>;
    /// The push service took it (or it expired): gone from the queue.
    async fn finish_delivery(&self, delivery_id: &str) -> StoreResult<()>;
    /// Try again at `available_at` (one more attempt counted).
    async fn retry_delivery(&self, delivery_id: &str, available_at: i64) -> StoreResult<()>;
    /// If notifications of this chat show for the user with a seq at or
    /// below `read_seq` (recorded by [`PushQueue::plan_job`]), forgets
    /// those (a later one still shows) and returns true: the caller then
    /// pushes `read` so devices clear them. False otherwise. Cheap when
    /// there is nothing to take (a read, not a write).
    async fn take_shown(&self, user_id: &str, chat_id: &str, read_seq: i64) -> StoreResult<bool>;
    /// Jobs and deliveries queued (for the queue-depth metric).
    async fn queue_depth(&self) -> StoreResult<(u64, u64)>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(user: &str, session: &str, key: &str) -> NewSubscription {
        NewSubscription {
            id: "new".into(),
            user_id: user.into(),
            session_id: session.into(),
            endpoint: "https://push/e".into(),
            p256dh: key.into(),
            auth: format!("auth-{key}"),
            activation_hash: "hash".into(),
            created_at: 200,
        }
    }

    #[test]
    fn levels_read_back_as_stored_and_nothing_else_reads() {
        for level in [NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::None] {
            assert_eq!(level.as_str().parse::<NotifyLevel>(), Ok(level));
        }
        assert_eq!(
            "All".parse::<NotifyLevel>(),
            Err(UnknownNotifyLevel("All".into()))
        );
        assert!("".parse::<NotifyLevel>().is_err());
    }

    #[test]
    fn only_an_active_row_with_the_same_user_device_and_keys_is_unchanged() {
        let mut known = SubscriptionRow::created(&new("ann", "s1", "k1"));
        (known.id, known.created_at) = ("old".into(), 100);
        assert!(!known.same_as(&new("ann", "s1", "k1")), "pending");
        known.active = true;
        assert!(known.same_as(&new("ann", "s1", "k1")));
        assert!(!known.same_as(&new("bob", "s1", "k1")), "another user");
        assert!(!known.same_as(&new("ann", "s2", "k1")), "another device");
        assert!(!known.same_as(&new("ann", "s1", "k2")), "other keys");
        let mut other_auth = new("ann", "s1", "k1");
        other_auth.auth = "other".into();
        assert!(!known.same_as(&other_auth), "another auth secret");
    }

    #[test]
    fn a_replaced_row_keeps_its_id_and_age_and_is_pending_with_the_new_values() {
        let mut known = SubscriptionRow::created(&new("ann", "s1", "k1"));
        (known.id, known.created_at, known.active) = ("old".into(), 100, true);
        let replaced = known.replaced_by(&new("bob", "b1", "k2"));
        assert_eq!(
            replaced,
            SubscriptionRow {
                id: "old".into(),
                user_id: "bob".into(),
                session_id: "b1".into(),
                endpoint: "https://push/e".into(),
                p256dh: "k2".into(),
                auth: "auth-k2".into(),
                active: false,
                created_at: 100,
            }
        );
        let created = SubscriptionRow::created(&new("ann", "s1", "k1"));
        assert_eq!((created.id.as_str(), created.created_at), ("new", 200));
        assert!(!created.active);
    }
}
