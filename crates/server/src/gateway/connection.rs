//! One WebSocket session after the upgrade: authentication (if the
//! upgrade carried no token), `ready`, then a loop over the socket, the
//! outbox, the heartbeat and server shutdown until either side closes.
//!
//! The task owns the socket alone: routed events arrive through the
//! [`Outbox`] and are written in batches (all waiting frames, one flush);
//! direct answers (`error`, `pong`) are written in place.
//!
//! Sends are pipelined: a `send` frame is checked and queued for storage
//! in the order the frames arrive (so its `seq` follows that order), and
//! the session goes on reading while it is being committed; its `send.ok`
//! is written when the commit is done. A client that sends a burst thus
//! shares one commit among its messages instead of waiting for a commit
//! per message. At most [`MAX_SENDS_IN_FLIGHT`] are pending; beyond that
//! the session stops reading until one is answered (backpressure).

use super::Gateway;
use super::outbox::{Drained, KEPT_CAPACITY, Outbox};
use super::router::{Command, Route, encode};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use natter_core::{Caller, Core, CoreError};
use natter_proto::ErrorCode;
use natter_proto::events::ReceiptKind;
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::SendMessage;
use natter_proto::users::PresenceStatus;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior, timeout};

/// Close codes (RFC 6455 and the IANA registry).
mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Most sends of one session queued and not yet answered.
const MAX_SENDS_IN_FLIGHT: usize = 64;

/// The answers to a session's pending sends (`send.ok` or `error`). The
/// set is allocated on the session's first send: most sessions, at any
/// moment, are idle and carry none.
#[derive(Default)]
struct PendingAnswers<'c>(Option<FuturesUnordered<BoxFuture<'c, ServerEvent>>>);

impl<'c> PendingAnswers<'c> {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, FuturesUnordered::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, answer: BoxFuture<'c, ServerEvent>) {
        self.0
            .get_or_insert_with(FuturesUnordered::new)
            .push(answer);
    }

    /// The next answer to be ready; `None` once none is pending.
    async fn next(&mut self) -> Option<ServerEvent> {
        match &mut self.0 {
            Some(answers) => answers.next().await,
            None => None,
        }
    }
}

/// How a session ended, and what to tell the peer.
struct Ending {
    code: u16,
    reason: &'static str,
}

/// Runs one session to its end.
pub async fn run(gateway: Arc<Gateway>, mut socket: WebSocket, caller: Option<Caller>) {
    let caller = match caller {
        Some(caller) => caller,
        None => match authenticate(&gateway, &mut socket).await {
            Ok(caller) => caller,
            Err(ending) => return close_with(&mut socket, ending).await,
        },
    };
    let settings = &gateway.settings;
    if let Err(error) = gateway
        .core
        .connection_opened(&caller.user_id, settings.max_connections_per_user)
        .await
    {
        tracing::debug!(?error, "connection refused");
        return close_with(
            &mut socket,
            Ending {
                code: close::POLICY,
                reason: "too many connections",
            },
        )
        .await;
    }
    let mut session = Session {
        id: gateway.next_id(),
        party_id: natter_core::new_id(),
        outbox: Arc::new(Outbox::new(settings.outbox_frames)),
        caller,
        away: false,
        gateway: gateway.clone(),
    };
    let ending = session.serve(&mut socket).await;
    session.finish().await;
    close_with(&mut socket, ending).await;
}

/// Waits for `{"type":"auth","token"}` as the first frame.
async fn authenticate(gateway: &Gateway, socket: &mut WebSocket) -> Result<Caller, Ending> {
    let refused = Ending {
        code: close::POLICY,
        reason: "authentication failed",
    };
    let wait = Duration::from_secs(gateway.settings.auth_timeout_secs);
    let first = match timeout(wait, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(_) => return Err(refused),
        Err(_) => {
            return Err(Ending {
                code: close::POLICY,
                reason: "authentication timed out",
            });
        }
    };
    match serde_json::from_str::<ClientFrame>(&first) {
        Ok(ClientFrame::Auth { token }) => {
            gateway.core.authenticate(&token).await.map_err(|_| refused)
        }
        _ => Err(refused),
    }
}

