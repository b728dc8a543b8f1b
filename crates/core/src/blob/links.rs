//! Signed, expiring links to stored files, so `<img src>` works without an
//! `Authorization` header. A link is
//! `/api/v1/files/{file_id}?variant=...&expires=...&sig=...` where `sig` is
//! HMAC-SHA256 over a versioned, newline-separated message of file id,
//! variant and expiry, encoded as base64url without padding.
//!
//! This module only signs and checks; the HTTP layer parses the query and
//! still checks that the file exists.

use super::Variant;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation: a signature made for anything else with the same
/// secret (tokens, future link kinds) never verifies here.
const CONTEXT: &[u8] = b"natter-file-link-v1";

fn mac(secret: &[u8], file_id: &str, variant: Variant, expires_at: u64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    // The fields after `file_id` never contain a newline, so the message
    // parses back uniquely even if an id ever did.
    for part in [
        CONTEXT,
        file_id.as_bytes(),
        variant.as_str().as_bytes(),
        expires_at.to_string().as_bytes(),
    ] {
        mac.update(part);
        mac.update(b"\n");
    }
    mac
}

/// A link (path and query) to `file_id`'s `variant`, valid until the Unix
/// time `expires_at` (exclusive). `file_id` is a server-generated id (a
/// UUID), so it needs no escaping in the path.
pub fn sign(secret: &[u8], file_id: &str, variant: Variant, expires_at: u64) -> String {
    let sig = URL_SAFE_NO_PAD.encode(
        mac(secret, file_id, variant, expires_at)
            .finalize()
            .into_bytes(),
    );
    format!("/api/v1/files/{file_id}?variant={variant}&expires={expires_at}&sig={sig}")
}

/// Whether `sig` is a valid signature for these values and `now` (Unix
/// seconds) is before `expires_at`. Compares in constant time. Malformed
/// signatures are simply invalid.
pub fn verify(
    secret: &[u8],
    file_id: &str,
    variant: Variant,
    expires_at: u64,
    sig: &str,
    now: u64,
) -> bool {
    if now >= expires_at {
        return false;
    }
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    mac(secret, file_id, variant, expires_at)
        .verify_slice(&sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test secret, long enough to be realistic";
    const ID: &str = "0190a5e0-0000-7000-8000-000000000001";

    /// Splits a signed link into (expires, sig).
    fn parts(link: &str) -> (u64, String) {
        let query = link.split_once('?').unwrap().1;
        let mut expires = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=').unwrap() {
                ("expires", v) => expires = v.parse().unwrap(),
                ("sig", v) => sig = v.to_owned(),
                _ => {}
            }
        }
        (expires, sig)
    }

    #[test]
    fn a_signed_link_verifies_before_it_expires() {
        let link = sign(SECRET, ID, Variant::Thumb, 1_000);
        assert!(link.starts_with(&format!(
            "/api/v1/files/{ID}?variant=thumb&expires=1000&sig="
        )));
        let (expires, sig) = parts(&link);
        assert!(!sig.contains('=') && !sig.contains('+') && !sig.contains('/'));
        assert!(verify(SECRET, ID, Variant::Thumb, expires, &sig, 999));
    }

    #[test]
    fn an_expired_link_does_not_verify() {
        let (expires, sig) = parts(&sign(SECRET, ID, Variant::Original, 1_000));
        assert!(!verify(SECRET, ID, Variant::Original, expires, &sig, 1_000));
        assert!(!verify(SECRET, ID, Variant::Original, expires, &sig, 5_000));
    }

    #[test]
    fn a_tampered_link_does_not_verify() {
        let (expires, sig) = parts(&sign(SECRET, ID, Variant::Thumb, 1_000));
        let other_id = "0190a5e0-0000-7000-8000-000000000002";
        assert!(!verify(SECRET, other_id, Variant::Thumb, expires, &sig, 0));
        assert!(!verify(SECRET, ID, Variant::Original, expires, &sig, 0));
        assert!(!verify(SECRET, ID, Variant::Thumb, expires + 3600, &sig, 0));
        assert!(!verify(
            b"another secret",
            ID,
            Variant::Thumb,
            expires,
            &sig,
            0
        ));
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert!(!verify(SECRET, ID, Variant::Thumb, expires, &flipped, 0));
        assert!(!verify(SECRET, ID, Variant::Thumb, expires, &sig[..10], 0));
        assert!(!verify(
            SECRET,
            ID,
            Variant::Thumb,
            expires,
            "not base64!",
            0
        ));
        assert!(!verify(SECRET, ID, Variant::Thumb, expires, "", 0));
    }
}
