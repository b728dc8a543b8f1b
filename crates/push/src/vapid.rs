//! The server's VAPID identity (RFC 8292): its P-256 key pair, its contact
//! (`sub`), and the `Authorization: vapid t=<JWT>, k=<key>` header every
//! push carries.
//!
//! The JWT is made here with `p256`'s ECDSA rather than with
//! web-push-native's `vapid` feature: that one puts `scheme://host` in
//! `aud`, dropping a non-default port (the audience must be the endpoint's
//! origin, port included), ties the token's lifetime to the push's `TTL`,
//! and brings jwt-simple with RSA, ML-DSA and three more curves that
//! natter never uses.

use crate::error::PushError;
use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// How long a signature is valid: RFC 8292 allows at most 24 hours; 12
/// leaves room for clocks that disagree.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// `{"typ":"JWT","alg":"ES256"}`, the only header VAPID uses.
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// The server's VAPID key pair and contact. Cluster nodes share one (the
/// private key is stored), so that a subscription made through any node is
/// accepted from every node.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    subject: String,
    public_key: String,
}

impl Vapid {
    /// A new private key: 32 raw bytes (a P-256 scalar), to be stored and
    /// given to [`Vapid::from_private_key`] on every start.
    pub fn generate_private_key() -> Vec<u8> {
        SigningKey::random(&mut rand_core::OsRng)
            .to_bytes()
            .to_vec()
    }

    /// The key pair from its stored private key, signing as `subject` (a
    /// `mailto:` address or an `https:` URL where the operator can be
    /// reached).
    pub fn from_private_key(bytes: &[u8], subject: &str) -> Result<Vapid, PushError> {
        check_subject(subject)?;
        // `from_slice` also takes (and pads) shorter slices: a truncated
        // stored key must not silently become another key.
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| PushError::InvalidPrivateKey)?;
        let key = SigningKey::from_slice(bytes).map_err(|_| PushError::InvalidPrivateKey)?;
        let point = key.verifying_key().as_affine().to_encoded_point(false);
        Ok(Vapid {
            public_key: Base64UrlUnpadded::encode_string(point.as_bytes()),
            key,
            subject: subject.to_owned(),
        })
    }

    /// The public key as browsers take it for `applicationServerKey`:
    /// base64url (no padding) of the 65-byte uncompressed point.
    pub fn public_key(&self) -> String {
        self.public_key.clone()
    }

    /// The contact sent as the JWT's `sub`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The `Authorization` header value for a push to `origin` (the
    /// endpoint's origin, `https://host[:port]`), valid for 12 hours from
    /// `now`.
    pub(crate) fn authorization(&self, origin: &str, now: SystemTime) -> String {
        let expires = (now + TOKEN_LIFETIME)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let claims = serde_json::json!({
            "aud": origin,
            "exp": expires,
            "sub": self.subject,
        });
        let signed = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(JWT_HEADER.as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
        );
        // ES256: ECDSA over SHA-256, the signature as r || s (RFC 7518 3.4).
        let signature: Signature = self.key.sign(signed.as_bytes());
        let token = format!(
            "{signed}.{}",
            Base64UrlUnpadded::encode_string(&signature.to_bytes())
        );
        format!("vapid t={token}, k={}", self.public_key)
    }
}

/// The private key never shows in logs.
impl fmt::Debug for Vapid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vapid")
            .field("subject", &self.subject)
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// `mailto:` with an address, or `https:` with a host.
fn check_subject(subject: &str) -> Result<(), PushError> {
    let invalid = |reason: &str| PushError::InvalidSubject {
        subject: subject.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(subject).map_err(|_| invalid("not a URI"))?;
    match url.scheme() {
        "mailto" => {
            let (local, domain) = url
                .path()
                .split_once('@')
                .ok_or_else(|| invalid("a mailto: subject needs an address"))?;
            if local.is_empty() || domain.is_empty() {
                return Err(invalid("a mailto: subject needs an address"));
            }
            Ok(())
        }
        "https" if url.host_str().is_some_and(|host| !host.is_empty()) => Ok(()),
        "https" => Err(invalid("an https: subject needs a host")),
        _ => Err(invalid("must start with mailto: or https:")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    fn vapid() -> Vapid {
        Vapid::from_private_key(&Vapid::generate_private_key(), "mailto:ops@example.org")
            .expect("a key")
    }

    #[test]
    fn a_stored_key_gives_the_same_public_key_again() {
        let private = Vapid::generate_private_key();
        assert_eq!(private.len(), 32);
        let first =
            Vapid::from_private_key(&private, "https://example.org/contact").expect("a key");
        let again = Vapid::from_private_key(&private, "mailto:a@b.c").expect("a key");
        assert_eq!(first.public_key(), again.public_key());
        let point = Base64UrlUnpadded::decode_vec(&first.public_key()).expect("base64url");
        assert_eq!((point.len(), point[0]), (65, 0x04));
        assert_ne!(first.public_key(), vapid().public_key());
    }

    #[test]
    fn a_bad_private_key_is_refused() {
        for bad in [&[][..], &[1u8; 31], &[1u8; 33], &[0u8; 32], &[0xffu8; 32]] {
            assert!(matches!(
                Vapid::from_private_key(bad, "mailto:a@b.c"),
                Err(PushError::InvalidPrivateKey)
            ));
        }
    }

    #[test]
    fn the_subject_must_be_a_contact() {
        let key = Vapid::generate_private_key();
        for good in [
            "mailto:ops@example.org",
            "https://example.org",
            "https://example.org/who",
        ] {
            assert!(Vapid::from_private_key(&key, good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ops@example.org",
            "mailto:",
            "mailto:ops",
            "mailto:@example.org",
            "http://example.org",
            "https://",
            "ftp://example.org",
        ] {
            assert!(
                matches!(
                    Vapid::from_private_key(&key, bad),
                    Err(PushError::InvalidSubject { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_debug_form_hides_the_private_key() {
        let private = Vapid::generate_private_key();
        let vapid = Vapid::from_private_key(&private, "mailto:a@b.c").expect("a key");
        let shown = format!("{vapid:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&Base64UrlUnpadded::encode_string(&private)));
    }

    #[test]
    fn the_header_carries_a_verifiable_es256_token_for_the_origin() {
        let vapid = vapid();
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let header = vapid.authorization("http://127.0.0.1:8080", now);
        let (token, key) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .expect("vapid t=..., k=...");
        assert_eq!(key, vapid.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| Base64UrlUnpadded::decode_vec(part).expect("base64url");
        let jose: serde_json::Value = serde_json::from_slice(&decode(parts[0])).expect("JSON");
        assert_eq!(jose, serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).expect("JSON");
        assert_eq!(
            claims,
            serde_json::json!({
                "aud": "http://127.0.0.1:8080",
                "exp": 1_700_000_000 + 12 * 3600,
                "sub": "mailto:ops@example.org",
            })
        );
        let verifying = VerifyingKey::from_sec1_bytes(&decode(key)).expect("a key");
        let signature = Signature::from_slice(&decode(parts[2])).expect("r || s");
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(signed.as_bytes(), &signature).is_ok());
    }
}
