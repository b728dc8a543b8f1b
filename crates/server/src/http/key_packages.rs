//! `/api/v1/mls/key-packages` and `/api/v1/users/{user_id}/key-packages/claim`:
//! the MLS KeyPackage directory (upload and count for the calling device,
//! claim one per device of a user).

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_proto::Problem;
use natter_proto::key_packages::{ClaimedKeyPackages, KeyPackageCount, UploadKeyPackages};

#[utoipa::path(post, path = "/api/v1/mls/key-packages", tag = "mls", security(("bearer" = [])),
    request_body = UploadKeyPackages,
    responses((status = 201, body = KeyPackageCount, description = "Stored; the device's stock now"),
        (status = 400, body = Problem, description = "A bad KeyPackage, named (`key_packages[3]: ...`, `last_resort: ...`); nothing stored"),
        (status = 401, body = Problem),
        (status = 409, body = Problem, description = "The device would have more than 200 unclaimed; nothing stored"),
        (status = 413, body = Problem, description = "The request body is too large"),
        (status = 429, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(request): ApiJson<UploadKeyPackages>,
) -> ApiResult<(StatusCode, Json<KeyPackageCount>)> {
    let count = state.core.upload_key_packages(&caller, request).await?;
    Ok((StatusCode::CREATED, Json(count)))
}

#[utoipa::path(get, path = "/api/v1/mls/key-packages", tag = "mls", security(("bearer" = [])),
    responses((status = 200, body = KeyPackageCount, description = "The calling device's unclaimed KeyPackages"),
        (status = 401, body = Problem)))]
pub async fn count(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<KeyPackageCount>> {
    Ok(Json(state.core.key_package_count(&caller).await?))
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/key-packages/claim", tag = "mls", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = ClaimedKeyPackages, description = "One per live device of the user that has one, the calling device left out; each ordinary one is handed out once"),
        (status = 401, body = Problem),
        (status = 404, body = Problem, description = "Unknown user"), (status = 429, body = Problem)))]
pub async fn claim(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user_id): Path<String>,
) -> ApiResult<Json<ClaimedKeyPackages>> {
    Ok(Json(
        state.core.claim_key_packages(&caller, &user_id).await?,
    ))
}
