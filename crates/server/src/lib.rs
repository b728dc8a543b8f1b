//! natter's network face: the REST API ([`http`]), the WebSocket gateway
//! ([`gateway`]) and the embedded web client (`web/`, served by
//! [`http::web`]). Everything here calls `natter-core`; this crate
//! depends on no store or bus backend, and names no store row type.

pub mod gateway;
pub mod http;
pub mod serve;
