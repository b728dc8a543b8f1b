//! The [`Client`] handle and the plumbing every call goes through: URL
//! building, the bearer token, turning answers into typed values or
//! [`ClientError`]s, and the untyped [`Client::raw`] escape hatch.

use crate::{ClientError, Result};
use natter_proto::Problem;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// Upper bound on one request, so that a hung server fails a call instead
/// of hanging its caller (tests rely on this to stay bounded in time).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle on one natter server, optionally authenticated.
///
/// Cheap to clone: clones share one connection pool. [`Client::with_token`]
/// and [`Client::with_base_url`] derive handles that differ only in the
/// token or the server address.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: Arc<str>,
    token: Option<Arc<str>>,
}

/// An answer taken as it came: for tests of status codes, headers and
/// malformed input.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The HTTP status code.
    pub status: u16,
    /// All response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The `Content-Type` header, if present and ASCII.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE)?.to_str().ok()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        decode(&self.body)
    }

    /// The body parsed as problem details.
    pub fn problem(&self) -> Result<Problem> {
        decode(&self.body)
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    /// A client without token for the server at `base_url`
    /// (e.g. `http://127.0.0.1:8080`; a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Client {
        // Without TLS features building can only fail on a broken system
        // resolver setup; fall back to the default client then.
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Client::with_http(http, base_url)
    }

    /// Like [`Client::new`] with a caller-configured `reqwest::Client`.
    pub fn with_http(http: reqwest::Client, base_url: impl Into<String>) -> Client {
        let base_url: String = base_url.into();
        Client {
            http,
            base_url: base_url.trim_end_matches('/').into(),
            token: None,
        }
    }

    /// The same client sending `Authorization: Bearer <token>`.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            token: Some(token.into().into()),
            ..self.clone()
        }
    }

    /// The same client without any token.
    pub fn without_token(&self) -> Client {
        Client {
            token: None,
            ..self.clone()
        }
    }

    /// The same client (token and pool) talking to another address, e.g.
    /// the same server restarted on a new port.
    pub fn with_base_url(&self, base_url: impl Into<String>) -> Client {
        let base_url: String = base_url.into();
        Client {
            base_url: base_url.trim_end_matches('/').into(),
            ..self.clone()
        }
    }

    /// The server address, without trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The underlying HTTP client (for requests to absolute URLs).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The access token this client sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A request to `path` carrying this client's token, to be completed
    /// by the caller (extra headers, body) and sent with `.send()`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends `body` as is (with `content_type` if given) and returns the
    /// answer untouched, whatever its status. Fails only on transport errors.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Result<RawResponse> {
        let mut builder = self.request(method, path);
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        send_raw(builder).await
    }

    /// Sends a request and decodes a JSON success body; also returns the
    /// status so callers can tell 201 from 200.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        builder: RequestBuilder,
    ) -> Result<(T, StatusCode)> {
        let (status, body) = self.checked(builder).await?;
        Ok((decode(&body)?, status))
    }

    /// Sends a request whose success body, if any, is not needed.
    pub(crate) async fn call_empty(&self, builder: RequestBuilder) -> Result<()> {
        self.checked(builder).await.map(|_| ())
    }

    /// Sends a request; its success status and body, or the problem.
    pub(crate) async fn checked(&self, builder: RequestBuilder) -> Result<(StatusCode, Vec<u8>)> {
        let raw = send_raw(builder).await?;
        let status = StatusCode::from_u16(raw.status)
            .map_err(|_| ClientError::Decode(format!("invalid status {}", raw.status)))?;
        if status.is_success() {
            return Ok((status, raw.body));
        }
        match serde_json::from_slice::<Problem>(&raw.body) {
            Ok(problem) => Err(ClientError::Api {
                status: raw.status,
                problem,
            }),
            Err(_) => Err(ClientError::Decode(format!(
                "HTTP {} without problem details: {}",
                raw.status,
                snippet(&raw.body)
            ))),
        }
    }
}

/// Sends a request and takes the answer as it comes, whatever its status.
pub(crate) async fn send_raw(builder: RequestBuilder) -> Result<RawResponse> {
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// Parses JSON, naming the error and the start of the body on failure.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|error| ClientError::Decode(format!("{error} in {}", snippet(body))))
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Percent-encodes one path segment (ids, emoji): every byte outside the
/// RFC 3986 unreserved set becomes `%XX`.
pub fn path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_encode_emoji_and_reserved_characters() {
        assert_eq!(path_segment("abc-1.2_~"), "abc-1.2_~");
        assert_eq!(path_segment("👍"), "%F0%9F%91%8D");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn base_url_loses_its_trailing_slash() {
        let client = Client::new("http://127.0.0.1:1/");
        assert_eq!(client.url("/healthz"), "http://127.0.0.1:1/healthz");
        assert_eq!(client.with_token("t").token(), Some("t"));
    }
}
