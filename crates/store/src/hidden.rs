//! Messages a user hid for themselves ("delete for me"): one row per user
//! and message, with the message's chat and `seq` copied from it so that
//! the message keeps its place for that user. Other members never see
//! these rows. Whether the user may hide the message (membership) is the
//! caller's to decide; the store only remembers it.

use crate::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait HiddenMessages: Send + Sync {
    /// Remembers that `user_id` hid the message (its chat and `seq` are
    /// read from the message itself); true if it was not hidden yet, false
    /// if it was (hiding twice changes nothing). `NotFound` if there is no
    /// such message.
    async fn hide_message(&self, user_id: &str, message_id: &str, now: i64) -> StoreResult<bool>;
    /// Which of `message_ids` `user_id` hid (any order; ids not hidden or
    /// unknown are left out). One query whatever the number of ids.
    async fn hidden_among(&self, user_id: &str, message_ids: &[String])
    -> StoreResult<Vec<String>>;
}
