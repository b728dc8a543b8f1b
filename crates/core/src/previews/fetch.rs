//! Fetching a page or an image for a preview, guarded against
//! server-side request forgery: the HTTP client of natter-push (no
//! redirects followed by it, no proxy, and unless private addresses are
//! allowed a DNS resolver that yields public addresses only), redirects
//! followed here by hand, at most [`MAX_REDIRECTS`], each hop checked
//! (http or https, never from https back to http, no credentials, port
//! 80 or 443, an IP-literal host must be public), the answer's type
//! checked, and at most so many bytes read. The whole
//! fetch's time limit is the caller's (one deadline for page and image).

use super::target;
use natter_push::{guarded_client_builder, is_public, refused_as_non_public};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Response, Url};
use std::net::IpAddr;
use std::time::Duration;
use url::Host;

/// Redirects followed, at most; one more is refused.
pub(crate) const MAX_REDIRECTS: usize = 3;
/// Bytes of a page read, at most: the head, where the preview data is,
/// comes first; the rest is cut off.
pub(crate) const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Bytes of an image, at most; a larger one is not previewed.
pub(crate) const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Names natter to the sites it fetches from.
const USER_AGENT: &str = concat!("natter/", env!("CARGO_PKG_VERSION"), " (link preview)");

/// Why a fetch brought nothing back. Only logged (at debug): the client
/// is told "cannot be fetched" whatever it was.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// A URL on the way is not one natter fetches (scheme, credentials,
    /// a non-public address).
    #[error("refused: {0}")]
    Refused(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the server answered {0}")]
    Status(u16),
    #[error("the answer is {0}, not the type asked for")]
    WrongType(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request failed: {0}")]
    Network(String),
}

fn network(error: reqwest::Error) -> FetchError {
    if refused_as_non_public(&error) {
        return FetchError::Refused("the host resolves only to non-public addresses".into());
    }
    // The cause chain, without the URL (it may be long).
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    FetchError::Network(text)
}

/// A fetched page: where it was finally found, its first bytes, and the
/// charset its `Content-Type` names, if any.
pub(crate) struct Page {
    pub url: Url,
    pub html: Vec<u8>,
    pub charset: Option<String>,
}

/// The client for previews. Cheap to share: one connection pool.
pub(crate) struct Fetcher {
    http: reqwest::Client,
    allow_private: bool,
    /// Ports other than 80 and 443 too (with `allow_private`).
    any_port: bool,
}

impl Fetcher {
    /// A fetcher whose every request gives up after `timeout`.
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Fetcher> {
        let http = guarded_client_builder(!allow_private)
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Fetcher {
            http,
            allow_private,
            any_port: allow_private,
        })
    }

    /// Whether a hop may be fetched: the URL rules, port 80 or 443 and,
    /// for an IP-literal host (which no resolver sees), a public address.
    fn check_hop(&self, url: &Url) -> Result<(), FetchError> {
        target::check(url).map_err(FetchError::Refused)?;
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        match literal {
            Some(ip) if !self.allow_private && !is_public(ip) => {
                return Err(FetchError::Refused(format!("{ip} is not a public address")));
            }
            _ => {}
        }
        if !self.any_port {
            target::check_port(url).map_err(FetchError::Refused)?;
        }
        Ok(())
    }

    /// Whether `url` may be fetched as far as the URL alone says (the
    /// first hop's check, before any request); why not, if not.
    pub fn allowed(&self, url: &Url) -> Result<(), String> {
        self.check_hop(url).map_err(|error| error.to_string())
    }

    /// GET `url`, following redirects by hand; the final URL and its
    /// successful answer.
    async fn get(&self, mut url: Url, accept: &str) -> Result<(Url, Response), FetchError> {
        for hop in 0..=MAX_REDIRECTS {
            self.check_hop(&url)?;
            let response = self
                .http
                .get(url.clone())
                .header(ACCEPT, accept)
                .send()
                .await
                .map_err(network)?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or(FetchError::Status(status.as_u16()))?;
                if hop == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                let next = url
                    .join(location)
                    .map_err(|error| FetchError::Refused(format!("a bad redirect: {error}")))?;
                check_redirect(&url, &next)?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return Ok((url, response));
        }
        Err(FetchError::TooManyRedirects)
    }

    /// The page at `url`: HTML (or XHTML) only, its first
    /// [`MAX_PAGE_BYTES`].
    pub async fn page(&self, url: Url) -> Result<Page, FetchError> {
        let (url, response) = self
            .get(url, "text/html,application/xhtml+xml;q=0.9")
            .await?;
        let kind = media_type(&response);
        if kind != "text/html" && kind != "application/xhtml+xml" {
            return Err(FetchError::WrongType(kind));
        }
        let charset = charset(&response);
        let html = read(response, MAX_PAGE_BYTES, Overflow::Cut).await?;
        Ok(Page { url, html, charset })
    }

    /// The image at `url`: an `image/*` answer of at most
    /// [`MAX_IMAGE_BYTES`] (what it really is, the caller sniffs).
    pub async fn image(&self, url: Url) -> Result<Vec<u8>, FetchError> {
        let (_, response) = self.get(url, "image/*").await?;
        let kind = media_type(&response);
        if !kind.starts_with("image/") {
            return Err(FetchError::WrongType(kind));
        }
        read(response, MAX_IMAGE_BYTES, Overflow::Refuse).await
    }
}

