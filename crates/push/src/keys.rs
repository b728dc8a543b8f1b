//! The user agent's keys in a subscription (`keys.p256dh`, `keys.auth`):
//! decoding them from base64url and checking they are what RFC 8291 needs
//! before anything is stored or encrypted to them.

use crate::error::{InvalidSubscription, SubscriptionField};
use base64ct::{Base64UrlUnpadded, Encoding};
use p256::PublicKey;

/// Length of an uncompressed SEC1 P-256 point: 0x04, x, y.
const UNCOMPRESSED_POINT_LEN: usize = 65;
/// Length of the authentication secret (RFC 8291 section 3.2).
pub(crate) const AUTH_LEN: usize = 16;

/// The user agent's ECDH public key, from base64url (padding tolerated:
/// some clients send the standard padded form). It must be an
/// uncompressed point on P-256, as `PushSubscription.getKey('p256dh')`
/// gives it.
pub(crate) fn decode_p256dh(text: &str) -> Result<PublicKey, InvalidSubscription> {
    let invalid = |reason: &str| InvalidSubscription::new(SubscriptionField::P256dh, reason);
    let bytes = decode_base64url(text).ok_or_else(|| invalid("not base64url"))?;
    if bytes.len() != UNCOMPRESSED_POINT_LEN || bytes[0] != 0x04 {
        return Err(invalid(
            "not an uncompressed P-256 public key (65 bytes starting with 0x04)",
        ));
    }
    PublicKey::from_sec1_bytes(&bytes).map_err(|_| invalid("not a point on the P-256 curve"))
}

/// The 16-byte authentication secret, from base64url (padding tolerated).
pub(crate) fn decode_auth(text: &str) -> Result<[u8; AUTH_LEN], InvalidSubscription> {
    let invalid = |reason: &str| InvalidSubscription::new(SubscriptionField::Auth, reason);
    let bytes = decode_base64url(text).ok_or_else(|| invalid("not base64url"))?;
    bytes
        .try_into()
        .map_err(|_| invalid("not a 16-byte authentication secret"))
}

/// Base64url without padding; trailing `=` are dropped first.
pub(crate) fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    fn encode(bytes: &[u8]) -> String {
        Base64UrlUnpadded::encode_string(bytes)
    }

    fn a_public_key() -> Vec<u8> {
        let secret = p256::SecretKey::random(&mut rand_core::OsRng);
        secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn a_browser_p256dh_key_is_accepted_with_or_without_padding() {
        let point = a_public_key();
        let text = encode(&point);
        assert!(decode_p256dh(&text).is_ok());
        // 65 bytes are 87 base64 characters: one `=` of padding.
        assert!(decode_p256dh(&format!("{text}=")).is_ok());
    }

    #[test]
    fn p256dh_must_be_an_uncompressed_point_on_the_curve() {
        let point = a_public_key();
        let compressed = p256::PublicKey::from_sec1_bytes(&point)
            .expect("a point")
            .to_encoded_point(true);
        let mut off_curve = point.clone();
        off_curve[64] ^= 1;
        for bad in [
            encode(compressed.as_bytes()),
            encode(&off_curve),
            encode(&point[..64]),
            encode(&[0u8; 65]),
            "not*base64".to_owned(),
            String::new(),
        ] {
            let error = decode_p256dh(&bad).expect_err("refused");
            assert_eq!(error.field, SubscriptionField::P256dh, "{bad}");
        }
    }

    #[test]
    fn auth_must_be_sixteen_bytes() {
        assert_eq!(decode_auth(&encode(&[7u8; 16])), Ok([7u8; 16]));
        assert_eq!(decode_auth("BwcHBwcHBwcHBwcHBwcHBw=="), Ok([7u8; 16]));
        for bad in [encode(&[7u8; 15]), encode(&[7u8; 17]), "a+b/".to_owned()] {
            let error = decode_auth(&bad).expect_err("refused");
            assert_eq!(error.field, SubscriptionField::Auth, "{bad}");
        }
    }
}
