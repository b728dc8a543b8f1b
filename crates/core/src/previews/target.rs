//! Which URLs a preview may be asked for, and the one form each is cached
//! under: `http` or `https` only, at most [`MAX_URL_LEN`] bytes, no user
//! name or password, a host; normalized by the WHATWG URL rules (scheme
//! and host lower-cased, IDNA, default port and dot segments dropped) and
//! without its fragment, which never reaches the server anyway.

use crate::{CoreError, CoreResult};
use url::Url;

/// The longest URL a preview is made for, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL (given, or met on the way: a redirect, an image) is not
/// fetched.
pub(crate) fn check(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("{other}: is not http or https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL carries a user name or password".into());
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    if url.as_str().len() > MAX_URL_LEN {
        return Err(format!("longer than {MAX_URL_LEN} bytes"));
    }
    Ok(())
}

/// Why a URL's port is not fetched: only the web's own, 80 and 443 (given
/// or the scheme's default), so a preview cannot be used to knock on a
/// host's other services (mail, databases, admin consoles). Checked on
/// the first URL and every redirect and image unless private addresses
/// are allowed (tests and closed networks serve on other ports).
pub(crate) fn check_port(url: &Url) -> Result<(), String> {
    match url.port_or_known_default() {
        Some(80 | 443) => Ok(()),
        Some(port) => Err(format!("port {port} is not 80 or 443")),
        None => Err("the URL has no port".into()),
    }
}

/// The normalized form of a URL a client asks a preview for, or a 400
/// naming the problem.
pub fn normalize(raw: &str) -> CoreResult<Url> {
    let invalid = |why: &str| CoreError::invalid(format!("url: {why}"));
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("is required"));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(invalid(&format!("longer than {MAX_URL_LEN} bytes")));
    }
    let mut url = Url::parse(raw).map_err(|error| invalid(&format!("not a URL ({error})")))?;
    url.set_fragment(None);
    check(&url).map_err(|why| invalid(&why))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized_to_one_cache_key() {
        for (given, cached) in [
            (
                "HTTPS://Example.COM:443/a/./b/../c?q=1#top",
                "https://example.com/a/c?q=1",
            ),
            ("http://example.com", "http://example.com/"),
            (
                "  https://bücher.example/  ",
                "https://xn--bcher-kva.example/",
            ),
            ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ] {
            assert_eq!(normalize(given).unwrap().as_str(), cached, "{given}");
        }
    }

    #[test]
    fn only_plain_http_urls_of_bounded_length_are_taken() {
        for bad in [
            "",
            "ftp://example.com/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,hi",
            "example.com/no-scheme",
            "https://user:pw@example.com/",
            "https://user@example.com/",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(normalize(&long).is_err());
        let at_limit = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN - 20));
        assert_eq!(normalize(&at_limit).unwrap().as_str().len(), MAX_URL_LEN);
    }

    #[test]
    fn only_the_web_ports_are_fetched() {
        for good in [
            "http://example.com/",
            "https://example.com/",
            "http://example.com:80/",
            "https://example.com:443/",
            "http://example.com:443/",
            "https://example.com:80/",
        ] {
            assert_eq!(check_port(&Url::parse(good).unwrap()), Ok(()), "{good}");
        }
        for (bad, port) in [
            ("http://example.com:8080/", "8080"),
            ("https://example.com:22/", "22"),
            ("http://93.184.215.14:6379/", "6379"),
            ("http://example.com:1/", "1"),
        ] {
            let why = check_port(&Url::parse(bad).unwrap()).unwrap_err();
            assert!(why.contains(port), "{bad}: {why}");
        }
    }
}
