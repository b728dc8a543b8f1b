//! The announcer: turns the messages the store reports as committed into
//! `message.new` events on the bus, on a task of its own.
//!
//! Why a task fed by the store, and not the request that sent the
//! message: the store reports commits in commit order (within a chat, in
//! `seq` order) and even when the sending request was abandoned, so every
//! stored message is announced exactly once and each chat's messages
//! reach the bus in order; and no use-case code runs on the store's own
//! (durability) threads.
//!
//! Each wake-up takes every commit already waiting (up to [`BATCH`]),
//! looks up the files of the batch's file messages in one read, then
//! renders and publishes in order.

use crate::{Core, views};
use natter_bus::Envelope;
use natter_proto::events::ServerEvent;
use natter_proto::messages::MessageStatus;
use natter_store::{CommitFeed, MessageRow};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Most commits rendered together.
const BATCH: usize = 256;

/// The running announcer; [`Announcer::finish`] stops it.
pub struct Announcer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Announcer {
    /// Starts announcing what `commits` reports.
    pub fn spawn(core: Arc<Core>, commits: CommitFeed) -> Announcer {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(core, commits, stopped));
        Announcer { stop, task }
    }

    /// Announces what is already committed, then stops. Call after the
    /// store closed, so that nothing it stored goes unannounced.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn run(core: Arc<Core>, mut commits: CommitFeed, mut stopped: oneshot::Receiver<()>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            next = commits.next() => match next {
                Some(row) => batch.push(row),
                None => break,
            },
            _ = &mut stopped => {
                while let Some(row) = commits.try_next() {
                    batch.push(row);
                    if batch.len() == BATCH {
                        announce(&core, &mut batch).await;
                    }
                }
                announce(&core, &mut batch).await;
                break;
            }
        }
        while batch.len() < BATCH {
            match commits.try_next() {
                Some(row) => batch.push(row),
                None => break,
            }
        }
        announce(&core, &mut batch).await;
    }
}

/// Renders and publishes `batch` in order, leaving it empty.
async fn announce(core: &Arc<Core>, batch: &mut Vec<MessageRow>) {
    if batch.is_empty() {
        return;
    }
    clear_senders_notifications(core, batch);
    let file_ids: Vec<String> = batch.iter().filter_map(|row| row.file_id.clone()).collect();
    let files = if file_ids.is_empty() {
        Vec::new()
    } else {
        // Without its file a message is still worth announcing: clients
        // see the file when they next read the message.
        core.store.files(&file_ids).await.unwrap_or_else(|error| {
            tracing::warn!(?error, "announcing messages without their files");
            Vec::new()
        })
    };
    for row in batch.drain(..) {
        let file = row
            .file_id
            .as_ref()
            .and_then(|id| files.iter().find(|file| &file.id == id))
            .map(|file| core.files.file_ref(file, &row.sender_id));
        let message = views::message(&row, Vec::new(), MessageStatus::Sent, file);
        core.bus.publish(Envelope::to_chat(
            &row.chat_id,
            &ServerEvent::MessageNew { message },
        ));
        metrics::counter!("natter_messages_stored_total").increment(1);
    }
}

/// A sender's append moved their read marker: like a read on that device,
/// it clears the chat's notifications on their other devices (off the
/// announcing path: it reads the store).
fn clear_senders_notifications(core: &Arc<Core>, batch: &[MessageRow]) {
    if !core.push_enabled() {
        return;
    }
    let mut read: HashMap<(&str, &str), i64> = HashMap::new();
    for row in batch {
        let seq = read.entry((&row.sender_id, &row.chat_id)).or_default();
        *seq = (*seq).max(row.seq);
    }
    let read: Vec<(String, String, i64)> = read
        .into_iter()
        .map(|((sender, chat), seq)| (sender.to_owned(), chat.to_owned(), seq))
        .collect();
    let core = core.clone();
    tokio::spawn(async move {
        for (sender, chat, seq) in read {
            core.push_read(&sender, &chat, seq).await;
        }
    });
}
