//! `/api/v1/files`: multipart uploads streamed to the blob store, and
//! downloads by signed link or Bearer token with safe headers, `ETag`
//! and byte ranges.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, Auth, bearer_token};
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use natter_core::CoreError;
use natter_core::blob::Variant;
use natter_core::blob::links::LinkTo;
use natter_core::files::{FileAccess, ReadableFile};
use natter_proto::messages::FileInfo;
use natter_proto::{ErrorCode, Problem};
use serde::Deserialize;
use std::ops::Range;

/// Types a browser may show inline: raster images that were re-encoded by
/// the server, and audio typed by its bytes and tracks (voice notes play
/// in the page). Everything else is served as an attachment.
const INLINE_TYPES: [&str; 8] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/webm",
    "audio/ogg",
    "audio/mp4",
    "audio/mpeg",
];

#[utoipa::path(post, path = "/api/v1/files", tag = "files", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "A `file` field with the bytes (and a file name)"),
    responses((status = 201, body = FileInfo), (status = 400, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<FileInfo>)> {
    let mut multipart = multipart
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))?;
    loop {
        let field = multipart.next_field().await.map_err(|error| {
            let code = if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::InvalidRequest
            };
            ApiError::new(code, format!("multipart: {}", error.body_text()))
        })?;
        let Some(field) = field else {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "file: the form has no `file` field",
            ));
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        // The request-size limit can trip inside the field; the store only
        // sees "the body failed", so remember which failure it was.
        let mut too_large = false;
        let body = field.inspect_err(|error| {
            too_large |= error.status() == StatusCode::PAYLOAD_TOO_LARGE;
        });
        return match state.core.upload(&caller, name.as_deref(), body).await {
            Ok(info) => Ok((StatusCode::CREATED, Json(info))),
            Err(_) if too_large => Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "file: the request is larger than the upload limit",
            )),
            Err(error) => Err(error.into()),
        };
    }
}

/// Query of a download: a signed link's parameters, or nothing with a
/// Bearer token.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DownloadParams {
    /// `original` (default) or `thumb`.
    variant: Option<String>,
    /// Unix time the signed link expires.
    expires: Option<u64>,
    /// The user the signed link was issued to.
    user: Option<String>,
    /// The link's signature.
    sig: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/files/{file_id}", tag = "files",
    params(("file_id" = String, Path), DownloadParams),
    responses((status = 200, description = "The bytes"), (status = 206, description = "A byte range"),
        (status = 304, description = "Not modified"), (status = 404, body = Problem), (status = 416, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    ApiQuery(params): ApiQuery<DownloadParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let variant = match params.variant.as_deref() {
        None => Variant::Original,
        Some(text) => Variant::parse(text).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "variant must be original or thumb",
            )
        })?,
    };
    let core = &state.core;
    let row = match (
        params.expires,
        params.user.as_deref(),
        params.sig.as_deref(),
    ) {
        (Some(expires_at), Some(user_id), Some(sig)) => {
            let link = LinkTo {
                file_id: &file_id,
                variant,
                expires_at,
                user_id,
            };
            if !core.files().link_valid(&link, sig) {
                return Err(CoreError::not_found("file").into());
            }
            // The link's user must still be allowed to read the file.
            core.readable_file(FileAccess::Link { user_id }, &file_id)
                .await?
        }
        _ => {
            let token = bearer_token(&headers).ok_or_else(|| {
                CoreError::unauthorized("a signed link or a Bearer token is required")
            })?;
            let caller = core.authenticate(token).await?;
            core.readable_file(FileAccess::Caller(&caller), &file_id)
                .await?
        }
    };
    serve(&state, &row, variant, &headers).await
}

async fn serve(
    state: &AppState,
    row: &ReadableFile,
    variant: Variant,
    request: &HeaderMap,
) -> ApiResult<Response> {
    let thumb = variant == Variant::Thumb;
    let mime = if thumb {
        row.thumbnail_mime.clone().unwrap_or_default()
    } else {
        row.mime.clone()
    };
    let etag = format!("\"{}{}\"", row.sha256, if thumb { "-thumb" } else { "" });
    let mut headers = HeaderMap::new();
    set(&mut headers, header::ETAG, &etag);
    set(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        &mut headers,
        header::CONTENT_SECURITY_POLICY,
        "sandbox; default-src 'none'",
    );
    set(&mut headers, header::ACCEPT_RANGES, "bytes");
    set(
        &mut headers,
        header::CACHE_CONTROL,
        if thumb {
            "private, max-age=31536000, immutable"
        } else {
            "private, max-age=3600"
        },
    );
    set(
        &mut headers,
        header::CONTENT_DISPOSITION,
        &disposition(&row.name, &mime, thumb),
    );
    set(&mut headers, header::CONTENT_TYPE, &mime);
    if request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let wanted = match request
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    {
        Some(range) if !thumb => match parse_range(range, row.size as u64) {
            Some(range) => Some(range),
            None => {
                let problem = Problem {
                    status: 416,
                    title: "Range not satisfiable".into(),
                    ..Problem::new(
                        ErrorCode::InvalidRequest,
                        "the requested range is not satisfiable",
                    )
                };
                let mut response = super::error::problem_response(problem);
                set(
                    response.headers_mut(),
                    header::CONTENT_RANGE,
                    &format!("bytes */{}", row.size),
                );
                return Ok(response);
            }
        },
        _ => None,
    };
    let partial = wanted.is_some();
    let blob = state.core.open_file(row, variant, wanted).await?;
    set(
        &mut headers,
        header::CONTENT_LENGTH,
        &(blob.range.end - blob.range.start).to_string(),
    );
    let status = if partial {
        set(
            &mut headers,
            header::CONTENT_RANGE,
            &format!(
                "bytes {}-{}/{}",
                blob.range.start,
                blob.range.end - 1,
                blob.size
            ),
        );
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = Body::from_stream(
        blob.stream
            .map_err(|error| std::io::Error::other(error.to_string())),
    );
    Ok((status, headers, body).into_response())
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// `inline` only for raster images the server re-encoded and for audio;
/// the name is given both as plain ASCII and percent-encoded UTF-8
/// (RFC 6266).
fn disposition(name: &str, mime: &str, thumb: bool) -> String {
    let kind = if thumb || INLINE_TYPES.contains(&mime) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// One `bytes=` range within `size`: `a-b`, `a-` or `-n`. `None` if it is
/// malformed or unsatisfiable (several ranges are not supported).
fn parse_range(header: &str, size: u64) -> Option<Range<u64>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let length: u64 = suffix.parse().ok()?;
            (size.saturating_sub(length), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some(start..end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_three_forms_and_refuse_the_unsatisfiable() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(0..10));
        assert_eq!(parse_range("bytes=90-", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Some(90..100));
        assert_eq!(parse_range("bytes=95-200", 100), Some(95..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn only_reencoded_raster_images_are_inline() {
        assert!(disposition("cat.png", "image/png", false).starts_with("inline"));
        assert!(disposition("x.svg", "application/octet-stream", false).starts_with("attachment"));
        assert!(disposition("page.html", "text/html", false).starts_with("attachment"));
        assert!(disposition("note.webm", "audio/webm", false).starts_with("inline"));
        assert!(disposition("clip.webm", "video/webm", false).starts_with("attachment"));
        let header = disposition("naïve \"q\".pdf", "application/pdf", false);
        assert!(header.contains("filename=\"na_ve _q_.pdf\""));
        assert!(header.contains("filename*=UTF-8''na%C3%AFve%20%22q%22.pdf"));
    }
}
