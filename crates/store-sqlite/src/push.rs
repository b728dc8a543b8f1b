//! Push notifications as the SQLite store keeps them, one module per
//! store trait: `subscriptions` ([`natter_store::PushSubscriptions`],
//! and ending a session's subscriptions for `sessions`), `settings`
//! ([`natter_store::NotificationSettings`]) and `queue`
//! ([`natter_store::PushQueue`]). A message's push job is written by the
//! append itself (see `messages`), in the same transaction.
//!
//! Writes go through the writer like every other; the queue's claims are
//! write jobs too (a read, then one update), so two claims never hand out
//! the same row: the writer runs one job at a time.

pub(crate) mod queue;
pub(crate) mod settings;
pub(crate) mod subscriptions;

/// `ids` as a JSON array, for `IN (SELECT value FROM json_each(?))`: one
/// statement for any number of rows.
pub(crate) fn json_ids<S: AsRef<str>>(ids: &[S]) -> natter_store::StoreResult<String> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&ids)
        .map_err(|err| crate::error::corrupt(format!("cannot encode ids: {err}")))
}