async fn close_with(socket: &mut WebSocket, ending: Ending) {
    let frame = CloseFrame {
        code: ending.code,
        reason: Utf8Bytes::from_static(ending.reason),
    };
    // The peer may be gone or not reading: do not wait long for it.
    let _ = timeout(
        Duration::from_secs(2),
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

struct Session {
    id: u64,
    /// This connection's party id in calls (globally unique, unlike `id`).
    party_id: String,
    outbox: Arc<Outbox>,
    caller: Caller,
    away: bool,
    gateway: Arc<Gateway>,
}

impl Session {
    async fn serve(&mut self, socket: &mut WebSocket) -> Ending {
        let chats = match self.gateway.core.chat_cursors(&self.caller.user_id).await {
            Ok(chats) => chats,
            Err(error) => {
                tracing::warn!(?error, "could not build ready");
                return Ending {
                    code: close::TRY_AGAIN_LATER,
                    reason: "try again later",
                };
            }
        };
        let route = Route {
            id: self.id,
            session_id: self.caller.session_id.clone(),
            party_id: self.party_id.clone(),
            outbox: self.outbox.clone(),
        };
        let cursors = chats
            .iter()
            .map(|chat| (chat.chat_id.clone(), chat.last_seq))
            .collect();
        let (registered, routed) = tokio::sync::oneshot::channel();
        self.gateway.command(Command::Register {
            route,
            user_id: self.caller.user_id.clone(),
            chats: cursors,
            registered,
        });
        // A message stored after the cursors were read but routed before
        // the registration reached no socket here: read again now that
        // routing is in place, have the router fetch what moved (for the
        // chats it had no route for), and tell the client the cursors as
        // they are now, so that it fetches what moved too (for the chats
        // other local sockets already received it in).
        let chats = match routed.await {
            Ok(epoch) => match self.gateway.core.chat_cursors(&self.caller.user_id).await {
                Ok(now) => {
                    // And membership as it is now: a chat left (or joined)
                    // since the first read sent its event to no route.
                    self.gateway.command(Command::Reconcile {
                        user_id: self.caller.user_id.clone(),
                        epoch,
                        chats: now
                            .iter()
                            .map(|cursor| (cursor.chat_id.clone(), cursor.last_seq))
                            .collect(),
                    });
                    let moved: Vec<(String, i64)> = now
                        .iter()
                        .filter(|cursor| {
                            chats.iter().any(|before| {
                                before.chat_id == cursor.chat_id
                                    && before.last_seq < cursor.last_seq
                            })
                        })
                        .map(|cursor| (cursor.chat_id.clone(), cursor.last_seq))
                        .collect();
                    if !moved.is_empty() {
                        self.gateway.command(Command::CatchUp { chats: moved });
                    }
                    now
                }
                Err(_) => chats,
            },
            Err(_) => chats,
        };
        // A session ended between its authentication and its routes being
        // in place sent its end to no route: check once more now.
        match self.gateway.core.session_live(&self.caller).await {
            Ok(true) => self.gateway.core.device_used(&self.caller),
            Ok(false) => return session_ended(),
            Err(error) => {
                tracing::warn!(?error, "could not check the session");
                return Ending {
                    code: close::TRY_AGAIN_LATER,
                    reason: "try again later",
                };
            }
        }
        let ready = ServerEvent::Ready {
            user_id: self.caller.user_id.clone(),
            session_id: self.caller.session_id.clone(),
            chats,
            party_id: Some(self.party_id.clone()),
        };
        if self.write_now(socket, &ready).await.is_err() {
            return Ending {
                code: close::GOING_AWAY,
                reason: "",
            };
        }
        self.pump(socket).await
    }

    /// The main loop, then the sends still pending: they are stored (and
    /// published) whatever happens to the socket; the client learns of
    /// them from its cursors after it reconnects.
    async fn pump(&mut self, socket: &mut WebSocket) -> Ending {
        let core = self.gateway.core.clone();
        let mut sends = PendingAnswers::default();
        let ending = self.pump_until_end(socket, &core, &mut sends).await;
        while sends.next().await.is_some() {}
        ending
    }

    async fn pump_until_end<'c>(
        &mut self,
        socket: &mut WebSocket,
        core: &'c Core,
        sends: &mut PendingAnswers<'c>,
    ) -> Ending {
        let settings = self.gateway.settings.clone();
        let idle_limit = Duration::from_secs(settings.idle_timeout_secs);
        let mut heartbeat = tokio::time::interval(Duration::from_secs(settings.ping_interval_secs));
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shutdown = self.gateway.shutdown.clone();
        let mut last_heard = Instant::now();
        let outbox = self.outbox.clone();
        let mut frames = VecDeque::new();
        loop {
            // Biased: the branches are polled in this order, so a wake-up
            // for routed frames (by far the most frequent, one per
            // delivery) does not also poll the heartbeat and shutdown
            // timers; the socket comes first so that a busy outbox can
            // never keep the client's frames from being read.
            tokio::select! {
                biased;
                incoming = socket.recv(), if sends.len() < MAX_SENDS_IN_FLIGHT => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            // Boxed: the handler's state (a whole send) lives on the
                            // heap only while a frame is handled, not in every idle
                            // session's future.
                            if Box::pin(self.frame(socket, &text, core, sends)).await.is_err() {
                                return Ending { code: close::GOING_AWAY, reason: "" };
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            return Ending { code: close::UNSUPPORTED_DATA, reason: "binary frames are not supported" };
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => return Ending { code: close::GOING_AWAY, reason: "" },
                        Some(Err(error)) => return read_error(error),
                    }
                }
                () = outbox.ready() => {
                    if let Some(ending) = self.flush_outbox(socket, &mut frames, settings.write_timeout_secs).await {
                        return ending;
                    }
                }
                Some(answer) = sends.next(), if !sends.is_empty() => {
                    if self.write_now(socket, &answer).await.is_err() {
                        return Ending { code: close::GOING_AWAY, reason: "" };
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > idle_limit {
                        return Ending { code: close::POLICY, reason: "heartbeat timeout" };
                    }
                    if self.send_timed(socket, Message::Ping(Default::default())).await.is_err() {
                        return Ending { code: close::GOING_AWAY, reason: "" };
                    }
                }
                _ = shutdown.changed() => return Ending { code: close::GOING_AWAY, reason: "server shutting down" },
            }
        }
    }

    /// Writes every waiting routed frame with one flush; `frames` is the
    /// session's spare buffer (see [`Outbox::drain_into`]).
    async fn flush_outbox(
        &self,
        socket: &mut WebSocket,
        frames: &mut VecDeque<Utf8Bytes>,
        write_timeout_secs: u64,
    ) -> Option<Ending> {
        match self.outbox.drain_into(frames) {
            Drained::Frames => {}
            Drained::Overflowed => {
                metrics::counter!("natter_gateway_slow_consumers_total").increment(1);
                return Some(Ending {
                    code: close::TRY_AGAIN_LATER,
                    reason: "too slow: resume from your cursors",
                });
            }
            Drained::SessionEnded => return Some(session_ended()),
        }
        if frames.is_empty() {
            return None;
        }
        let count = frames.len() as u64;
        let write = async {
            for frame in frames.drain(..) {
                socket.feed(Message::Text(frame)).await?;
            }
            socket.flush().await
        };
        let written = timeout(Duration::from_secs(write_timeout_secs), write).await;
        // Whatever happened, the buffer goes back empty (and not huge).
        frames.clear();
        frames.shrink_to(KEPT_CAPACITY);
        match written {
            Ok(Ok(())) => {
                metrics::counter!("natter_gateway_frames_sent_total").increment(count);
                None
            }
            Ok(Err(_)) => Some(Ending {
                code: close::GOING_AWAY,
                reason: "",
            }),
            Err(_) => Some(Ending {
                code: close::TRY_AGAIN_LATER,
                reason: "too slow: resume from your cursors",
            }),
        }
    }

    /// Handles one client frame; a send is queued and its answer added to
    /// `sends`. Errors only when the socket failed.
    async fn frame<'c>(
        &mut self,
        socket: &mut WebSocket,
        text: &str,
        core: &'c Core,
        sends: &mut PendingAnswers<'c>,
    ) -> Result<(), axum::Error> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(error) => return self.write_now(socket, &frame_error(text, &error)).await,
        };
        let caller = &self.caller;
        let answer = match frame {
            ClientFrame::Ping => Some(ServerEvent::Pong),
            ClientFrame::Auth { .. } => Some(error_event(
                None,
                CoreError::invalid("already authenticated"),
            )),
            ClientFrame::Send {
                client_msg_id,
                chat_id,
                content,
                message_type,
                file_id,
                metadata,
            } => {
                let request = SendMessage {
                    chat_id,
                    content,
                    message_type: message_type.unwrap_or_default(),
                    client_msg_id: Some(client_msg_id.clone()),
                    file_id,
                    metadata,
                    sender_id: None,
                };
                match core.queue_send(caller, request).await {
                    Ok(pending) => {
                        sends.push(Box::pin(async move {
                            match pending.await {
                                Ok((ack, _)) => ServerEvent::SendOk {
                                    client_msg_id,
                                    message_id: ack.message_id,
                                    seq: ack.seq,
                                    created_at: ack.created_at,
                                },
                                Err(error) => error_event(Some(client_msg_id), error),
                            }
                        }));
                        None
                    }
                    Err(error) => Some(error_event(Some(client_msg_id), error)),
                }
            }
            ClientFrame::Ack { chat_id, seq } => core
                .queue_marker(caller, &chat_id, ReceiptKind::Delivered, seq)
                .err()
                .map(|error| error_event(None, error)),
            ClientFrame::Read { chat_id, seq } => core
                .queue_marker(caller, &chat_id, ReceiptKind::Read, seq)
                .err()
                .map(|error| error_event(None, error)),
            ClientFrame::Typing { chat_id, active } => core
                .typing(caller, &chat_id, active)
                .await
                .err()
                .map(|error| error_event(None, error)),
            frame @ (ClientFrame::CallInvite { .. }
            | ClientFrame::CallAnswer { .. }
            | ClientFrame::CallCandidates { .. }
            | ClientFrame::CallNegotiate { .. }
            | ClientFrame::CallReject { .. }
            | ClientFrame::CallHangup { .. }) => {
                let call_id = frame.call_id().map(str::to_owned);
                core.call_frame(caller, &self.party_id, frame)
                    .await
                    .err()
                    .map(|error| error.to_frame(None, call_id))
            }
            ClientFrame::Presence { status } => {
                let away = match status {
                    PresenceStatus::Away => true,
                    PresenceStatus::Online => false,
                    PresenceStatus::Offline => {
                        return self
                            .write_now(
                                socket,
                                &error_event(
                                    None,
                                    CoreError::invalid("status must be online or away"),
                                ),
                            )
                            .await;
                    }
                };
                let result = core.connection_away(&caller.user_id, self.away, away).await;
                self.away = away;
                result.err().map(|error| error_event(None, error))
            }
        };
        match answer {
            Some(event) => self.write_now(socket, &event).await,
            None => Ok(()),
        }
    }

    async fn write_now(
        &self,
        socket: &mut WebSocket,
        event: &ServerEvent,
    ) -> Result<(), axum::Error> {
        self.send_timed(socket, Message::Text(encode(event))).await
    }

    /// Sends one frame, giving up after the write timeout: a peer that
    /// does not read must not wedge the session (and with it the outbox
    /// overflow check, the heartbeat and shutdown).
    async fn send_timed(
        &self,
        socket: &mut WebSocket,
        message: Message,
    ) -> Result<(), axum::Error> {
        let limit = Duration::from_secs(self.gateway.settings.write_timeout_secs);
        match timeout(limit, socket.send(message)).await {
            Ok(sent) => sent,
            Err(_) => Err(axum::Error::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "socket write timed out",
            ))),
        }
    }

    /// Leaves the router and presence.
    async fn finish(&self) {
        self.gateway.command(Command::Unregister {
            id: self.id,
            user_id: self.caller.user_id.clone(),
        });
        self.gateway
            .core
            .calls_connection_closed(&self.caller.user_id, &self.party_id)
            .await;
        if let Err(error) = self
            .gateway
            .core
            .connection_closed(&self.caller.user_id, self.away)
            .await
        {
            tracing::warn!(?error, "recording the disconnect failed");
        }
    }
}

