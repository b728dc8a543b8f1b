//! Wire types of the natter API (`docs/API.md`): REST request and
//! response bodies, WebSocket frames and events, and the problem-details
//! error shape. Shared by the server, the Rust client and the load
//! generator so that all three speak exactly one contract. No I/O here.

pub mod auth;
pub mod calls;
pub mod chats;
pub mod devices;
pub mod error;
pub mod events;
pub mod key_packages;
pub mod messages;
pub mod mls;
pub mod previews;
pub mod push;
pub mod search;
pub mod time;
pub mod users;

pub use error::{ErrorCode, Problem};
pub use time::Timestamp;
