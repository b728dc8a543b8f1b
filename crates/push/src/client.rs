//! Sending one push (RFC 8030 section 5): encrypt the payload to the
//! subscription (RFC 8291 aes128gcm, through web-push-native), sign it
//! (VAPID), post it, and say what the push service's answer means for the
//! caller: delivered, subscription gone, try again later, or give up.
//! Queueing, retries and backoff belong to the caller.

use crate::endpoint::{EndpointPolicy, check_url};
use crate::error::PushError;
use crate::keys::{decode_auth, decode_p256dh};
use crate::options::{PushOptions, topic_problem};
use crate::resolver::{OnlyNonPublicAddresses, guarded_client_builder};
use crate::retry_after::parse_retry_after;
use crate::tokens::TokenCache;
use crate::vapid::Vapid;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::time::{Duration, SystemTime};

/// The largest plaintext one push carries: 4,096 bytes of body (what every
/// push service must accept, RFC 8030 7.2) less the aes128gcm header (86
/// bytes with the sender's key), the tag (16) and the padding delimiter.
pub const MAX_PLAINTEXT_LEN: usize = 3993;

/// The longest `reason` kept from a push service's answer.
const MAX_REASON_LEN: usize = 200;

/// Where one push goes: a stored subscription, as posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
}

/// What became of one push, and so what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The push service took it (201, or any 2xx).
    Accepted,
    /// 404 or 410: the subscription is dead; delete it.
    Gone,
    /// 429, 5xx, a timeout or a connection error: try again, not before
    /// `after` if the service said (`Retry-After`, seconds or a date).
    RetryLater { after: Option<Duration> },
    /// Do not retry this push: another 4xx (400, 401, 403, 413...), a
    /// redirect (never followed), or, with `status: None`, refused here
    /// without a request (payload too large, a bad topic or key, an
    /// endpoint that is not allowed or resolves to no public address).
    Rejected { status: Option<u16>, reason: String },
}

/// Sends pushes signed with one VAPID identity. Cheap to share: one
/// connection pool for all pushes.
#[derive(Debug, Clone)]
pub struct PushClient {
    http: reqwest::Client,
    vapid: Vapid,
    policy: EndpointPolicy,
    tokens: std::sync::Arc<TokenCache>,
}

impl PushClient {
    /// A client that posts with `vapid`'s signature and gives up on a push
    /// service after `request_timeout` (the whole exchange). It follows no
    /// redirects and uses no proxy; unless insecure endpoints are allowed
    /// it speaks https only and connects only to public addresses.
    pub fn new(
        vapid: Vapid,
        policy: EndpointPolicy,
        request_timeout: Duration,
    ) -> Result<PushClient, PushError> {
        let builder = guarded_client_builder(!policy.allow_insecure)
            .timeout(request_timeout)
            .user_agent(concat!("natter-push/", env!("CARGO_PKG_VERSION")))
            .https_only(!policy.allow_insecure);
        Ok(PushClient {
            http: builder.build()?,
            vapid,
            policy,
            tokens: Default::default(),
        })
    }

    /// The identity pushes are signed with.
    pub fn vapid(&self) -> &Vapid {
        &self.vapid
    }

    /// Encrypts `payload` (aes128gcm), signs (VAPID JWT: `aud` the
    /// endpoint's origin, `exp` in 12 hours, `sub` the subject; one token
    /// per origin is reused until an hour before it expires), sets
    /// `TTL`, `Urgency`, `Topic` and `Content-Encoding`, and posts. An
    /// empty payload or one over [`MAX_PLAINTEXT_LEN`] bytes is rejected
    /// without a request.
    pub async fn send(
        &self,
        target: &Target<'_>,
        payload: &[u8],
        options: &PushOptions<'_>,
    ) -> SendOutcome {
        let request = match self.prepare(target, payload, options) {
            Ok(request) => request,
            Err(reason) => {
                return SendOutcome::Rejected {
                    status: None,
                    reason,
                };
            }
        };
        match request.send().await {
            Ok(response) => outcome_of_response(response).await,
            Err(error) => outcome_of_error(&error),
        }
    }

    /// The request for one push, or why there is none.
    fn prepare(
        &self,
        target: &Target<'_>,
        payload: &[u8],
        options: &PushOptions<'_>,
    ) -> Result<RequestBuilder, String> {
        if payload.is_empty() {
            // One record of 17 bytes: below RFC 8188's smallest record
            // size (18), so push services may refuse it.
            return Err("the payload is empty".into());
        }
        if payload.len() > MAX_PLAINTEXT_LEN {
            return Err(format!(
                "the payload is {} bytes, more than {MAX_PLAINTEXT_LEN}",
                payload.len()
            ));
        }
        if let Some(problem) = options.topic.and_then(topic_problem) {
            return Err(problem);
        }
        let url = check_url(target.endpoint, self.policy).map_err(|error| error.to_string())?;
        let public = decode_p256dh(target.p256dh).map_err(|error| error.to_string())?;
        let auth = decode_auth(target.auth).map_err(|error| error.to_string())?;
        let body = web_push_native::encrypt(
            payload.to_vec(),
            &public,
            &web_push_native::Auth::from(auth),
        )
        .map_err(|error| format!("the payload could not be encrypted: {error}"))?;
        let origin = url.origin().ascii_serialization();
        let authorization = self
            .tokens
            .authorization(&self.vapid, &origin, SystemTime::now());
        let mut request = self
            .http
            .post(url)
            .header("TTL", options.ttl_secs)
            .header("Urgency", options.urgency.as_str())
            .header(CONTENT_ENCODING, "aes128gcm")
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(AUTHORIZATION, authorization)
            .body(body);
        if let Some(topic) = options.topic {
            request = request.header("Topic", topic);
        }
        Ok(request)
    }
}

/// What the push service's answer means.
async fn outcome_of_response(response: Response) -> SendOutcome {
    let status = response.status();
    if status.is_success() {
        return SendOutcome::Accepted;
    }
    if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
        return SendOutcome::Gone;
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        return SendOutcome::RetryLater { after };
    }
    let reason = if status.is_redirection() {
        let to = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("nowhere");
        format!("redirected to {}, not followed", printable(to))
    } else {
        reason_from_body(response).await
    };
    SendOutcome::Rejected {
        status: Some(status.as_u16()),
        reason,
    }
}

/// The start of the answer's body (push services explain refusals there),
/// else the status's name.
async fn reason_from_body(mut response: Response) -> String {
    let status = response.status();
    let mut body = Vec::new();
    while body.len() < MAX_REASON_LEN * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = printable(String::from_utf8_lossy(&body).trim());
    if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_owned()
    } else {
        text
    }
}

/// A failure before any answer: retried, unless it cannot get better.
fn outcome_of_error(error: &reqwest::Error) -> SendOutcome {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<OnlyNonPublicAddresses>() {
            return SendOutcome::Rejected {
                status: None,
                reason: refused.to_string(),
            };
        }
        cause = current.source();
    }
    if error.is_builder() {
        return SendOutcome::Rejected {
            status: None,
            reason: error.to_string(),
        };
    }
    SendOutcome::RetryLater { after: None }
}

/// At most [`MAX_REASON_LEN`] characters, control characters dropped: the
/// text comes from a remote server and ends up in logs.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|character| !character.is_control())
        .take(MAX_REASON_LEN)
        .collect()
}