/// How a socket of a session that ended (logout, revocation) closes.
fn session_ended() -> Ending {
    Ending {
        code: close::POLICY,
        reason: "the session has ended",
    }
}

/// The close code RFC 6455 gives for what went wrong reading a frame:
/// 1002 for a protocol violation (a continuation without a start, a
/// reserved opcode, RSV bits without an extension, an unmasked client
/// frame, a control frame over 125 bytes), 1007 for a text frame that is
/// not UTF-8, 1009 for a frame or message beyond the limit; a transport
/// failure ends quietly (1001: there is nobody left to tell).
fn read_error(error: axum::Error) -> Ending {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    match error.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(CapacityError::MessageTooLong { .. })) => Ending {
            code: close::TOO_BIG,
            reason: "frame too large",
        },
        Some(Error::Protocol(_)) => Ending {
            code: close::PROTOCOL_ERROR,
            reason: "websocket protocol violation",
        },
        Some(Error::Utf8(_)) => Ending {
            code: close::INVALID_PAYLOAD,
            reason: "text frame is not valid UTF-8",
        },
        _ => Ending {
            code: close::GOING_AWAY,
            reason: "",
        },
    }
}

fn error_event(client_msg_id: Option<String>, error: CoreError) -> ServerEvent {
    error.to_frame(client_msg_id, None)
}

