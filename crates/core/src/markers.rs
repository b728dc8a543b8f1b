//! Delivered and read markers coming from sockets: a client acks every
//! burst it receives, so markers are coalesced per (chat, user, kind) to
//! the highest `seq` and written in batches; each marker that moved is
//! announced as a `receipt`. REST read markers go straight through
//! `Core::mark` instead, and are announced the same way.
//!
//! Who hears of a receipt: the member's own connections always (their
//! other devices keep their read state in step); the whole chat only when
//! the store says the advance may change a message's `status` for someone,
//! or the chat is small ([`Advance::broadcast`]). Announcing every ack to
//! every member would cost members² frames per message in a large group.

use super::{Caller, Core, CoreError, CoreResult, now_ms};
use natter_bus::Envelope;
use natter_proto::events::{ReceiptKind, ServerEvent};
use natter_store::{Advance, MarkerKind};
use std::collections::HashMap;
use std::sync::Mutex;

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
    /// [`Advance::broadcast`], else only to the member's own connections.
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
        let Some(Advance { seq, broadcast }) = moved else {
            return Ok(());
        };
        let receipt = ServerEvent::Receipt {
            chat_id: chat_id.to_owned(),
            user_id: caller.user_id.clone(),
            kind: match kind {
                MarkerKind::Delivered => ReceiptKind::Delivered,
                MarkerKind::Read => ReceiptKind::Read,
            },
            seq,
        };
        self.bus.publish(if broadcast {
            Envelope::to_chat(chat_id, receipt)
        } else {
            Envelope::to_user(&caller.user_id, receipt)
        });
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
    if seq < 0 {
        return Err(CoreError::invalid("seq must not be negative"));
    }
    Ok(())
}
