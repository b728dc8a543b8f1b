//! What can go wrong on a WebSocket, and how a connection ended.

use crate::ClientError;
use natter_proto::{ErrorCode, Problem};
use std::fmt;

/// The close frame a peer ended a connection with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code (1000 normal, 1001 going away, 1003 unsupported
    /// data, 1008 policy, 1009 too big, 1013 try again later; 1005 when
    /// the frame carried no code).
    pub code: u16,
    /// The reason text, possibly empty.
    pub reason: String,
}

impl fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.code, self.reason)
    }
}

/// Why a WebSocket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The server refused the upgrade with an HTTP status (401 for a bad
    /// token, 403 for a foreign origin, ...), before any event.
    #[error("upgrade refused with HTTP {status}: {body}")]
    Refused {
        /// The HTTP status of the refusal.
        status: u16,
        /// Its problem details, if the body was one.
        problem: Option<Problem>,
        /// The body as text.
        body: String,
    },
    /// The peer closed the connection with a close frame.
    #[error("closed by the server: {0}")]
    Closed(CloseInfo),
    /// The connection broke without a close frame (reset, end of stream,
    /// protocol error).
    #[error("connection lost: {0}")]
    Lost(String),
    /// A frame that is not a known event, or a URL that is not usable.
    #[error("cannot decode: {0}")]
    Decode(String),
    /// Nothing arrived (or nothing matched) in the time allowed.
    #[error("timed out")]
    Timeout,
    /// The server answered a frame with an `error` frame.
    #[error("rejected with {}: {detail}", code.as_str())]
    Rejected {
        /// The problem code.
        code: ErrorCode,
        /// The server's explanation.
        detail: String,
    },
    /// A REST call made on the socket's behalf failed (gap fetch, token
    /// refresh).
    #[error("REST call failed: {0}")]
    Rest(#[from] ClientError),
    /// The [`RealtimeClient`](super::RealtimeClient) has stopped.
    #[error("the realtime client has stopped")]
    Stopped,
}

impl WsError {
    /// The HTTP status of a refused upgrade.
    pub fn status(&self) -> Option<u16> {
        match self {
            WsError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The close frame of a connection the server closed.
    pub fn close(&self) -> Option<&CloseInfo> {
        match self {
            WsError::Closed(close) => Some(close),
            _ => None,
        }
    }
}
