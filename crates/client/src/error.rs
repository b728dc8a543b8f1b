//! The client's error type: what went wrong with a call, from the server's
//! problem details down to the transport.

use natter_proto::{ErrorCode, Problem};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status and a problem-details body.
    #[error("HTTP {status} {}: {}", problem.code.as_str(), problem.detail)]
    Api {
        /// The HTTP status of the answer (may differ from `problem.status`
        /// if the server is inconsistent; tests compare the two).
        status: u16,
        /// The parsed `application/problem+json` body.
        problem: Problem,
    },
    /// The request could not be sent or the answer not read (connection
    /// refused or reset, timeout, ...).
    #[error("HTTP transport error: {0}")]
    Http(#[from] reqwest::Error),
    /// The answer did not have the expected shape: a success body that is
    /// not the documented JSON, or an error status without problem details.
    #[error("cannot decode the answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Api`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem `code` of an [`ClientError::Api`] error.
    pub fn code(&self) -> Option<ErrorCode> {
        self.problem().map(|problem| problem.code)
    }

    /// The problem details of an [`ClientError::Api`] error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }
}
