//! Rust client library for the natter chat server.
//!
//! [`Client`] speaks the REST part of the API contract (`docs/API.md`)
//! with the wire types of `natter-proto`: one async method per call, each
//! returning `Result<T, ClientError>`. A failed call carries the server's
//! RFC 9457 problem details ([`ClientError::Api`]). Files go up with
//! [`Client::upload_file`] and come back with [`Client::download`]
//! (signed link or Bearer token). [`Session`] keeps a
//! user's tokens and rotates them; [`Client::raw`] sends arbitrary bytes for
//! tests of malformed input.
//!
//! The WebSocket half lives in [`ws`]: a low-level [`ws::Connection`]
//! and [`ws::RealtimeClient`], which reconnects and resumes without gaps
//! or duplicates.
//!
//! End-to-end encrypted chats (MLS) live in [`mls`]: a device's MLS
//! state ([`mls::Device`]), [`mls::EncryptedChats`] driving it against
//! the server, and the `natter-chat` command-line program
//! ([`mls::cli`]).
//!
//! This crate owns no server internals: it knows the contract only.
//!
//! ```no_run
//! # async fn demo() -> Result<(), natter_client::ClientError> {
//! use natter_client::{Client, Session};
//! use natter_proto::auth::RegisterRequest;
//!
//! let anonymous = Client::new("http://127.0.0.1:8080");
//! let alice = Session::register(&anonymous, &RegisterRequest {
//!     username: "alice".into(),
//!     password: "correct horse".into(),
//!     display_name: None,
//!     device_name: None,
//! })
//! .await?;
//! let me = alice.client().me().await?;
//! assert_eq!(me.username, "alice");
//! # Ok(())
//! # }
//! ```

mod auth;
mod chats;
mod client;
mod devices;
mod error;
mod files;
mod messages;
pub mod mls;
mod previews;
mod search;
mod users;
pub mod ws;

pub use auth::Session;
pub use client::{Client, RawResponse, path_segment};
pub use error::ClientError;
pub use files::MultipartBody;
pub use messages::{HistoryQuery, text_message};
pub use search::SearchQuery;

/// Re-exported so callers of [`Client::raw`] need no direct `reqwest` dependency.
pub use reqwest::{Method, StatusCode, header};

/// The result of every client call.
pub type Result<T> = std::result::Result<T, ClientError>;
