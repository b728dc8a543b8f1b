//! `/api/v1/search/messages`: full-text search over your chats.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiQuery, Auth};
use axum::Json;
use axum::extract::State;
use natter_proto::Problem;
use natter_proto::search::SearchResults;
use serde::Deserialize;

/// Query of a message search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Words to find (all must match; the last also as a prefix).
    q: String,
    /// Only this chat.
    chat_id: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/search/messages", tag = "search", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = SearchResults, description = "Best match first"), (status = 400, body = Problem)))]
pub async fn messages(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    let results = state
        .core
        .search(&caller, &params.q, params.chat_id.as_deref(), params.limit)
        .await?;
    Ok(Json(SearchResults { results }))
}
