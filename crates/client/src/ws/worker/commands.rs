//! What a [`RealtimeHandle`](crate::ws::RealtimeHandle) asks of the
//! worker, and the sends waiting for their `send.ok`: written at once
//! when connected, kept (and written again after every reconnect, with
//! the same `client_msg_id`) until the server answers.

use super::{End, Worker, retry};
use crate::Session;
use crate::ws::connection::Connection;
use crate::ws::cursors::SavedCursor;
use crate::ws::error::WsError;
use natter_proto::events::ClientFrame;
use natter_proto::messages::{SendAck, SendMessage};
use natter_proto::users::PresenceStatus;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// What a [`RealtimeHandle`](crate::ws::RealtimeHandle) asks of the task.
#[derive(Debug)]
pub(crate) enum Command {
    Send {
        client_msg_id: String,
        message: SendMessage,
        answer: oneshot::Sender<Result<SendAck, WsError>>,
    },
    Frame(ClientFrame),
    Presence(PresenceStatus),
    Reconnect,
    Cursors(oneshot::Sender<HashMap<String, SavedCursor>>),
    Session(oneshot::Sender<Session>),
    Shutdown(oneshot::Sender<()>),
}

/// A send waiting for its `send.ok`; written again after a reconnect.
pub(super) struct Pending {
    pub(super) client_msg_id: String,
    pub(super) chat_id: String,
    pub(super) frame: ClientFrame,
    pub(super) answer: oneshot::Sender<Result<SendAck, WsError>>,
}

impl Worker {
    /// Handles a command; without a connection, frames are dropped and
    /// sends wait for the next one.
    pub(super) async fn on_command(
        &mut self,
        connection: Option<&mut Connection>,
        command: Command,
    ) -> Result<(), End> {
        let frame = match command {
            Command::Send {
                client_msg_id,
                message,
                answer,
            } => {
                let frame = ClientFrame::Send {
                    client_msg_id: client_msg_id.clone(),
                    chat_id: message.chat_id.clone(),
                    content: message.content,
                    message_type: Some(message.message_type),
                    file_id: message.file_id,
                    metadata: message.metadata,
                };
                self.pending.push(Pending {
                    client_msg_id,
                    chat_id: message.chat_id,
                    frame: frame.clone(),
                    answer,
                });
                frame
            }
            Command::Frame(frame) => frame,
            Command::Presence(status) => {
                self.away = status == PresenceStatus::Away;
                ClientFrame::Presence { status }
            }
            Command::Reconnect => {
                return Err(End::Retry {
                    close: None,
                    reason: "reconnect requested".into(),
                });
            }
            Command::Cursors(answer) => {
                let _ = answer.send(self.cursors.snapshot());
                return Ok(());
            }
            Command::Session(answer) => {
                let _ = answer.send(self.session.clone());
                return Ok(());
            }
            Command::Shutdown(done) => {
                if let Some(connection) = connection {
                    connection.close().await;
                }
                let _ = done.send(());
                return Err(End::Stop(None));
            }
        };
        match connection {
            Some(connection) => connection
                .send_frame(&frame)
                .await
                .map_err(|error| retry(&error)),
            None => Ok(()),
        }
    }

    pub(super) fn answer(
        &mut self,
        client_msg_id: &str,
        result: impl FnOnce(String) -> Result<SendAck, WsError>,
    ) {
        if let Some(index) = self
            .pending
            .iter()
            .position(|p| p.client_msg_id == client_msg_id)
        {
            let pending = self.pending.remove(index);
            let _ = pending.answer.send(result(pending.chat_id));
        }
    }
}
