//! `/api/v1/messages` and a chat's history: send, list, edit, delete,
//! reactions and receipts.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiJson, ApiQuery, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use natter_core::messages::HistoryQuery;
use natter_proto::Problem;
use natter_proto::messages::{
    EditMessage, Message, MessagePage, ReceiptList, SendAck, SendMessage,
};
use serde::Deserialize;

#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])), request_body = SendMessage,
    responses((status = 201, body = SendAck, description = "Stored durably"),
        (status = 200, body = SendAck, description = "This client_msg_id was already sent: the original"),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(request): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<SendAck>)> {
    let (ack, created) = state.core.send(&caller, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ack)))
}

/// Query of a chat's history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    /// A message id or `seq:N`: older messages.
    before: Option<String>,
    /// A message id or `seq:N`: newer messages.
    after: Option<String>,
    /// A chat version: the messages changed since (new, edited, deleted,
    /// reacted to), in ascending `version` order. Not with before/after.
    changed_after: Option<i64>,
    /// 1 to 200, default 50.
    limit: Option<u32>,
    /// `all` (default), `text`, `image` or `file`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    message_type: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/chats/{chat_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("chat_id" = String, Path), HistoryParams),
    responses((status = 200, body = MessagePage, description = "Ascending seq (ascending version with changed_after)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<MessagePage>> {
    let query = HistoryQuery {
        before: params.before,
        after: params.after,
        changed_after: params.changed_after,
        limit: params.limit,
        message_type: params.message_type,
    };
    Ok(Json(state.core.history(&caller, &chat_id, query).await?))
}

#[utoipa::path(get, path = "/api/v1/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path)), responses((status = 200, body = Message), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message_id): Path<String>,
) -> ApiResult<Json<Message>> {
    Ok(Json(state.core.message(&caller, &message_id).await?))
}

#[utoipa::path(patch, path = "/api/v1/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path)), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn edit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message_id): Path<String>,
    ApiJson(request): ApiJson<EditMessage>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        state
            .core
            .edit_message(&caller, &message_id, &request.content)
            .await?,
    ))
}

/// Query of a delete: for everyone (a tombstone) or for the caller only.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeleteParams {
    /// `everyone` (default): the message becomes a tombstone. `me`: hidden
    /// for the caller only ("delete for me"), any member, any message.
    #[serde(rename = "for")]
    #[param(rename = "for")]
    audience: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path), DeleteParams),
    responses((status = 204, description = "Now a tombstone (for=everyone), or hidden for the caller (for=me)"),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message_id): Path<String>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    match params.audience.as_deref() {
        None | Some("everyone") => state.core.delete_message(&caller, &message_id).await?,
        Some("me") => state.core.hide_message(&caller, &message_id).await?,
        Some(_) => {
            return Err(natter_core::CoreError::invalid("for must be me or everyone").into());
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path), ("emoji" = String, Path)),
    responses((status = 204, description = "Reacted"), (status = 404, body = Problem)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((message_id, emoji)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.core.react(&caller, &message_id, &emoji, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/messages/{message_id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path), ("emoji" = String, Path)),
    responses((status = 204, description = "Reaction removed"), (status = 404, body = Problem)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((message_id, emoji)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .core
        .react(&caller, &message_id, &emoji, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/messages/{message_id}/receipts", tag = "messages", security(("bearer" = [])),
    params(("message_id" = String, Path)), responses((status = 200, body = ReceiptList), (status = 404, body = Problem)))]
pub async fn receipts(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message_id): Path<String>,
) -> ApiResult<Json<ReceiptList>> {
    let receipts = state.core.receipts(&caller, &message_id).await?;
    Ok(Json(ReceiptList { receipts }))
}
