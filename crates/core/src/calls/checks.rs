//! What a signaling frame may carry: session descriptions of the right
//! kind and size, batches of candidates, hangup reasons as short tokens.

use crate::{CoreError, CoreResult, no_control_characters};
use natter_proto::calls::{IceCandidate, SdpType, SessionDescription};
use natter_proto::events::ClientFrame;

/// Most candidates in one `call.candidates` frame.
const MAX_CANDIDATES: usize = 64;
/// Longest SDP, in bytes (a frame is at most 64 KiB anyway).
const MAX_SDP_BYTES: usize = 48 * 1024;
/// Longest candidate line and hangup reason, in bytes.
const MAX_CANDIDATE_BYTES: usize = 1024;
const MAX_REASON_BYTES: usize = 64;

/// `sdp` is 1 to [`MAX_SDP_BYTES`] and, if `kind` is given, of that kind;
/// `field` names it in the error.
pub(super) fn check_sdp(
    field: &str,
    sdp: &SessionDescription,
    kind: Option<SdpType>,
) -> CoreResult<()> {
    if kind.is_some_and(|kind| kind != sdp.kind) {
        return Err(CoreError::invalid(format!(
            "{field}.type must be {}",
            if kind == Some(SdpType::Offer) {
                "offer"
            } else {
                "answer"
            }
        )));
    }
    if sdp.sdp.trim().is_empty() || sdp.sdp.len() > MAX_SDP_BYTES {
        return Err(CoreError::invalid(format!(
            "{field}.sdp must be 1 to {MAX_SDP_BYTES} bytes long"
        )));
    }
    Ok(())
}

/// 1 to [`MAX_CANDIDATES`] candidates of bounded, printable lines.
pub(super) fn check_candidates(candidates: &[IceCandidate]) -> CoreResult<()> {
    if candidates.is_empty() || candidates.len() > MAX_CANDIDATES {
        return Err(CoreError::invalid(format!(
            "candidates must hold 1 to {MAX_CANDIDATES} candidates"
        )));
    }
    for candidate in candidates {
        if candidate.candidate.len() > MAX_CANDIDATE_BYTES {
            return Err(CoreError::invalid(format!(
                "a candidate is at most {MAX_CANDIDATE_BYTES} bytes long"
            )));
        }
        no_control_characters("candidate", &candidate.candidate, false)?;
    }
    Ok(())
}

/// The reason of a hangup that gives none.
pub(super) const DEFAULT_REASON: &str = "user_hangup";

/// A hangup's reason, if given: a short token.
pub(super) fn check_reason(reason: Option<&str>) -> CoreResult<()> {
    let Some(reason) = reason else {
        return Ok(());
    };
    let token = !reason.is_empty()
        && reason.len() <= MAX_REASON_BYTES
        && reason
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !token {
        return Err(CoreError::invalid(format!(
            "reason must be 1 to {MAX_REASON_BYTES} of a-z, 0-9 and _"
        )));
    }
    Ok(())
}

/// What a signaling frame other than an invite carries (an invite is
/// checked where it is taken): checked on the node the frame arrived at,
/// before it is handled there or relayed.
pub(super) fn check_signal(frame: &ClientFrame) -> CoreResult<()> {
    match frame {
        ClientFrame::CallAnswer { answer, .. } => {
            check_sdp("answer", answer, Some(SdpType::Answer))
        }
        ClientFrame::CallCandidates { candidates, .. } => check_candidates(candidates),
        ClientFrame::CallNegotiate { description, .. } => {
            check_sdp("description", description, None)
        }
        ClientFrame::CallHangup { reason, .. } => check_reason(reason.as_deref()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short_tokens_and_sdp_must_match_its_role() {
        assert!(check_reason(None).is_ok());
        assert!(check_reason(Some("ice_failed")).is_ok());
        assert!(check_reason(Some("Bye now")).is_err());
        assert!(check_reason(Some("")).is_err());
        let offer = SessionDescription {
            kind: SdpType::Offer,
            sdp: "v=0".into(),
        };
        assert!(check_sdp("offer", &offer, Some(SdpType::Offer)).is_ok());
        assert!(check_sdp("answer", &offer, Some(SdpType::Answer)).is_err());
        let empty = SessionDescription {
            kind: SdpType::Offer,
            sdp: " ".into(),
        };
        assert!(check_sdp("offer", &empty, None).is_err());
        assert!(check_candidates(&[]).is_err());
    }
}
