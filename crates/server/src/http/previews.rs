//! `/api/v1/link-preview`: the preview of a page a message links to
//! (fetched, parsed and cached by core), and its image behind a signed
//! link (`/api/v1/link-preview/images/{image_id}`), so `<img src>` works
//! without a token. Only translates HTTP; the fetching rules are core's.

use super::AppState;
use super::error::ApiResult;
use super::extract::{ApiQuery, Auth};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use natter_proto::Problem;
use natter_proto::previews::LinkPreview;
use serde::Deserialize;

/// Query of a preview.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PreviewParams {
    /// The page's `http` or `https` URL, at most 2,048 bytes.
    url: String,
}

#[utoipa::path(get, path = "/api/v1/link-preview", tag = "link previews", security(("bearer" = [])), params(PreviewParams),
    responses((status = 200, body = LinkPreview, description = "What the page says about itself"),
        (status = 400, body = Problem, description = "Not an http(s) URL, too long, or a private address"),
        (status = 204, description = "Nothing to preview, or the page cannot be fetched"),
        (status = 404, body = Problem, description = "Previews are turned off on this server"),
        (status = 429, body = Problem)))]
pub async fn preview(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(params): ApiQuery<PreviewParams>,
) -> ApiResult<Response> {
    Ok(match state.core.link_preview(&caller, &params.url).await? {
        Some(preview) => Json(preview).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Query of a preview image's signed link.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ImageParams {
    /// Unix time the link expires.
    expires: u64,
    /// The link's signature.
    sig: String,
}

#[utoipa::path(get, path = "/api/v1/link-preview/images/{image_id}", tag = "link previews",
    params(("image_id" = String, Path), ImageParams),
    responses((status = 200, description = "The image (JPEG or PNG)"), (status = 404, body = Problem)))]
pub async fn image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    ApiQuery(params): ApiQuery<ImageParams>,
) -> ApiResult<Response> {
    let image = state
        .core
        .preview_image(&image_id, params.expires, &params.sig)
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(image.mime));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    // An image id is never reused for other bytes.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    Ok((headers, image.bytes).into_response())
}
