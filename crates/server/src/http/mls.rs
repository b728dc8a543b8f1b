//! The MLS Delivery Service routes of encrypted chats: posting a Commit
//! (`/api/v1/chats/{chat_id}/mls/commits`), a chat's GroupInfo, and the
//! calling device's pending Welcomes (`/api/v1/mls/welcomes`). The
//! KeyPackage directory is in `key_packages`.

use super::AppState;
use super::error::{ApiResult, problem_response};
use super::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use natter_core::mls::commits::CommitOutcome;
use natter_proto::mls::{CommitAccepted, GroupInfo, PostCommit, WelcomeList};
use natter_proto::{ErrorCode, Problem};

/// The body limit of a Commit post: a Commit, its Welcome and its
/// GroupInfo (each at most `MAX_HANDSHAKE_BYTES` decoded) in base64.
pub const COMMIT_BODY_BYTES: usize =
    natter_core::mls::groups::MAX_HANDSHAKE_BYTES.div_ceil(3) * 4 * 3 + 64 * 1024;

#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/mls/commits", tag = "mls", security(("bearer" = [])),
    params(("chat_id" = String, Path)), request_body = PostCommit,
    responses((status = 201, body = CommitAccepted, description = "Stored as the chat's next message (type mls); the chat is at the new epoch"),
        (status = 400, body = Problem, description = "Not a Commit of this chat's group, or it adds someone who is not a device of a member; a bad Welcome or GroupInfo"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Made for another epoch: `epoch` (an extension member) is the chat's current one")))]
pub async fn post_commit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
    ApiJson(request): ApiJson<PostCommit>,
) -> ApiResult<Response> {
    Ok(
        match state.core.post_commit(&caller, &chat_id, request).await? {
            CommitOutcome::Accepted(accepted) => {
                (StatusCode::CREATED, Json(accepted)).into_response()
            }
            CommitOutcome::Stale { epoch } => stale(epoch),
        },
    )
}

/// The 409 of a Commit made for another epoch, with the chat's current
/// one as the problem's `epoch` member (RFC 9457 §3.2).
fn stale(epoch: i64) -> Response {
    problem_response(Problem {
        epoch: Some(epoch),
        ..Problem::new(
            ErrorCode::Conflict,
            format!(
                "the chat is at epoch {epoch}: process the Commits you are missing, then commit again"
            ),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/chats/{chat_id}/mls/group-info", tag = "mls", security(("bearer" = [])),
    params(("chat_id" = String, Path)),
    responses((status = 200, body = GroupInfo, description = "The latest GroupInfo a Commit brought"),
        (status = 404, body = Problem, description = "Not a member, or no GroupInfo yet")))]
pub async fn group_info(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<GroupInfo>> {
    Ok(Json(state.core.group_info(&caller, &chat_id).await?))
}

#[utoipa::path(get, path = "/api/v1/mls/welcomes", tag = "mls", security(("bearer" = [])),
    responses((status = 200, body = WelcomeList, description = "The calling device's pending Welcomes, oldest first")))]
pub async fn welcomes(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Json<WelcomeList>> {
    Ok(Json(state.core.pending_welcomes(&caller).await?))
}

#[utoipa::path(delete, path = "/api/v1/mls/welcomes/{welcome_id}", tag = "mls", security(("bearer" = [])),
    params(("welcome_id" = String, Path)),
    responses((status = 204, description = "The device has processed it"), (status = 404, body = Problem)))]
pub async fn ack_welcome(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(welcome_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.core.ack_welcome(&caller, &welcome_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
