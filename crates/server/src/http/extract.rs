//! Request extractors that fail with problem details: JSON bodies (400
//! naming the bad field, 413 when too large, 415 without a JSON content
//! type), query strings, and the authenticated caller.

use super::AppState;
use super::error::ApiError;
use crate::serve::ConnectionTag;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use natter_core::{Caller, CoreError};
use natter_proto::ErrorCode;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body; rejections become problem details.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let code = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        _ => ErrorCode::InvalidRequest,
    };
    let detail = match &rejection {
        JsonRejection::JsonDataError(error) => format!("invalid body: {}", error.body_text()),
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".to_owned(),
        JsonRejection::MissingJsonContentType(_) => {
            "expected a body with Content-Type: application/json".to_owned()
        }
        _ if code == ErrorCode::PayloadTooLarge => "the body is too large".to_owned(),
        other => other.body_text(),
    };
    ApiError::new(code, detail)
}

/// A JSON body that may be left out: a request with no body and no
/// `Content-Type` reads as `T::default()` (e.g. `DELETE` without a body);
/// anything else is read as [`ApiJson`] is.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if request
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE)
        {
            let ApiJson(value) = ApiJson::<T>::from_request(request, state).await?;
            return Ok(OptionalJson(value));
        }
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::PayloadTooLarge
                } else {
                    ErrorCode::InvalidRequest
                };
                ApiError::new(code, rejection.body_text())
            })?;
        if body.is_empty() {
            Ok(OptionalJson(T::default()))
        } else {
            Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body with Content-Type: application/json",
            ))
        }
    }
}

/// A query string; rejections become problem details naming the field.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
            })
    }
}

/// The caller, from `Authorization: Bearer <access token>` of a live
/// session; 401 problem details otherwise.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| CoreError::unauthorized("missing Authorization: Bearer token"))?;
        let caller = state.core.authenticate(token).await?;
        // A connection that carried a valid token is never shed for
        // newcomers (see `serve`).
        if let Some(connection) = parts.extensions.get::<ConnectionTag>() {
            connection.protect();
        }
        Ok(Auth(caller))
    }
}

/// The client's address, for per-address rate limits: the peer, or the
/// address a trusted proxy forwarded (see [`ConnectionTag::client_ip`]).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            // `serve` gives every request its peer.
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "the peer address is unknown"))?;
        Ok(ClientIp(match parts.extensions.get::<ConnectionTag>() {
            Some(connection) => connection.client_ip(peer, &parts.headers),
            None => peer,
        }))
    }
}

/// The token of an `Authorization: Bearer` header, if there is one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}
