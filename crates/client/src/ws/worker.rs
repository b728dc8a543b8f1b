//! The task behind a [`RealtimeClient`](super::RealtimeClient): connect
//! (refreshing the token on 401), resume (fetch every gap `ready` shows,
//! then every change it shows, before reading live events), then pump socket events, application
//! commands and batched acks until the connection ends; wait a jittered
//! backoff; repeat. The resume decisions themselves are the pure
//! [`ChatCursors`]; this module only does the I/O around them: the
//! connection life cycle here, commands and pending sends in
//! [`commands`], events, gap fills and deliveries in [`inbound`].

mod commands;
mod inbound;

pub(super) use commands::Command;
use commands::Pending;

use super::backoff::Backoff;
use super::connection::{ConnectOptions, Connection, WsAuth};
use super::cursors::{AckBatch, ChatCursors};
use super::error::{CloseInfo, WsError};
use super::realtime::{RealtimeEvent, RealtimeOptions, Start};
use crate::Session;
use natter_proto::events::ClientFrame;
use natter_proto::users::PresenceStatus;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// Longest wait for `ready` after the upgrade.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Acks wait this long so that a burst of messages costs one ack per chat.
const ACK_DELAY: Duration = Duration::from_millis(50);

/// Why a connection (attempt) ended.
enum End {
    /// Try again after a backoff.
    Retry {
        close: Option<CloseInfo>,
        reason: String,
    },
    /// Stop for good; tell the application why, if there is a reason.
    Stop(Option<String>),
}

fn retry(error: &WsError) -> End {
    End::Retry {
        close: error.close().cloned(),
        reason: error.to_string(),
    }
}

pub(super) struct Worker {
    session: Session,
    options: RealtimeOptions,
    backoff: Backoff,
    cursors: ChatCursors,
    acks: AckBatch,
    pending: Vec<Pending>,
    away: bool,
    connected_once: bool,
    events: mpsc::Sender<RealtimeEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
}

impl Worker {
    pub(super) fn new(
        session: Session,
        options: RealtimeOptions,
        events: mpsc::Sender<RealtimeEvent>,
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Worker {
        let cursors = match &options.start {
            Start::FromNow => ChatCursors::new(),
            Start::Cursors(saved) => ChatCursors::from_saved(saved.clone()),
        };
        Worker {
            session,
            backoff: options.backoff.clone(),
            options,
            cursors,
            acks: AckBatch::default(),
            pending: Vec::new(),
            away: false,
            connected_once: false,
            events,
            commands,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let end = match self.connect().await {
                Ok(mut connection) => self.serve(&mut connection).await,
                Err(end) => end,
            };
            match end {
                End::Stop(reason) => {
                    if let Some(reason) = reason {
                        let _ = self.events.send(RealtimeEvent::Stopped { reason }).await;
                    }
                    return;
                }
                End::Retry { close, reason } => {
                    let event = RealtimeEvent::Disconnected { close, reason };
                    if self.events.send(event).await.is_err() {
                        return;
                    }
                }
            }
            let delay = self.backoff.next_delay();
            if self.idle(delay).await.is_err() {
                return;
            }
        }
    }

    /// Opens a socket; a 401 refreshes the tokens once and tries again.
    async fn connect(&mut self) -> Result<Connection, End> {
        let mut refreshed = false;
        loop {
            let options = ConnectOptions {
                auth: WsAuth::Bearer(self.session.access_token().to_owned()),
                origin: self.options.origin.clone(),
                recv_buffer: None,
            };
            match Connection::connect(self.session.client().base_url(), &options).await {
                Ok(connection) => return Ok(connection),
                Err(WsError::Refused { status: 401, .. }) if !refreshed => {
                    refreshed = true;
                    self.refresh().await?;
                }
                Err(error) => return Err(retry(&error)),
            }
        }
    }

    async fn refresh(&mut self) -> Result<(), End> {
        match self.session.refresh().await {
            Ok(()) => Ok(()),
            Err(error) if error.status() == Some(401) => Err(End::Stop(Some(format!(
                "the session can no longer be refreshed: {error}"
            )))),
            Err(error) => Err(retry(&WsError::Rest(error))),
        }
    }

    /// One connection: `ready`, resume, then live events until it ends.
    async fn serve(&mut self, connection: &mut Connection) -> End {
        let ready = match connection.ready(READY_TIMEOUT).await {
            Ok(ready) => ready,
            Err(error) => return retry(&error),
        };
        self.backoff.reset();
        let resuming = self.connected_once || matches!(self.options.start, Start::Cursors(_));
        let backlog = if resuming {
            self.options.new_chat_backlog
        } else {
            0
        };
        self.connected_once = true;
        let gaps = self.cursors.on_ready(&ready.chats, backlog);
        let changes = self.cursors.changes(&ready.chats);
        for gap in gaps {
            if let Err(end) = self.fill(gap).await {
                return end;
            }
        }
        for changes in changes {
            if let Err(end) = self.fetch_changes(changes).await {
                return end;
            }
        }
        let mut resend: Vec<ClientFrame> = self.pending.iter().map(|p| p.frame.clone()).collect();
        if self.away {
            resend.push(ClientFrame::Presence {
                status: PresenceStatus::Away,
            });
        }
        for frame in &resend {
            if let Err(error) = connection.send_frame(frame).await {
                return retry(&error);
            }
        }
        let connected = RealtimeEvent::Connected {
            session_id: ready.session_id,
        };
        if self.events.send(connected).await.is_err() {
            return End::Stop(None);
        }
        self.pump(connection).await
    }

    async fn pump(&mut self, connection: &mut Connection) -> End {
        let mut ack_at: Option<Instant> = None;
        loop {
            if ack_at.is_none() && !self.acks.is_empty() {
                ack_at = Some(Instant::now() + ACK_DELAY);
            }
            let outcome = tokio::select! {
                event = connection.recv() => match event {
                    Ok(event) => self.on_event(event).await,
                    // An event type newer than this library: skip it.
                    Err(WsError::Decode(_)) => Ok(()),
                    Err(error) => Err(retry(&error)),
                },
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(Some(&mut *connection), command).await,
                    None => Err(End::Stop(None)),
                },
                () = sleep_until(ack_at.unwrap_or_else(Instant::now)), if ack_at.is_some() => {
                    ack_at = None;
                    self.send_acks(connection).await
                }
            };
            if let Err(end) = outcome {
                return end;
            }
        }
    }

    /// Waits out a backoff delay while still taking commands. `Err` means stop.
    async fn idle(&mut self, delay: Duration) -> Result<(), ()> {
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                () = sleep_until(until) => return Ok(()),
                command = self.commands.recv() => match command {
                    Some(Command::Reconnect) => return Ok(()),
                    Some(command) => match self.on_command(None, command).await {
                        Ok(()) | Err(End::Retry { .. }) => {}
                        Err(End::Stop(_)) => return Err(()),
                    },
                    None => return Err(()),
                },
            }
        }
    }
}
