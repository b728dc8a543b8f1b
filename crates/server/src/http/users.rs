//! `/api/v1/users`: your profile, others', and search by prefix.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, ApiQuery, Auth};
use axum::Json;
use axum::extract::{Path, State};
use natter_proto::Problem;
use natter_proto::users::{UpdateMe, User, UserList};
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<User>> {
    Ok(Json(state.core.me(&caller).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(update): ApiJson<UpdateMe>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.core.update_me(&caller, update).await?))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    Path(user_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.core.user(&user_id).await?))
}

/// Query of `GET /api/v1/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Prefix of a username or display name.
    q: String,
    /// At most 50; default 20.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, body = UserList), (status = 400, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> ApiResult<Json<UserList>> {
    let users = state.core.search_users(&query.q, query.limit).await?;
    Ok(Json(UserList { users }))
}
