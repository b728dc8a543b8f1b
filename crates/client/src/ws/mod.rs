//! The WebSocket half of the client: `GET /api/v1/ws` of the API contract.
//!
//! Two levels:
//! - [`Connection`]: one socket, as it is. Connect with a Bearer header or
//!   an `auth` first frame, send [`ClientFrame`]s (or raw text and binary
//!   for tests of hostile input), read [`ServerEvent`]s, see the close
//!   frame the server ended with. No reconnection, no state.
//! - [`RealtimeClient`]: what an application uses. It reconnects with
//!   jittered exponential backoff ([`Backoff`]) and resumes gap-free: it
//!   keeps the `seq` it has delivered per chat ([`ChatCursors`]), fetches
//!   what it missed with `?after=seq:N` before live events of that chat,
//!   drops duplicates, and delivers every message exactly once, in `seq`
//!   order per chat; edits, deletes and reactions made while it was away
//!   are fetched with the change cursor (`?changed_after=V`) and handed
//!   over as [`RealtimeEvent::Changed`]. It acks what it delivered (batched), retries
//!   unanswered sends with the same `client_msg_id` after a reconnect, and
//!   refreshes the access token through its [`Session`](crate::Session)
//!   when the server says 401.
//!
//! This module knows the contract only; it owns no server internals.
//!
//! [`ClientFrame`]: natter_proto::events::ClientFrame
//! [`ServerEvent`]: natter_proto::events::ServerEvent

mod backoff;
mod connection;
mod cursors;
mod error;
mod realtime;
mod worker;

pub use backoff::Backoff;
pub use connection::{ConnectOptions, Connection, Ready, WsAuth, ws_url};
pub use cursors::{Changes, ChatCursors, Gap, Live, SavedCursor};
pub use error::{CloseInfo, WsError};
pub use realtime::{RealtimeClient, RealtimeEvent, RealtimeHandle, RealtimeOptions, Start};