/// A frame that is not JSON, has an unknown `type` or bad fields.
fn frame_error(text: &str, error: &serde_json::Error) -> ServerEvent {
    let value = serde_json::from_str::<serde_json::Value>(text).ok();
    let client_msg_id = value
        .as_ref()
        .and_then(|value| value.get("client_msg_id"))
        .and_then(|id| id.as_str())
        .map(str::to_owned);
    let detail = match value
        .as_ref()
        .map(|value| value.get("type").and_then(|kind| kind.as_str()))
    {
        // serde's reason too: "recursion limit exceeded" says more than
        // "not JSON" about a frame nested a thousand levels deep.
        None => format!("the frame is not valid JSON: {error}"),
        Some(None) => "the frame has no string `type`".to_owned(),
        Some(Some(kind)) if !KNOWN_FRAMES.contains(&kind) => format!("unknown frame type `{kind}`"),
        Some(Some(kind)) => format!("invalid `{kind}` frame: {error}"),
    };
    ServerEvent::Error {
        client_msg_id,
        call_id: None,
        code: ErrorCode::InvalidRequest,
        detail,
    }
}

const KNOWN_FRAMES: [&str; 13] = [
    "auth",
    "send",
    "ack",
    "read",
    "typing",
    "presence",
    "ping",
    "call.invite",
    "call.answer",
    "call.candidates",
    "call.negotiate",
    "call.reject",
    "call.hangup",
];