/// Whether a redirect from `from` to `to` may be followed as far as the
/// pair says (each hop's own rules are [`Fetcher::check_hop`]'s): never
/// from https to http, where a network attacker could answer in the
/// site's name.
fn check_redirect(from: &Url, to: &Url) -> Result<(), FetchError> {
    if from.scheme() == "https" && to.scheme() == "http" {
        return Err(FetchError::Refused("a redirect from https to http".into()));
    }
    Ok(())
}

/// The `charset` parameter of the answer's `Content-Type`, if any.
fn charset(response: &Response) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The answer's media type, lower-case, without parameters.
fn media_type(response: &Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "nothing declared".into())
}

/// What to do with a body longer than the limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// Keep the first bytes (pages).
    Cut,
    /// Fail (images: a cut image is a broken one).
    Refuse,
}

/// At most `limit` bytes of the body; never reads past the limit.
async fn read(
    mut response: Response,
    limit: usize,
    overflow: Overflow,
) -> Result<Vec<u8>, FetchError> {
    if overflow == Overflow::Refuse
        && response
            .content_length()
            .is_some_and(|length| length > limit as u64)
    {
        return Err(FetchError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > limit {
            if overflow == Overflow::Refuse {
                return Err(FetchError::TooLarge(limit));
            }
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            // Dropping the response closes the connection: the rest is
            // never read.
            return Ok(body);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Fetcher {
        Fetcher::new(false, Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn every_hop_must_be_http_without_credentials_to_a_public_address() {
        let fetcher = strict();
        let base = Url::parse("https://example.com/start").unwrap();
        for location in [
            "http://10.0.0.1/",
            "http://127.0.0.1:8080/admin",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:192.168.1.1]/",
            "http://0.0.0.0/",
            "file:///etc/passwd",
            "ftp://example.com/",
            "https://user:pw@example.com/",
        ] {
            let next = base.join(location).unwrap();
            assert!(fetcher.check_hop(&next).is_err(), "{location}");
        }
        for location in ["/next", "https://example.org/page", "http://93.184.215.14/"] {
            let next = base.join(location).unwrap();
            assert!(fetcher.check_hop(&next).is_ok(), "{location}");
        }
        let lenient = Fetcher::new(true, Duration::from_secs(5)).unwrap();
        assert!(
            lenient
                .check_hop(&Url::parse("http://127.0.0.1:1/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn only_ports_80_and_443_are_fetched_unless_private_addresses_are_allowed() {
        let fetcher = strict();
        for bad in [
            "http://example.com:8080/",
            "https://example.com:8443/",
            "http://93.184.215.14:25/",
        ] {
            match fetcher.check_hop(&Url::parse(bad).unwrap()) {
                Err(FetchError::Refused(why)) => assert!(why.contains("port"), "{bad}: {why}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(
            fetcher
                .allowed(&Url::parse("http://example.com:8080/").unwrap())
                .is_err()
        );
        for good in ["http://example.com:80/", "https://example.com/"] {
            assert!(
                fetcher.check_hop(&Url::parse(good).unwrap()).is_ok(),
                "{good}"
            );
        }
        let lenient = Fetcher::new(true, Duration::from_secs(5)).unwrap();
        assert!(
            lenient
                .check_hop(&Url::parse("http://example.com:8080/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn a_redirect_from_https_to_http_is_refused_and_the_other_way_is_not() {
        let secure = Url::parse("https://example.com/a").unwrap();
        let plain = Url::parse("http://example.com/a").unwrap();
        assert!(matches!(
            check_redirect(&secure, &secure.join("http://example.com/b").unwrap()),
            Err(FetchError::Refused(_))
        ));
        assert!(check_redirect(&secure, &secure.join("/b").unwrap()).is_ok());
        assert!(check_redirect(&secure, &Url::parse("https://example.org/").unwrap()).is_ok());
        assert!(check_redirect(&plain, &secure).is_ok());
        assert!(check_redirect(&plain, &plain.join("/b").unwrap()).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_never_connected_to() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        // Any port, to reach the resolver's check (the port's comes first).
        let fetcher = Fetcher {
            any_port: true,
            ..strict()
        };
        match fetcher.page(url).await {
            Err(FetchError::Refused(why)) => assert!(why.contains("non-public"), "{why}"),
            Err(other) => panic!("refused for the wrong reason: {other}"),
            Ok(_) => panic!("fetched from loopback"),
        }
        // A connection made before the answer would wait in the backlog.
        let pending = listener.accept();
        assert!(
            matches!(&pending, Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
            "no connection was made: {pending:?}"
        );
    }
}
