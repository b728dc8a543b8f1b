//! `/api/v1/push/*` and the notification settings: the VAPID key, a
//! device's subscriptions and their activation, per-chat and per-user
//! settings.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_proto::Problem;
use natter_proto::push::{
    ActivateSubscription, ChatNotifications, MyNotifications, NewPushSubscription,
    PushSubscription, PushSubscriptionList, UpdateMyNotifications, VapidKey,
};

#[utoipa::path(get, path = "/api/v1/push/vapid", tag = "push",
    responses((status = 200, body = VapidKey), (status = 404, body = Problem, description = "Push is off on this server")))]
pub async fn vapid(State(state): State<AppState>) -> ApiResult<Json<VapidKey>> {
    Ok(Json(VapidKey {
        public_key: state.core.vapid_public_key()?,
    }))
}

#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push", security(("bearer" = [])),
    request_body = NewPushSubscription,
    responses((status = 201, body = PushSubscription, description = "New: pending until activated"),
        (status = 200, body = PushSubscription, description = "A known endpoint, updated"),
        (status = 400, body = Problem, description = "A bad endpoint or key, named"), (status = 404, body = Problem)))]
pub async fn subscribe(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(request): ApiJson<NewPushSubscription>,
) -> ApiResult<(StatusCode, Json<PushSubscription>)> {
    let (subscription, created) = state.core.subscribe(&caller, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(subscription)))
}

#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushSubscriptionList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<PushSubscriptionList>> {
    let subscriptions = state.core.subscriptions(&caller).await?;
    Ok(Json(PushSubscriptionList { subscriptions }))
}

#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{subscription_id}", tag = "push", security(("bearer" = [])),
    params(("subscription_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(subscription_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.unsubscribe(&caller, &subscription_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/push/subscriptions/{subscription_id}/activate", tag = "push", security(("bearer" = [])),
    params(("subscription_id" = String, Path)), request_body = ActivateSubscription,
    responses((status = 204, description = "Active: pushed from now on"), (status = 400, body = Problem, description = "Not this subscription's token"),
        (status = 404, body = Problem)))]
pub async fn activate(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(subscription_id): Path<String>,
    ApiJson(request): ApiJson<ActivateSubscription>,
) -> ApiResult<StatusCode> {
    state
        .core
        .activate_subscription(&caller, &subscription_id, &request.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/chats/{chat_id}/notifications", tag = "push", security(("bearer" = [])),
    params(("chat_id" = String, Path)), responses((status = 200, body = ChatNotifications), (status = 404, body = Problem)))]
pub async fn chat_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ChatNotifications>> {
    Ok(Json(
        state.core.chat_notifications(&caller, &chat_id).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/chats/{chat_id}/notifications", tag = "push", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = ChatNotifications,
    responses((status = 200, body = ChatNotifications), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn set_chat_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(request): ApiJson<ChatNotifications>,
) -> ApiResult<Json<ChatNotifications>> {
    Ok(Json(
        state
            .core
            .set_chat_notifications(&caller, &chat_id, request)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/users/me/notifications", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = MyNotifications)))]
pub async fn my_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<MyNotifications>> {
    Ok(Json(state.core.my_notifications(&caller).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/me/notifications", tag = "push", security(("bearer" = [])),
    request_body = UpdateMyNotifications,
    responses((status = 200, body = MyNotifications), (status = 400, body = Problem)))]
pub async fn update_my_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(request): ApiJson<UpdateMyNotifications>,
) -> ApiResult<Json<MyNotifications>> {
    Ok(Json(
        state.core.update_my_notifications(&caller, request).await?,
    ))
}
