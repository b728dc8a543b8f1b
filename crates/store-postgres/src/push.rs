//! Push notifications as the PostgreSQL store keeps them, one module per
//! store trait: `subscriptions` ([`natter_store::PushSubscriptions`],
//! and ending a session's subscriptions for `sessions`), `settings`
//! ([`natter_store::NotificationSettings`]) and `queue`
//! ([`natter_store::PushQueue`]). A message's push job is written by the
//! append batch that stores the message (see `appender::pushes`).
//!
//! Several nodes share the queue: a claim is one statement that locks
//! the rows it takes and skips those another claim holds (`FOR UPDATE
//! SKIP LOCKED`), so no two nodes ever claim the same row at once.

pub(crate) mod queue;
pub(crate) mod settings;
pub(crate) mod subscriptions;
