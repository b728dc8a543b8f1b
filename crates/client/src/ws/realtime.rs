//! [`RealtimeClient`]: the socket an application uses. A background task
//! (see the `worker` module) owns the connection; the application reads
//! [`RealtimeEvent`]s from the client and gives commands through a
//! [`RealtimeHandle`] (cheap to clone, usable from any task).
//!
//! What the application can rely on: every message of a chat it belongs
//! to arrives exactly once and in `seq` order per chat, across
//! disconnects and reconnects; a `send` is answered with the stored
//! message's `seq` even if the connection broke in between (it is retried
//! with the same `client_msg_id`, which the server deduplicates).

use super::backoff::Backoff;
use super::cursors::SavedCursor;
use super::error::{CloseInfo, WsError};
use super::worker::{Command, Worker};
use crate::Session;
use natter_proto::events::ServerEvent;
use natter_proto::messages::{Message, MessageType, SendAck, SendMessage};
use natter_proto::users::PresenceStatus;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Where the client starts delivering.
#[derive(Clone, Debug, Default)]
pub enum Start {
    /// From the first `ready` on: earlier history is for REST paging.
    #[default]
    FromNow,
    /// From cursors saved by an earlier run (from
    /// [`RealtimeHandle::cursors`]): what lies beyond each `seq` is
    /// fetched and delivered first, what changed after each `version`
    /// comes as [`RealtimeEvent::Changed`].
    Cursors(HashMap<String, SavedCursor>),
}

/// Tuning of a [`RealtimeClient`].
#[derive(Clone, Debug)]
pub struct RealtimeOptions {
    /// Where delivery starts.
    pub start: Start,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// A chat the client first hears of in a `ready` after a reconnect
    /// (created or joined while it was away) is delivered from this many
    /// messages before its `last_seq`.
    pub new_chat_backlog: i64,
    /// History page size for gap fetches (the server allows 1 to 200).
    pub page_limit: u32,
    /// `Origin` header to send, as a browser would; none by default.
    pub origin: Option<String>,
    /// Events the application may leave unread before the client stops
    /// reading the socket (the server then cuts it off as a slow consumer
    /// and the client resumes later, so nothing is lost, only delayed).
    pub event_buffer: usize,
}

impl Default for RealtimeOptions {
    fn default() -> Self {
        RealtimeOptions {
            start: Start::FromNow,
            backoff: Backoff::default(),
            new_chat_backlog: 50,
            page_limit: 200,
            origin: None,
            event_buffer: 1024,
        }
    }
}

/// What the application receives.
#[derive(Clone, Debug, PartialEq)]
pub enum RealtimeEvent {
    /// A connection is up and every gap its `ready` revealed is delivered.
    Connected {
        /// The server's `session_id` from `ready`.
        session_id: String,
    },
    /// A message: each `(chat, seq)` once, in `seq` order per chat.
    Message(Message),
    /// A message delivered before that changed while the client was away
    /// (edited, deleted or reacted to), in its current state; fetched
    /// with the change cursor on every resume, oldest change first.
    Changed(Message),
    /// Any other event (edits, deletions, reactions, receipts, typing,
    /// presence, chat and membership changes, `error`s not tied to a send).
    Event(ServerEvent),
    /// The connection ended; the client reconnects by itself.
    Disconnected {
        /// The server's close frame, if it sent one.
        close: Option<CloseInfo>,
        /// A description of the cause.
        reason: String,
    },
    /// The client gave up for good (the session was revoked or logged
    /// out, so no token can be had). No event follows.
    Stopped {
        /// Why.
        reason: String,
    },
}

/// Commands to a running [`RealtimeClient`]; clone it freely.
#[derive(Clone, Debug)]
pub struct RealtimeHandle {
    commands: mpsc::UnboundedSender<Command>,
}

/// A self-healing WebSocket session of one user.
#[derive(Debug)]
pub struct RealtimeClient {
    handle: RealtimeHandle,
    events: mpsc::Receiver<RealtimeEvent>,
    task: JoinHandle<()>,
}

