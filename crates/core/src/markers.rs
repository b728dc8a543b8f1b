//! Delivered and read markers coming from sockets: a client acks every
//! burst it receives, so markers are coalesced per (chat, user, kind) to
//! the highest `seq` and written in batches; each marker that moved is
//! announced as a `receipt`. REST read markers go straight through
//! `Core::mark` instead, and are announced the same way.
//!
//! Who hears of a receipt: the member's own connections always (their
//! other devices keep their read state in step); the whole chat only when
//! the advance may change a message's `status` for someone, or the chat is
//! small ([`chat_hears_of`], decided on the facts the store reports). Announcing every ack to
//! every member would cost members² frames per message in a large group.

use super::{Caller, Core, CoreResult, now_ms};
use natter_bus::Envelope;
use natter_proto::events::{ReceiptKind, ServerEvent};
use natter_store::{Advance, MarkerKind};
use std::collections::HashMap;
use std::sync::Mutex;

/// Chats with at most this many members hear of every marker advance of
/// every member. Announcing to all members costs members² frames per
/// message, which is nothing in a small group and lets its members show
/// "seen by" live; beyond this size only the advances that change a
/// message's `status` are announced to the chat (see [`chat_hears_of`]).
pub const ANNOUNCE_ALL_RECEIPTS_UP_TO: usize = 32;

/// True if every member of the chat should hear of an advance: the chat
/// has at most [`ANNOUNCE_ALL_RECEIPTS_UP_TO`] members, or the advance may
/// change the `status` some member sees on their own messages. False if
/// it changes nothing for anyone but the member who moved (whose other
/// devices still need it).
///
/// A message's `status` is the most advanced marker over the members
/// other than its sender. Member U moving marker K up to S can change the
/// status of member X's messages only if, before, no member other than X
/// and U had K at S or beyond; hence: true if at most one member other
/// than U has K >= S afterwards (that one may be X). Of concurrent
/// advances to one seq, only the first ones broadcast.
pub fn chat_hears_of(advance: &Advance) -> bool {
    advance.member_count as usize <= ANNOUNCE_ALL_RECEIPTS_UP_TO || advance.others_reached <= 1
}

type MarkerKey = (String, String, MarkerKind);

/// Markers waiting to be written.
#[derive(Default)]
pub struct MarkerQueue {
    pending: Mutex<HashMap<MarkerKey, i64>>,
}

impl MarkerQueue {
    fn push(&self, key: MarkerKey, seq: i64) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = pending.entry(key).or_insert(seq);
        *entry = (*entry).max(seq);
    }

    fn take(&self) -> HashMap<MarkerKey, i64> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()),
        )
    }
}

impl Core {
    /// Queues a marker from a socket; written by the next
    /// [`Core::flush_markers`]. Non-members' markers are dropped there.
    pub fn queue_marker(
        &self,
        caller: &Caller,
        chat_id: &str,
        kind: ReceiptKind,
        seq: i64,
    ) -> CoreResult<()> {
        check_seq(seq)?;
        self.markers.push(
            (chat_id.to_owned(), caller.user_id.clone(), marker(kind)),
            seq,
        );
        Ok(())
    }

    /// Moves the caller's delivered or read marker up to `seq` now (REST)
    /// and announces it if it moved; `not_found` for a non-member.
    pub async fn mark(
        &self,
        caller: &Caller,
        chat_id: &str,
        kind: ReceiptKind,
        seq: i64,
    ) -> CoreResult<()> {
        check_seq(seq)?;
        self.role_in(chat_id, &caller.user_id).await?;
        self.advance_and_announce(caller, chat_id, marker(kind), seq)
            .await
    }

    /// Writes every queued marker (the store commits them together) and
    /// announces those that moved.
    pub async fn flush_markers(&self) {
        let batch = self.markers.take();
        if batch.is_empty() {
            return;
        }
        let writes = batch
            .into_iter()
            .map(|((chat_id, user_id, kind), seq)| async move {
                let caller = Caller {
                    user_id,
                    session_id: String::new(),
                };
                if let Err(error) = self
                    .advance_and_announce(&caller, &chat_id, kind, seq)
                    .await
                {
                    tracing::warn!(%chat_id, ?error, "writing a marker failed");
                }
            });
        futures_util::future::join_all(writes).await;
    }

    /// Advances a marker (a non-member's does not move) and, if it moved,
    /// publishes a `receipt`: to every member of the chat if
    /// [`chat_hears_of`] the advance, else only to the member's own
    /// connections.
    pub(crate) async fn advance_and_announce(
        &self,
        caller: &Caller,
        chat_id: &str,
        kind: MarkerKind,
        seq: i64,
    ) -> CoreResult<()> {
        let moved = self
            .store
            .advance_marker(chat_id, &caller.user_id, kind, seq, now_ms())
            .await?;
        let Some(advance) = moved else {
            return Ok(());
        };
        let seq = advance.seq;
        let receipt = ServerEvent::Receipt {
            chat_id: chat_id.to_owned(),
            user_id: caller.user_id.clone(),
            kind: match kind {
                MarkerKind::Delivered => ReceiptKind::Delivered,
                MarkerKind::Read => ReceiptKind::Read,
            },
            seq,
        };
        self.bus.publish(if chat_hears_of(&advance) {
            Envelope::to_chat(chat_id, &receipt)
        } else {
            Envelope::to_user(&caller.user_id, &receipt)
        });
        if kind == MarkerKind::Read {
            self.push_read(&caller.user_id, chat_id, seq).await;
        }
        if advance.cleared_unread {
            self.announce_own_summary_or_log(chat_id, &caller.user_id)
                .await;
        }
        Ok(())
    }
}

fn marker(kind: ReceiptKind) -> MarkerKind {
    match kind {
        ReceiptKind::Delivered => MarkerKind::Delivered,
        ReceiptKind::Read => MarkerKind::Read,
    }
}

fn check_seq(seq: i64) -> CoreResult<()> {
    super::counter("seq", seq).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advance(member_count: u32, others_reached: u32) -> Advance {
        Advance {
            seq: 1,
            member_count,
            others_reached,
            cleared_unread: false,
        }
    }

    #[test]
    fn small_chats_hear_of_every_advance_large_ones_of_status_changes() {
        let small = ANNOUNCE_ALL_RECEIPTS_UP_TO as u32;
        assert!(chat_hears_of(&advance(small, 2)));
        assert!(chat_hears_of(&advance(small + 1, 0)));
        assert!(chat_hears_of(&advance(small + 1, 1)));
        assert!(!chat_hears_of(&advance(small + 1, 2)));
        assert!(!chat_hears_of(&advance(5_000, 2)));
    }
}
