//! The one error type of the use cases. Each variant maps to exactly one
//! API error `code`; both the HTTP layer and the gateway render it.

use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
use natter_store::{Outage, StoreError};

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The caller did something the API does not allow; `detail` says what
    /// in words a client developer can act on.
    #[error("{detail}")]
    Rejected { code: ErrorCode, detail: String },
    /// A token bucket is empty; retry after this many seconds.
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Something broke inside; logged, never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::rejected(ErrorCode::InvalidRequest, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::rejected(ErrorCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::rejected(ErrorCode::Forbidden, detail)
    }

    /// `what` names the kind of thing, e.g. "chat".
    pub fn not_found(what: &str) -> Self {
        Self::rejected(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::rejected(ErrorCode::Conflict, detail)
    }

    pub fn rejected(code: ErrorCode, detail: impl Into<String>) -> Self {
        CoreError::Rejected {
            code,
            detail: detail.into(),
        }
    }

    /// The API error code this error is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Rejected { code, .. } => *code,
            CoreError::RateLimited { .. } => ErrorCode::RateLimited,
            CoreError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The text shown to the client (never the internal cause).
    pub fn public_detail(&self) -> String {
        match self {
            CoreError::Internal(_) => "an internal error occurred".into(),
            other => other.to_string(),
        }
    }

    /// The `error` frame a socket gets for a refused frame, naming the
    /// send (`client_msg_id`) or the call (`call_id`) it refuses. An
    /// internal cause is logged here, as one line.
    pub fn to_frame(&self, client_msg_id: Option<String>, call_id: Option<String>) -> ServerEvent {
        if let CoreError::Internal(cause) = self {
            // One line with the cause chain, never a backtrace: anyone can
            // trigger this path, and with RUST_BACKTRACE set a Debug print
            // would write tens of KiB per frame.
            tracing::error!(error = %format_args!("{cause:#}"), "internal error on a socket");
        }
        ServerEvent::Error {
            client_msg_id,
            call_id,
            code: self.code(),
            detail: self.public_detail(),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => CoreError::not_found("resource"),
            StoreError::Conflict(what) => CoreError::conflict(format!("{what} already exists")),
            // Logged where the outage is seen (once per episode), not per
            // request.
            StoreError::Unavailable(outage) => {
                tracing::debug!(%outage, "the store is unavailable");
                CoreError::rejected(ErrorCode::Unavailable, outage_detail(&outage))
            }
            StoreError::Backend(cause) => CoreError::Internal(anyhow::anyhow!(cause)),
        }
    }
}

/// What a client is told of an outage: enough to know whether to wait.
fn outage_detail(outage: &Outage) -> &'static str {
    match outage {
        Outage::Closed => "the server is shutting down",
        Outage::StorageFull => "storage is full: nothing can be stored until space is freed",
        Outage::Unreachable(_) => "the database cannot be reached",
    }
}
