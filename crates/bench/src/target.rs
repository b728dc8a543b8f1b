//! Where the load goes: the server's base URL, checked to be this machine.
//!
//! natter-bench generates enough traffic to hurt a real deployment, so it
//! refuses any host but the loopback interface: an `http://` URL whose
//! host is a loopback IP literal (`127.0.0.1`, any `127.x.y.z`, `[::1]`) or
//! `localhost` (mapped to `127.0.0.1`, never resolved through DNS).
//! Several such URLs, separated by commas, name the nodes of a cluster.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A checked loopback target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The address to open TCP connections to.
    pub addr: SocketAddr,
}

impl Target {
    /// Parses and checks a base URL such as `http://127.0.0.1:8080`.
    /// Errors name what is wrong: scheme, missing port, non-loopback host.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(format!("{url}: credentials in the URL are not supported"));
        }
        let addr = match authority.strip_prefix("localhost:") {
            Some(port) => SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                port.parse()
                    .map_err(|_| format!("{url}: the port is not a number"))?,
            ),
            None => authority.parse::<SocketAddr>().map_err(|_| {
                format!("{url}: the host must be a loopback IP literal with a port, e.g. http://127.0.0.1:8080")
            })?,
        };
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{url}: natter-bench only targets this machine (127.0.0.1), not {}",
                addr.ip()
            ));
        }
        if addr.port() == 0 {
            return Err(format!("{url}: port 0 is not a server's port"));
        }
        Ok(Target { addr })
    }

    /// Parses a comma-separated list of base URLs (the nodes of a
    /// cluster, in order), each checked as [`Target::parse`] does. Empty
    /// items and the same address twice are refused: either is a typo,
    /// and a node named twice would carry twice its share of the load.
    pub fn parse_list(urls: &str) -> Result<Vec<Target>, String> {
        let mut targets: Vec<Target> = Vec::new();
        for url in urls.split(',').map(str::trim) {
            if url.is_empty() {
                return Err(format!("{urls}: an empty URL in the list"));
            }
            let target = Target::parse(url)?;
            if targets.contains(&target) {
                return Err(format!("{url}: named twice"));
            }
            targets.push(target);
        }
        Ok(targets)
    }

    /// `http://ADDR`, for the REST client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://ADDR/api/v1/ws`, for the sockets.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_accepted() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(target.base_url(), "http://127.0.0.1:8080");
        assert_eq!(target.ws_url(), "ws://127.0.0.1:8080/api/v1/ws");
        assert!(Target::parse("http://127.0.0.1:8080/").is_ok());
        assert!(Target::parse("http://127.1.2.3:9").is_ok());
        assert!(Target::parse("http://[::1]:8080").is_ok());
        assert_eq!(
            Target::parse("http://localhost:81").unwrap().addr,
            "127.0.0.1:81".parse().unwrap()
        );
    }

    #[test]
    fn other_hosts_are_refused() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.2:80",
            "http://example.com:8080",
            "http://0.0.0.0:8080",
            "http://[2001:db8::1]:8080",
            "http://user@127.0.0.1:8080",
        ] {
            assert!(Target::parse(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn malformed_urls_are_refused() {
        for url in [
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
            "http://127.0.0.1",
            "http://127.0.0.1:0",
            "http://localhost:http",
        ] {
            assert!(Target::parse(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn a_list_names_every_node_in_order() {
        let nodes =
            Target::parse_list("http://127.0.0.1:18081,http://127.0.0.1:18082, http://[::1]:18083")
                .unwrap();
        let urls: Vec<String> = nodes.iter().map(Target::base_url).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:18081",
                "http://127.0.0.1:18082",
                "http://[::1]:18083"
            ]
        );
        assert_eq!(
            Target::parse_list("http://127.0.0.1:8080").unwrap().len(),
            1
        );
    }

    #[test]
    fn a_list_is_refused_when_any_node_is() {
        for urls in [
            "http://127.0.0.1:1,http://10.0.0.1:2",
            "http://127.0.0.1:1,https://127.0.0.1:2",
            "http://127.0.0.1:1,",
            ",http://127.0.0.1:1",
            "http://127.0.0.1:1,,http://127.0.0.1:2",
            "http://127.0.0.1:1,http://127.0.0.1:1/",
            "http://localhost:7,http://127.0.0.1:7",
            "",
        ] {
            assert!(Target::parse_list(urls).is_err(), "{urls} was accepted");
        }
    }
}
