//! The HTTP face of errors: every failure leaves as RFC 9457 problem
//! details (`application/problem+json`) with the API's `code`, decided in
//! one place. Internal causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use natter_core::CoreError;
use natter_proto::{ErrorCode, Problem};

/// An error a handler returns.
#[derive(Debug)]
pub struct ApiError(pub CoreError);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError(CoreError::rejected(code, detail))
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let CoreError::Internal(cause) = &self.0 {
            // One line with the cause chain, never a backtrace (see the
            // gateway's error_event).
            tracing::error!(error = %format_args!("{cause:#}"), "internal error");
        }
        let mut response = problem_response(Problem::new(self.0.code(), self.0.public_detail()));
        if self.0.code() == ErrorCode::PayloadTooLarge {
            // The rest of the body was not read: the connection cannot
            // carry another request, so say so instead of letting the
            // client reuse it and fail.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let CoreError::RateLimited { retry_after_secs } = self.0 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// A problem details response with the right status and content type.
pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body,
    )
        .into_response()
}
