//! What the gateway needs to route events, and nothing more: the node's
//! feed of envelopes, interest in subjects, and the chats' positions to
//! catch up from. The gateway cannot publish: only use cases do, after
//! the change they announce is stored.

use crate::{Core, CoreResult};
pub use natter_bus::{Confirmation, Envelope, Feed, Meta, Received, Subject};

impl Core {
    /// This node's feed of the envelopes it is interested in (read by the
    /// gateway's router, once).
    pub fn feed(&self) -> Box<dyn Feed> {
        self.bus.feed()
    }

    /// Starts or stops this node's interest in a chat's or a user's
    /// envelopes (see `natter_bus::Bus::interest`).
    pub fn interest(&self, subject: &Subject, on: bool) -> Confirmation {
        self.bus.interest(subject, on)
    }

    /// The `last_seq` of a chat now, to catch up with after interest in
    /// it is confirmed; `None` if there is no such chat.
    pub async fn last_seq(&self, chat_id: &str) -> CoreResult<Option<i64>> {
        Ok(self.store.chat(chat_id).await?.map(|chat| chat.last_seq))
    }
}
