//! The DNS resolver the push HTTP client connects through when insecure
//! endpoints are not allowed. A subscription's host was checked when it was
//! posted, but DNS can change afterwards (rebinding): this resolver drops
//! every non-public address of every look-up, so a connection can only be
//! made to a public one, whatever the name resolves to by then. Also the
//! base of [`guarded_client_builder`], which natter-core's link previews
//! fetch through as well (any server-side fetch of a user's URL).

use crate::address::is_public;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// Resolves with the system resolver, keeping only public addresses.
#[derive(Debug, Default)]
pub struct PublicOnlyResolver;

/// Every address the name had was refused: the push must not be sent (and
/// retrying will not help while DNS says so).
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({refused})")]
pub struct OnlyNonPublicAddresses {
    pub host: String,
    pub refused: String,
}

/// An HTTP client builder for URLs that came from users: no redirects
/// followed (a caller that follows them checks every hop itself), no
/// proxy from the environment, and with `public_only` every connection
/// goes through [`PublicOnlyResolver`]. IP-literal hosts never reach a
/// resolver: callers check those with [`crate::is_public`]. Timeouts, the
/// `User-Agent` and any scheme rule are the caller's to add.
pub fn guarded_client_builder(public_only: bool) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if public_only {
        builder.dns_resolver(PublicOnlyResolver)
    } else {
        builder
    }
}

/// True if `error` (a failed request of a client from
/// [`guarded_client_builder`]) failed because its host resolves only to
/// non-public addresses.
pub fn refused_as_non_public(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.downcast_ref::<OnlyNonPublicAddresses>().is_some() {
            return true;
        }
        cause = current.source();
    }
    false
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in afterwards.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (public, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|address| is_public(address.ip()));
            if public.is_empty() && !refused.is_empty() {
                let refused = refused
                    .iter()
                    .map(|address| address.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(OnlyNonPublicAddresses { host, refused }) as _);
            }
            let addresses: Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[tokio::test]
    async fn loopback_names_resolve_to_nothing_usable() {
        let name = Name::from_str("localhost").expect("a name");
        let error = match PublicOnlyResolver.resolve(name).await {
            Ok(addresses) => panic!("resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(error) => error,
        };
        let refused = error
            .downcast_ref::<OnlyNonPublicAddresses>()
            .expect("refused for its addresses");
        assert_eq!(refused.host, "localhost");
        assert!(refused.refused.contains("127.0.0.1"), "{refused}");
    }
}
