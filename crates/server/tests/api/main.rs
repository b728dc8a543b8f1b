//! HTTP integration tests of the natter server: each test starts the real
//! server in-process on `127.0.0.1:0` with a fresh data directory (see
//! [`helpers`]) and talks to it through `natter-client`, the project's own
//! Rust client. The durability tests run the `natter` binary itself. The
//! real-time tests open real WebSockets (`natter_client::ws`).
//!
//! One test binary; one module per area of the API contract.

mod auth;
mod chats;
mod durability;
mod errors;
mod helpers;
mod history;
mod jwt;
mod members;
mod messages;
mod ops;
mod presence_typing;
mod process;
mod proxy;
mod reactions_receipts;
mod realtime;
mod realtime_auth;
mod realtime_connect;
mod realtime_limits;
mod realtime_membership;
mod realtime_receipts;
mod resume;
mod search;
mod tokens;
mod users;
