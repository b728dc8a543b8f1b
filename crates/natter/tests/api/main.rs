//! HTTP integration tests of the natter server: each test starts the real
//! server in-process on `127.0.0.1:0` with a fresh data directory (see
//! [`helpers`]) and talks to it through `natter-client`, the project's own
//! Rust client. The durability tests run the `natter` binary itself. The
//! real-time tests open real WebSockets (`natter_client::ws`). The
//! files tests generate their corpus in memory ([`fixtures`]); the S3
//! test starts `moto_server`, a real S3-compatible server.
//!
//! One test binary; one module per area of the API contract.

mod abuse_limits;
mod auth;
mod backends;
mod balancer;
mod calls;
mod calls_cluster;
mod change_cursor;
mod chat_flags;
mod chat_profile;
mod chats;
mod cluster;
mod cluster_faults;
mod cluster_support;
mod connection_limits;
mod devices;
mod disk_full;
mod durability;
mod e2ee_chats;
mod e2ee_clients;
mod e2ee_commits;
mod e2ee_key_packages;
mod e2ee_support;
mod emoji_data;
mod errors;
mod files;
mod files_access;
mod files_avatars;
mod files_hostile;
mod files_limits;
mod files_messages;
mod files_names;
mod files_s3;
mod fixtures;
mod helpers;
mod hidden_messages;
mod history;
mod hostile_input;
mod jwt;
mod link_previews;
mod log_hygiene;
mod members;
mod messages;
mod ops;
mod password;
mod presence_typing;
mod process;
mod proxy;
mod push;
mod push_durability;
mod reactions_receipts;
mod realtime;
mod realtime_auth;
mod realtime_backpressure;
mod realtime_connect;
mod realtime_limits;
mod realtime_membership;
mod realtime_pipelining;
mod realtime_receipt_audience;
mod realtime_receipts;
mod realtime_sessions;
mod resume;
mod search;
mod server_info;
mod tokens;
mod users;
mod voice;
mod ws_protocol;
