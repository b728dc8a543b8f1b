//! Checking a subscription as a browser (or a UnifiedPush distributor)
//! posts it, before natter stores it: the endpoint it will post to and the
//! keys it will encrypt to.

use crate::endpoint::{EndpointPolicy, check_resolved_host, check_url};
use crate::error::InvalidSubscription;
use crate::keys::{decode_auth, decode_p256dh};

/// Checks a posted subscription: the endpoint against [`check_url`]'s rules
/// and, unless insecure endpoints are allowed, its host resolved now with
/// every address public; `p256dh` an uncompressed P-256 point and `auth`
/// 16 bytes (base64url, padding tolerated). The error names the field at
/// fault (`endpoint`, `keys.p256dh`, `keys.auth`) and why. The DNS
/// look-up comes last, after every check that needs no network.
///
/// Passing here does not make later pushes safe by itself: DNS may change,
/// so [`crate::PushClient`] checks every connection's address again.
pub async fn validate_subscription(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    policy: EndpointPolicy,
) -> Result<(), InvalidSubscription> {
    let url = check_url(endpoint, policy)?;
    decode_p256dh(p256dh)?;
    decode_auth(auth)?;
    check_resolved_host(&url, policy).await
}