impl RealtimeClient {
    /// Starts connecting in the background as the user of `session`,
    /// which the client owns from now on: it rotates the refresh token,
    /// so do not refresh another copy (read the current one with
    /// [`RealtimeHandle::session`]).
    pub fn connect(session: Session, options: RealtimeOptions) -> RealtimeClient {
        let (commands, command_rx) = mpsc::unbounded_channel();
        // Bounded: see `RealtimeOptions::event_buffer` for what a full
        // buffer does.
        let (event_tx, events) = mpsc::channel(options.event_buffer.max(1));
        let worker = Worker::new(session, options, event_tx, command_rx);
        let task = tokio::spawn(worker.run());
        RealtimeClient {
            handle: RealtimeHandle { commands },
            events,
            task,
        }
    }

    /// The next event; `None` after the client stopped.
    pub async fn next_event(&mut self) -> Option<RealtimeEvent> {
        self.events.recv().await
    }

    /// The receiver of events, e.g. to wrap it in a stream.
    pub fn events(&mut self) -> &mut mpsc::Receiver<RealtimeEvent> {
        &mut self.events
    }

    /// A handle for commands.
    pub fn handle(&self) -> RealtimeHandle {
        self.handle.clone()
    }

    /// Closes the connection cleanly and stops the background task.
    pub async fn shutdown(mut self) {
        let (done, wait) = oneshot::channel();
        if self.handle.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RealtimeClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RealtimeHandle {
    /// Sends a text message with a fresh `client_msg_id`.
    pub async fn send_text(&self, chat_id: &str, content: &str) -> Result<SendAck, WsError> {
        self.send(SendMessage {
            chat_id: chat_id.to_owned(),
            content: content.to_owned(),
            message_type: MessageType::Text,
            client_msg_id: None,
            file_id: None,
            metadata: None,
            sender_id: None,
        })
        .await
    }

    /// Sends a message over the socket and waits for `send.ok` (or the
    /// `error` naming its `client_msg_id`: [`WsError::Rejected`]). Without
    /// a `client_msg_id` one is made up. While disconnected the message
    /// waits; after a reconnect it is sent again with the same id, so it
    /// is stored once. Wrap in a timeout to bound the wait.
    pub async fn send(&self, mut message: SendMessage) -> Result<SendAck, WsError> {
        let client_msg_id = message
            .client_msg_id
            .get_or_insert_with(|| uuid::Uuid::now_v7().to_string())
            .clone();
        let (answer, wait) = oneshot::channel();
        self.command(Command::Send {
            client_msg_id,
            message,
            answer,
        })?;
        wait.await.map_err(|_| WsError::Stopped)?
    }

    /// Marks a chat read up to `seq` (a `read` frame; dropped while
    /// disconnected: send it again or use REST `mark_read`).
    pub fn read(&self, chat_id: &str, seq: i64) -> Result<(), WsError> {
        let chat_id = chat_id.to_owned();
        self.command(Command::Frame(natter_proto::events::ClientFrame::Read {
            chat_id,
            seq,
        }))
    }

    /// Starts or ends a typing indication (dropped while disconnected).
    pub fn typing(&self, chat_id: &str, active: bool) -> Result<(), WsError> {
        let chat_id = chat_id.to_owned();
        self.command(Command::Frame(natter_proto::events::ClientFrame::Typing {
            chat_id,
            active,
        }))
    }

    /// Sets this connection `online` or `away`; kept across reconnects.
    pub fn set_presence(&self, status: PresenceStatus) -> Result<(), WsError> {
        self.command(Command::Presence(status))
    }

    /// Drops the current connection without a close frame and reconnects
    /// (after a network change, say).
    pub fn reconnect(&self) -> Result<(), WsError> {
        self.command(Command::Reconnect)
    }

    /// The cursors per chat, to save for [`Start::Cursors`].
    pub async fn cursors(&self) -> Result<HashMap<String, SavedCursor>, WsError> {
        let (answer, wait) = oneshot::channel();
        self.command(Command::Cursors(answer))?;
        wait.await.map_err(|_| WsError::Stopped)
    }

    /// The session with its current tokens.
    pub async fn session(&self) -> Result<Session, WsError> {
        let (answer, wait) = oneshot::channel();
        self.command(Command::Session(answer))?;
        wait.await.map_err(|_| WsError::Stopped)
    }

    fn command(&self, command: Command) -> Result<(), WsError> {
        self.commands.send(command).map_err(|_| WsError::Stopped)
    }
}
