//! One-to-one calls: the WebRTC pieces the signaling frames carry (session
//! descriptions and ICE candidates, as the browser's `toJSON()` writes
//! them), the `call` entry a finished call leaves in a chat's history, and
//! the TURN credentials of `GET /api/v1/calls/turn`. The frames themselves
//! are in [`crate::events`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a session description offers or answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpType {
    Offer,
    Answer,
}

/// An SDP offer or answer (`RTCSessionDescriptionInit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionDescription {
    #[serde(rename = "type")]
    pub kind: SdpType,
    pub sdp: String,
}

/// One ICE candidate (`RTCIceCandidateInit`); an empty `candidate` means
/// "no more candidates" for its media section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(
        rename = "sdpMLineIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sdp_m_line_index: Option<u32>,
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

/// How a call ended, as its history entry tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Nobody answered: the invite's lifetime ran out, or the caller hung
    /// up (or went away) first.
    Missed,
    /// The callee declined.
    Declined,
    /// Answered, then hung up: see `duration_ms`.
    Ended,
}

/// `metadata.call` of a message of type `call`: written by the server
/// only, once per call, when the call is over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallRecord {
    pub call_id: String,
    pub outcome: CallOutcome,
    /// From the answer to the hangup; only for `ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The caller asked for video.
    #[serde(default)]
    pub video: bool,
}

/// `GET /api/v1/calls/turn`: time-limited TURN credentials in the REST
/// form TURN servers check with a shared secret (coturn's
/// `use-auth-secret`). Without TURN configured, `uris` is empty and there
/// are no credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TurnCredentials {
    /// `<expiry as Unix seconds>:<user_id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Base64 of HMAC-SHA1(secret, username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Seconds the credentials stay valid (0 without TURN).
    pub ttl: u64,
    /// `turn:`/`turns:` URIs to use them with (the `iceServers` urls).
    pub uris: Vec<String>,
}
