//! `/api/v1/chats`: create, list, show, rename, members, read markers,
//! the caller's own marks (`/me`).

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_proto::Problem;
use natter_proto::chats::{AddMember, Chat, ChatList, CreateChat, ReadMarker, UpdateChat};
use natter_proto::chats::{ChatSummary, UpdateMyChat};
use natter_proto::events::ReceiptKind;

#[utoipa::path(post, path = "/api/v1/chats", tag = "chats", security(("bearer" = [])), request_body = CreateChat,
    responses((status = 201, body = Chat, description = "Created"), (status = 200, body = Chat, description = "The existing direct chat of this pair"),
        (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(request): ApiJson<CreateChat>,
) -> ApiResult<(StatusCode, Json<Chat>)> {
    let (chat, created) = state.core.create_chat(&caller, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(chat)))
}

#[utoipa::path(get, path = "/api/v1/chats", tag = "chats", security(("bearer" = [])),
    responses((status = 200, body = ChatList, description = "Most recently active first")))]
pub async fn list(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Json<ChatList>> {
    let chats = state.core.chats(&caller).await?;
    Ok(Json(ChatList { chats }))
}

#[utoipa::path(get, path = "/api/v1/chats/{chat_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path)), responses((status = 200, body = Chat), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<Chat>> {
    Ok(Json(state.core.chat(&caller, &chat_id).await?))
}

/// Renames and changes the profile (topic, description, avatar) of a
/// group or channel.
#[utoipa::path(patch, path = "/api/v1/chats/{chat_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = UpdateChat,
    responses((status = 200, body = Chat), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn rename(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(request): ApiJson<UpdateChat>,
) -> ApiResult<Json<Chat>> {
    Ok(Json(
        state.core.update_chat(&caller, &chat_id, request).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/members", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = AddMember,
    responses((status = 201, body = Chat), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(request): ApiJson<AddMember>,
) -> ApiResult<(StatusCode, Json<Chat>)> {
    let chat = state
        .core
        .add_member(&caller, &chat_id, &request.user_id, request.role)
        .await?;
    Ok((StatusCode::CREATED, Json(chat)))
}

#[utoipa::path(delete, path = "/api/v1/chats/{chat_id}/members/{user_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204, description = "Removed (or left)"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((chat_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .core
        .remove_member(&caller, &chat_id, &user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/read", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = ReadMarker,
    responses((status = 204, description = "Read up to seq"), (status = 404, body = Problem)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(marker): ApiJson<ReadMarker>,
) -> ApiResult<StatusCode> {
    state
        .core
        .mark(&caller, &chat_id, ReceiptKind::Read, marker.seq)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/chats/{chat_id}/me", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = UpdateMyChat,
    responses((status = 200, body = ChatSummary, description = "The caller's summary with their marks"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update_mine(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(update): ApiJson<UpdateMyChat>,
) -> ApiResult<Json<ChatSummary>> {
    Ok(Json(
        state.core.update_my_chat(&caller, &chat_id, update).await?,
    ))
}
