//! Delivered and read markers (per chat and member, "up to seq") and the
//! receipts derived from their history.

use crate::StoreResult;
use async_trait::async_trait;

/// Which marker a receipt advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    Delivered,
    Read,
}

/// A marker that moved, as [`Markers::advance_marker`] reports it, with
/// the facts a caller needs to decide who hears of it (read right after
/// the advance, in the same transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advance {
    /// The new marker: the requested `seq`, clamped to the chat's
    /// `last_seq`.
    pub seq: i64,
    /// Members of the chat.
    pub member_count: u32,
    /// Members other than the one who moved whose marker of this kind is
    /// at `seq` or beyond, counted no further than 2 (a few index rows,
    /// whatever the size of the chat).
    pub others_reached: u32,
    /// A read advance cleared the member's `marked_unread` mark (see
    /// [`crate::MemberFlags`]); always false for a delivered advance.
    pub cleared_unread: bool,
}

/// When one member's markers first reached a message.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiptRow {
    pub user_id: String,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
}

#[async_trait]
pub trait Markers: Send + Sync {
    /// Moves a member's marker forward to `min(seq, chat.last_seq)` (never
    /// back; a read marker also moves the delivered marker). Returns the
    /// new marker and the facts of [`Advance`] if it moved; `None` if it
    /// did not or if not a member. Must stay cheap in chats of thousands
    /// of members: it runs for every ack.
    async fn advance_marker(
        &self,
        chat_id: &str,
        user_id: &str,
        kind: MarkerKind,
        seq: i64,
        now: i64,
    ) -> StoreResult<Option<Advance>>;
    /// For each member other than `sender_id`, when their delivered and
    /// read markers first reached `seq`.
    async fn receipts(
        &self,
        chat_id: &str,
        seq: i64,
        sender_id: &str,
    ) -> StoreResult<Vec<ReceiptRow>>;
}
