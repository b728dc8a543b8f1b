//! `/api/v1/auth/*`: register, login, refresh, logout, password change.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, Auth, ClientIp};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use natter_proto::Problem;
use natter_proto::auth::{
    AuthResponse, ChangePasswordRequest, LoginRequest, RefreshRequest, RegisterRequest,
};

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 400, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let response = state.core.register(request, Some(client)).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<AuthResponse>> {
    Ok(Json(state.core.login(request, Some(client)).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<Json<AuthResponse>> {
    Ok(Json(
        state
            .core
            .refresh(&request.refresh_token, Some(client))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "The session is over")))]
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    state
        .core
        .logout(&request.refresh_token, Some(client))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; every other session of the user has ended"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ClientIp(client): ClientIp,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state
        .core
        .change_password(&caller, request, Some(client))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
