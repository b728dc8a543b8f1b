//! `/api/v1/devices`: the caller's sessions, renamed and removed.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, Auth, OptionalJson};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_proto::Problem;
use natter_proto::devices::{Device, DeviceList, RemoveDevice, RenameDevice};

#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = DeviceList, description = "Live devices, oldest first"), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<DeviceList>> {
    let devices = state.core.devices(&caller).await?;
    Ok(Json(DeviceList { devices }))
}

#[utoipa::path(patch, path = "/api/v1/devices/{device_id}", tag = "devices", security(("bearer" = [])),
    params(("device_id" = String, Path)), request_body = RenameDevice,
    responses((status = 200, body = Device), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn rename(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(device_id): Path<String>,
    ApiJson(request): ApiJson<RenameDevice>,
) -> ApiResult<Json<Device>> {
    Ok(Json(
        state
            .core
            .rename_device(&caller, &device_id, &request.name)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/devices/{device_id}", tag = "devices", security(("bearer" = [])),
    params(("device_id" = String, Path)), request_body = RemoveDevice,
    responses((status = 204, description = "The device is signed out: its tokens, sockets and push subscriptions end"),
        (status = 401, body = Problem, description = "Missing or wrong password"), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(device_id): Path<String>,
    OptionalJson(request): OptionalJson<RemoveDevice>,
) -> ApiResult<StatusCode> {
    state
        .core
        .remove_device(&caller, &device_id, &request.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
