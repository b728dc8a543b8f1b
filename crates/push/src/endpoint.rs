//! Push endpoint URLs: which ones natter will post to. The URL rules
//! (scheme, userinfo, length, IP literals) are checked without the
//! network by [`check_url`], both when a subscription is posted and before
//! every push; [`check_resolved_host`] adds the DNS look-up done when a
//! subscription is posted. At send time the resolver in
//! [`crate::resolver`] applies the same address rule to every connection.

use crate::address::is_public;
use crate::error::{InvalidSubscription, SubscriptionField};
use std::net::IpAddr;
use std::time::Duration;
use url::{Host, Url};

/// The longest endpoint natter stores. Real push services' URLs are well
/// under 1 KiB; the bound keeps a hostile client from storing megabytes.
pub const MAX_ENDPOINT_LEN: usize = 2048;

/// How long the look-up of a posted endpoint's host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where pushes may go. The default (`allow_insecure: false`) is the only
/// safe one on the internet: `https://` to public addresses only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Also allow `http://` and private, loopback or link-local addresses
    /// (the `push.allow_insecure_endpoints` setting: tests and closed
    /// networks, where the push service is local).
    pub allow_insecure: bool,
}

fn invalid(reason: impl Into<String>) -> InvalidSubscription {
    InvalidSubscription::new(SubscriptionField::Endpoint, reason)
}

/// Parses `endpoint` and checks everything that needs no network: at most
/// [`MAX_ENDPOINT_LEN`] bytes, an absolute `https://` URL (`http://` too if
/// insecure endpoints are allowed), no user name or password, a host, and
/// a public address if the host is an IP literal. A domain's addresses are
/// left to [`check_resolved_host`] and the sending resolver.
pub fn check_url(endpoint: &str, policy: EndpointPolicy) -> Result<Url, InvalidSubscription> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(invalid(format!("longer than {MAX_ENDPOINT_LEN} bytes")));
    }
    let url = Url::parse(endpoint).map_err(|error| invalid(format!("not a URL: {error}")))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_insecure => {}
        "http" => return Err(invalid("must be an https:// URL")),
        other => return Err(invalid(format!("must be an https:// URL, not {other}:"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry a user name or password"));
    }
    match url.host() {
        None => return Err(invalid("has no host")),
        Some(Host::Domain(_)) => {}
        Some(Host::Ipv4(ip)) => check_address(IpAddr::V4(ip), policy)?,
        Some(Host::Ipv6(ip)) => check_address(IpAddr::V6(ip), policy)?,
    }
    Ok(url)
}

fn check_address(ip: IpAddr, policy: EndpointPolicy) -> Result<(), InvalidSubscription> {
    if policy.allow_insecure || is_public(ip) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{ip} is not a public address (private, loopback, link-local or reserved)"
        )))
    }
}

/// Resolves the host of a URL that passed [`check_url`] and requires every
/// address to be public (one private address among public ones is enough
/// for a rebinding host to reach inside). Skipped for IP literals (already
/// checked) and when insecure endpoints are allowed.
pub async fn check_resolved_host(
    url: &Url,
    policy: EndpointPolicy,
) -> Result<(), InvalidSubscription> {
    let Some(Host::Domain(domain)) = url.host() else {
        return Ok(());
    };
    if policy.allow_insecure {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match tokio::time::timeout(
        RESOLVE_TIMEOUT,
        tokio::net::lookup_host((domain, port)),
    )
    .await
    {
        Ok(Ok(found)) => found.map(|address| address.ip()).collect(),
        Ok(Err(error)) => return Err(invalid(format!("host {domain} does not resolve: {error}"))),
        Err(_) => return Err(invalid(format!("host {domain} did not resolve in time"))),
    };
    if addresses.is_empty() {
        return Err(invalid(format!("host {domain} has no address")));
    }
    for ip in addresses {
        check_address(ip, policy).map_err(|_| {
            invalid(format!(
                "host {domain} resolves to {ip}, not a public address"
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: EndpointPolicy = EndpointPolicy {
        allow_insecure: false,
    };
    const INSECURE: EndpointPolicy = EndpointPolicy {
        allow_insecure: true,
    };

    fn refused(endpoint: &str, policy: EndpointPolicy) -> String {
        match check_url(endpoint, policy) {
            Ok(url) => panic!("{endpoint} was accepted as {url}"),
            Err(error) => {
                assert_eq!(error.field, SubscriptionField::Endpoint);
                error.reason
            }
        }
    }

    #[test]
    fn real_push_service_urls_are_accepted() {
        for endpoint in [
            "https://fcm.googleapis.com/fcm/send/abc:APA91b",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
            "https://web.push.apple.com/QGuQyavXutnMei",
            "https://ntfy.example.org:8443/upAbc?up=1",
            "https://93.184.215.14/push/1",
            "https://[2a00:1450:4001:82b::200a]/push/1",
        ] {
            assert!(check_url(endpoint, STRICT).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn plain_http_needs_insecure_endpoints() {
        assert!(refused("http://push.example.com/x", STRICT).contains("https"));
        assert!(check_url("http://push.example.com/x", INSECURE).is_ok());
    }

    #[test]
    fn other_schemes_are_refused_even_when_insecure() {
        for endpoint in [
            "ftp://push.example.com/x",
            "file:///etc/passwd",
            "data:,x",
            "ws://a/b",
        ] {
            refused(endpoint, INSECURE);
        }
    }

    #[test]
    fn userinfo_is_refused() {
        assert!(refused("https://user:pw@push.example.com/x", INSECURE).contains("user name"));
        refused("https://user@push.example.com/x", STRICT);
    }

    #[test]
    fn private_ip_literals_are_refused_unless_insecure() {
        for endpoint in [
            "https://127.0.0.1/x",
            "https://127.1/x",
            "https://2130706433/x",
            "https://0x7f.0.0.1/x",
            "https://10.1.2.3/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://0.0.0.0/x",
        ] {
            assert!(
                refused(endpoint, STRICT).contains("not a public address"),
                "{endpoint}"
            );
            assert!(check_url(endpoint, INSECURE).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn overlong_and_malformed_endpoints_are_refused() {
        let long = format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(refused(&long, STRICT).contains("longer"));
        let exactly = format!(
            "https://push.example.com/{}",
            "a".repeat(MAX_ENDPOINT_LEN - 25)
        );
        assert_eq!(exactly.len(), MAX_ENDPOINT_LEN);
        assert!(check_url(&exactly, STRICT).is_ok());
        for endpoint in ["", "push.example.com/x", "/push/x", "https://"] {
            refused(endpoint, STRICT);
        }
    }

    #[tokio::test]
    async fn a_host_that_resolves_to_loopback_is_refused() {
        let url = check_url("https://localhost/x", STRICT).expect("passes the URL rules");
        let error = check_resolved_host(&url, STRICT)
            .await
            .expect_err("refused");
        assert!(error.reason.contains("not a public address"), "{error}");
        assert!(check_resolved_host(&url, INSECURE).await.is_ok());
    }
}
