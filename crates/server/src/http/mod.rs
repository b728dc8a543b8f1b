//! The REST API over axum: one module per resource, problem-details
//! errors, body limits, request metrics and the generated OpenAPI
//! document. Handlers only translate HTTP to `core` calls; they never
//! touch the store.

pub mod auth;
pub mod calls;
pub mod chats;
pub mod devices;
pub mod emoji;
pub mod error;
pub mod extract;
pub mod files;
pub mod key_packages;
pub mod messages;
pub mod mls;
pub mod ops;
pub mod previews;
pub mod push;
pub mod search;
pub mod server_info;
pub mod users;
pub mod web;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use natter_core::Core;
use natter_proto::{ErrorCode, Problem};
use std::sync::Arc;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub gateway: Arc<crate::gateway::Gateway>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "natter", description = "Self-hosted real-time chat. Errors are RFC 9457 problem details."),
    modifiers(&BearerAuth),
    components(schemas(natter_proto::Problem, natter_proto::ErrorCode))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// The API routes and their OpenAPI description, built together so they
/// cannot drift apart.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(users::get))
        .routes(routes!(users::search))
        .routes(routes!(chats::create, chats::list))
        .routes(routes!(chats::get, chats::rename))
        .routes(routes!(chats::add_member))
        .routes(routes!(chats::remove_member))
        .routes(routes!(chats::mark_read))
        .routes(routes!(chats::update_mine))
        .routes(routes!(messages::history))
        .routes(routes!(messages::send))
        .routes(routes!(messages::get, messages::edit, messages::delete))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::receipts))
        .routes(routes!(search::messages))
        .routes(routes!(devices::list))
        .routes(routes!(devices::rename, devices::remove))
        .routes(routes!(push::vapid))
        .routes(routes!(push::subscribe, push::list))
        .routes(routes!(push::unsubscribe))
        .routes(routes!(push::activate))
        .routes(routes!(push::chat_settings, push::set_chat_settings))
        .routes(routes!(push::my_settings, push::update_my_settings))
        .routes(routes!(key_packages::upload, key_packages::count))
        .routes(routes!(key_packages::claim))
        .routes(routes!(mls::group_info))
        .routes(routes!(mls::welcomes))
        .routes(routes!(mls::ack_welcome))
        .routes(routes!(ws::upgrade))
        .routes(routes!(calls::turn))
        .routes(routes!(files::download))
        .routes(routes!(previews::preview))
        .routes(routes!(previews::image))
        .split_for_parts()
}

/// Uploads: their own body limit (the file plus room for the multipart
/// envelope), separate from the small limit on JSON bodies.
fn uploads(max_upload_bytes: u64) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let limit = usize::try_from(max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    OpenApiRouter::new()
        .routes(routes!(files::upload))
        .layer(DefaultBodyLimit::max(limit))
        .split_for_parts()
}

/// Commits: their own body limit (a Commit, its Welcome and GroupInfo can
/// outgrow the limit on other JSON bodies in a large group).
fn commits() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new()
        .routes(routes!(mls::post_commit))
        .layer(DefaultBodyLimit::max(mls::COMMIT_BODY_BYTES))
        .split_for_parts()
}

/// The OpenAPI document of the API (also served at
/// `/api/v1/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api();
    doc.merge(uploads(0).1);
    doc.merge(commits().1);
    doc.merge(server_info::routes(&natter_config::Settings::default()).1);
    doc
}

/// The whole HTTP application.
pub fn router(state: AppState, settings: &natter_config::Settings) -> Router {
    let (api, mut doc) = api();
    let (uploads, uploads_doc) = uploads(settings.files.max_upload_bytes);
    doc.merge(uploads_doc);
    let (commits, commits_doc) = commits();
    doc.merge(commits_doc);
    let (info, info_doc) = server_info::routes(settings);
    doc.merge(info_doc);
    let doc = Arc::new(doc);
    api.merge(uploads)
        .merge(commits)
        .merge(info)
        .merge(web::routes())
        .route(
            "/api/v1/openapi.json",
            get(move || async move { axum::Json(doc.as_ref().clone()) }),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.max_json_body))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> Response {
    error::problem_response(Problem::new(ErrorCode::NotFound, "no such route"))
}

async fn method_not_allowed() -> Response {
    let mut problem = Problem::new(
        ErrorCode::InvalidRequest,
        "this route does not take this method",
    );
    problem.status = StatusCode::METHOD_NOT_ALLOWED.as_u16();
    problem.title = "Method not allowed".into();
    error::problem_response(problem).into_response()
}
