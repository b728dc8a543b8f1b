//! `/api/v1/calls`: the TURN credentials a call's peer connection uses.
//! The signaling itself is on the WebSocket (`gateway`).

use super::AppState;
use super::extract::Auth;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use natter_proto::Problem;
use natter_proto::calls::TurnCredentials;

#[utoipa::path(get, path = "/api/v1/calls/turn", tag = "calls", security(("bearer" = [])),
    responses((status = 200, body = TurnCredentials,
        description = "Time-limited TURN credentials; an empty `uris` (and no credentials) when the server has no TURN configured"),
        (status = 401, body = Problem)))]
pub async fn turn(State(state): State<AppState>, Auth(caller): Auth) -> impl IntoResponse {
    // Credentials are personal and expire: no cache may keep them.
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(state.core.turn_credentials(&caller)),
    )
}
