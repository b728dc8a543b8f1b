//! Where a store reports the messages it committed, for `core` to
//! announce: in commit order, which within a chat is `seq` order.
//!
//! Why a channel and not a callback: the store calls no code of its
//! callers on its own threads (a durability thread must not render and
//! publish events); `core` reads the feed on a task of its own.
//!
//! Unbounded: the store must never wait on its readers (it would stall
//! every write behind a slow announcer); the feed is drained by one task
//! that only renders and publishes, so it holds what a few milliseconds
//! of writes add.

use crate::messages::MessageRow;
use tokio::sync::mpsc;

/// The store's end: hand each newly committed message here.
#[derive(Clone, Debug)]
pub struct CommitSink(mpsc::UnboundedSender<MessageRow>);

/// The reader's end.
#[derive(Debug)]
pub struct CommitFeed(mpsc::UnboundedReceiver<MessageRow>);

/// A connected sink and feed.
pub fn commit_channel() -> (CommitSink, CommitFeed) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (CommitSink(sender), CommitFeed(receiver))
}

impl CommitSink {
    /// Reports a committed message. Never blocks; a feed nobody reads
    /// any more simply drops it.
    pub fn committed(&self, message: MessageRow) {
        let _ = self.0.send(message);
    }
}

impl CommitFeed {
    /// The next committed message; `None` once every sink is gone.
    pub async fn next(&mut self) -> Option<MessageRow> {
        self.0.recv().await
    }

    /// The next committed message if one is waiting.
    pub fn try_next(&mut self) -> Option<MessageRow> {
        self.0.try_recv().ok()
    }
}
