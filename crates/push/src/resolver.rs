//! The DNS resolver the push HTTP client connects through when insecure
//! endpoints are not allowed. A subscription's host was checked when it was
//! posted, but DNS can change afterwards (rebinding): this resolver drops
//! every non-public address of every look-up, so a connection can only be
//! made to a public one, whatever the name resolves to by then.

use crate::address::is_public;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

/// Resolves with the system resolver, keeping only public addresses.
#[derive(Debug, Default)]
pub(crate) struct PublicOnlyResolver;

/// Every address the name had was refused: the push must not be sent (and
/// retrying will not help while DNS says so).
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to non-public addresses ({refused})")]
pub(crate) struct OnlyNonPublicAddresses {
    pub host: String,
    pub refused: String,
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
