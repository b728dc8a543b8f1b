//! `GET /api/v1/ws`: checks the browser `Origin`, authenticates a Bearer
//! token if the upgrade carries one (a bad one is refused with 401 before
//! any event), sets the WebSocket buffer sizes, and hands the socket to
//! the gateway.

use super::AppState;
use super::error::ApiError;
use super::extract::bearer_token;
use crate::gateway::connection;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use natter_core::CoreError;
use natter_proto::ErrorCode;

/// Bytes read from the socket at a time. tungstenite's default (128 KiB,
/// allocated per connection) alone would blow the 8 KiB budget of an idle
/// connection; frames larger than this simply take several reads.
const READ_BUFFER: usize = 1024;
/// Bytes gathered before a write reaches the socket; batching is done by
/// the session (one flush per outbox drain), so keep this small.
const WRITE_BUFFER: usize = 4 * 1024;

#[utoipa::path(get, path = "/api/v1/ws", tag = "realtime",
    description = "WebSocket upgrade. Authenticate with `Authorization: Bearer` or an `auth` frame within `gateway.auth_timeout_secs` (10 s by default); frames and close codes are described in docs/API.md.",
    responses((status = 101, description = "Switching to WebSocket"), (status = 400, body = natter_proto::Problem),
        (status = 401, body = natter_proto::Problem), (status = 403, body = natter_proto::Problem)))]
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()).into_response();
        }
    };
    let gateway = state.gateway.clone();
    if !origin_allowed(&headers, &gateway.settings.allowed_origins) {
        return ApiError::new(ErrorCode::Forbidden, "this origin may not open a WebSocket")
            .into_response();
    }
    let caller = match bearer_token(&headers) {
        Some(token) => match state.core.authenticate(token).await {
            Ok(caller) => Some(caller),
            Err(error) => return ApiError::from(error).into_response(),
        },
        None if headers.contains_key(header::AUTHORIZATION) => {
            return ApiError::from(CoreError::unauthorized("malformed Authorization header"))
                .into_response();
        }
        None => None,
    };
    let max_frame = gateway.settings.max_frame_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(max_frame.max(WRITE_BUFFER) * 4)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| connection::run(gateway, socket, caller))
}

/// Browsers always send `Origin` on a WebSocket; other clients need not.
/// Allowed: no `Origin`, one on the list (or `*`), or, with an empty list,
/// the server's own origin (same host as the request).
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    if !allowed.is_empty() {
        return allowed
            .iter()
            .any(|entry| entry == "*" || entry.eq_ignore_ascii_case(origin));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, origin_host), (Some(host), Some(origin_host)) if host.eq_ignore_ascii_case(origin_host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(origin: Option<&str>) -> HeaderMap {
        let mut request = Request::builder().header(header::HOST, "chat.example:8080");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(()).unwrap().into_parts().0.headers
    }

    #[test]
    fn same_origin_and_listed_origins_pass_foreign_ones_do_not() {
        assert!(origin_allowed(&parts(None), &[]));
        assert!(origin_allowed(
            &parts(Some("http://chat.example:8080")),
            &[]
        ));
        assert!(!origin_allowed(&parts(Some("http://evil.example")), &[]));
        let listed = vec!["https://app.example".to_owned()];
        assert!(origin_allowed(&parts(Some("https://app.example")), &listed));
        assert!(!origin_allowed(
            &parts(Some("http://chat.example:8080")),
            &listed
        ));
        assert!(origin_allowed(
            &parts(Some("http://any.example")),
            &["*".to_owned()]
        ));
    }
}
