//! `GET /api/v1/server`: what a client should know about this server
//! before it sends anything (its version, the sizes it accepts, whether
//! it pushes, whether it makes link previews), so a client can refuse a
//! too-big file or message up front and name the limit instead of
//! failing after the upload. Public (no
//! token): the values are configuration, not data. Owns only this
//! document; the limits themselves are enforced where they apply.

use super::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use natter_core::messages::MAX_CONTENT_CHARS;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The sizes this server accepts, as enforced.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServerLimits {
    /// Largest file `POST /api/v1/files` takes, in bytes (413 beyond).
    pub max_upload_bytes: u64,
    /// Most characters (Unicode scalar values) in a message's `content`.
    pub max_message_chars: usize,
    /// Largest JSON request body, in bytes (413 beyond).
    pub max_json_body: usize,
    /// Longest voice message, in milliseconds (its `metadata.duration_ms`).
    pub max_voice_duration_ms: u64,
}

/// The server info document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServerInfo {
    /// The server's version (its crate version).
    pub version: String,
    pub limits: ServerLimits,
    /// True if this server sends Web Push notifications.
    pub push: bool,
    /// True if `GET /api/v1/link-preview` is on.
    pub link_previews: bool,
}

/// The settings the document reports, fixed when the router is built.
#[derive(Clone)]
struct Configured(Arc<ServerLimits>);

#[utoipa::path(get, path = "/api/v1/server", tag = "server",
    responses((status = 200, body = ServerInfo, description = "Version, limits and features; no token needed")))]
async fn server_info(
    State(state): State<AppState>,
    axum::Extension(Configured(limits)): axum::Extension<Configured>,
) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        limits: limits.as_ref().clone(),
        push: state.core.push_enabled(),
        link_previews: state.core.link_previews_enabled(),
    })
}

/// The route and its OpenAPI description, for `settings`.
pub fn routes(settings: &natter_config::Settings) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let limits = ServerLimits {
        max_upload_bytes: settings.files.max_upload_bytes,
        max_message_chars: MAX_CONTENT_CHARS,
        max_json_body: settings.max_json_body,
        max_voice_duration_ms: settings.voice.max_duration_ms,
    };
    OpenApiRouter::new()
        .routes(routes!(server_info))
        .layer(axum::Extension(Configured(Arc::new(limits))))
        .split_for_parts()
}
