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

/// Chats with at most this many members hear of every marker advance of
/// every member. Announcing to all members costs members² frames per
/// message, which is nothing in a small group and lets its members show
/// "seen by" live; beyond this size only the advances that change a
/// message's `status` are announced to the chat (see [`Advance`]).
pub const ANNOUNCE_ALL_RECEIPTS_UP_TO: usize = 32;

/// A marker that moved, as [`Markers::advance_marker`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advance {
    /// The new marker: the requested `seq`, clamped to the chat's
    /// `last_seq`.
    pub seq: i64,
    /// True if every member of the chat should hear of the advance: the
    /// chat has at most [`ANNOUNCE_ALL_RECEIPTS_UP_TO`] members, or the
    /// advance may change the `status` some member sees on their own
    /// messages. False if it changes nothing for anyone but the member
    /// who moved (whose other devices still need it).
    ///
    /// A message's `status` is the most advanced marker over the members
    /// other than its sender. Member U moving marker K up to S can change
    /// the status of member X's messages only if, before, no member other
    /// than X and U had K at S or beyond; hence: true if at most one
    /// member other than U has K >= S afterwards (that one may be X).
    pub broadcast: bool,
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
    /// new marker and who should hear of it (see [`Advance::broadcast`],
    /// decided on the markers as they are right after this advance, so of
    /// concurrent advances to one seq only the first ones broadcast) if
    /// it moved; `None` if it did not or if not a member. Must stay cheap
    /// in chats of thousands of members: it runs for every ack.
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
