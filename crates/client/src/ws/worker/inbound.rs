//! What arrives for the application: socket events, the gaps they (or
//! `ready`) reveal, filled from REST history page by page, the changes
//! `ready` reveals (edits, deletes, reactions made while away), and the
//! delivery of messages with the acks they owe.

use super::{End, Worker, retry};
use crate::HistoryQuery;
use crate::ws::connection::Connection;
use crate::ws::cursors::{Changes, Gap, Live};
use crate::ws::error::WsError;
use crate::ws::realtime::RealtimeEvent;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::{Message, MessagePage, MessageStatus, SendAck};

impl Worker {
    pub(super) async fn on_event(&mut self, event: ServerEvent) -> Result<(), End> {
        match event {
            ServerEvent::MessageNew { message } => match self.cursors.on_live(message) {
                Live::Deliver(messages) => self.deliver(messages).await,
                Live::Duplicate => Ok(()),
                Live::Gap(gap) => self.fill(gap).await,
            },
            ServerEvent::SendOk {
                client_msg_id,
                message_id,
                seq,
                created_at,
            } => {
                self.answer(&client_msg_id, |chat_id| {
                    Ok(SendAck {
                        message_id,
                        chat_id,
                        seq,
                        status: MessageStatus::Sent,
                        created_at,
                    })
                });
                Ok(())
            }
            ServerEvent::Error {
                client_msg_id: Some(id),
                code,
                detail,
                ..
            } if self.pending.iter().any(|p| p.client_msg_id == id) => {
                self.answer(&id, |_| Err(WsError::Rejected { code, detail }));
                Ok(())
            }
            ServerEvent::Ready { .. } | ServerEvent::Pong => Ok(()),
            event => {
                match &event {
                    ServerEvent::ChatCreated { chat } => {
                        self.cursors
                            .join(&chat.chat_id, chat.last_seq, chat.last_version)
                    }
                    ServerEvent::ChatMemberRemoved { chat_id, user_id }
                        if *user_id == self.session.user().user_id =>
                    {
                        self.cursors.leave(chat_id);
                    }
                    _ => {}
                }
                self.emit(RealtimeEvent::Event(event)).await
            }
        }
    }

    /// Fetches and delivers every message after `gap.after`, page by page.
    pub(super) async fn fill(&mut self, gap: Gap) -> Result<(), End> {
        let mut after = gap.after;
        loop {
            let query = HistoryQuery::new()
                .after_seq(after)
                .limit(self.options.page_limit);
            let page = match self.fetch(&gap.chat_id, &query).await {
                Ok(page) => page,
                // Not a member any more: nothing to resume.
                Err(WsError::Rest(error)) if error.status() == Some(404) => {
                    self.cursors.leave(&gap.chat_id);
                    return Ok(());
                }
                Err(error) => return Err(retry(&error)),
            };
            let last = page.messages.last().map(|message| message.seq);
            let deliverable = self.cursors.on_fetched(&gap.chat_id, page.messages);
            self.deliver(deliverable).await?;
            match last {
                Some(last) if page.has_more && last > after => after = last,
                _ => return Ok(()),
            }
        }
    }

    /// Fetches every change of a chat after the version held, page by
    /// page, and hands the application the messages it had before the
    /// `ready` in their current state (newer ones come through
    /// [`fill`](Self::fill), already current); then the chat's cursor
    /// moves to `changes.up_to`.
    pub(super) async fn fetch_changes(&mut self, changes: Changes) -> Result<(), End> {
        let mut after = changes.after_version;
        loop {
            let query = HistoryQuery::new()
                .changed_after(after)
                .limit(self.options.page_limit);
            let page = match self.fetch(&changes.chat_id, &query).await {
                Ok(page) => page,
                Err(WsError::Rest(error)) if error.status() == Some(404) => {
                    self.cursors.leave(&changes.chat_id);
                    return Ok(());
                }
                Err(error) => return Err(retry(&error)),
            };
            let last = page.messages.last().map(|message| message.version);
            for message in page.messages {
                if message.seq <= changes.delivered {
                    self.emit(RealtimeEvent::Changed(message)).await?;
                }
            }
            match last {
                Some(last) if page.has_more && last > after => after = last,
                _ => break,
            }
        }
        self.cursors
            .changes_fetched(&changes.chat_id, changes.up_to);
        Ok(())
    }

    async fn fetch(&mut self, chat_id: &str, query: &HistoryQuery) -> Result<MessagePage, WsError> {
        match self.session.client().messages(chat_id, query).await {
            Err(error) if error.status() == Some(401) => {
                self.session.refresh().await?;
                Ok(self.session.client().messages(chat_id, query).await?)
            }
            result => Ok(result?),
        }
    }

    /// Hands messages to the application and notes the acks they owe.
    async fn deliver(&mut self, messages: Vec<Message>) -> Result<(), End> {
        for message in messages {
            if message.sender_id != self.session.user().user_id {
                self.acks.note(&message.chat_id, message.seq);
            }
            self.emit(RealtimeEvent::Message(message)).await?;
        }
        Ok(())
    }

    pub(super) async fn send_acks(&mut self, connection: &mut Connection) -> Result<(), End> {
        for (chat_id, seq) in self.acks.take() {
            let ack = ClientFrame::Ack { chat_id, seq };
            connection
                .send_frame(&ack)
                .await
                .map_err(|error| retry(&error))?;
        }
        Ok(())
    }

    pub(super) async fn emit(&self, event: RealtimeEvent) -> Result<(), End> {
        self.events.send(event).await.map_err(|_| End::Stop(None))
    }
}
