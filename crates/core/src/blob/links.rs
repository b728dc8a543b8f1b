//! Signed, expiring links to stored files, so `<img src>` works without an
//! `Authorization` header. A link is
//! `/api/v1/files/{file_id}?variant=...&expires=...&user=...&sig=...`
//! where `user` is the user it was issued to and `sig` is HMAC-SHA256 over
//! a versioned, newline-separated message of file id, variant, expiry and
//! user, encoded as base64url without padding.
//!
//! Link preview images have links of their own
//! ([`sign_preview_image`]), signed with another context.
//!
//! This module only signs and checks; whoever serves the link still checks
//! that the file exists and that its user may read it now (so a removed
//! member's links stop working at once).

use super::Variant;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation: a signature made for anything else with the same
/// secret (tokens, future link kinds) never verifies here.
const CONTEXT: &[u8] = b"natter-file-link-v2";

/// What a link names: the file's variant, until when, for whom.
#[derive(Clone, Copy, Debug)]
pub struct LinkTo<'a> {
    pub file_id: &'a str,
    pub variant: Variant,
    /// Unix time (seconds) the link expires, exclusive.
    pub expires_at: u64,
    /// The user the link was issued to.
    pub user_id: &'a str,
}

/// Domain separation for link preview images ([`sign_preview_image`]).
const PREVIEW_CONTEXT: &[u8] = b"natter-preview-image-v1";

fn mac(secret: &[u8], link: &LinkTo<'_>) -> HmacSha256 {
    mac_of(
        secret,
        &[
            CONTEXT,
            link.file_id.as_bytes(),
            link.variant.as_str().as_bytes(),
            link.expires_at.to_string().as_bytes(),
            link.user_id.as_bytes(),
        ],
    )
}

/// The HMAC of newline-terminated `parts`. Ids are server-generated UUIDs
/// and the other fields numbers or fixed words: none contains a newline,
/// so the message parses back uniquely.
fn mac_of(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
        mac.update(b"\n");
    }
    mac
}

fn preview_mac(secret: &[u8], image_id: &str, expires_at: u64) -> HmacSha256 {
    mac_of(
        secret,
        &[
            PREVIEW_CONTEXT,
            image_id.as_bytes(),
            expires_at.to_string().as_bytes(),
        ],
    )
}

/// The link (path and query) to a link preview's image:
/// `/api/v1/link-preview/images/{image_id}?expires=...&sig=...`. Not tied
/// to a user: the image comes from a public page anyone could fetch; the
/// signature only keeps the server from serving ids nobody was given.
pub fn sign_preview_image(secret: &[u8], image_id: &str, expires_at: u64) -> String {
    let sig = URL_SAFE_NO_PAD.encode(
        preview_mac(secret, image_id, expires_at)
            .finalize()
            .into_bytes(),
    );
    format!("/api/v1/link-preview/images/{image_id}?expires={expires_at}&sig={sig}")
}

/// Whether `sig` signs the preview image link and `now` is before its
/// expiry (constant-time comparison, as [`verify`]).
pub fn verify_preview_image(
    secret: &[u8],
    image_id: &str,
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
    preview_mac(secret, image_id, expires_at)
        .verify_slice(&sig)
        .is_ok()
}

/// The link (path and query). Its ids are server-generated UUIDs, so they
/// need no escaping.
pub fn sign(secret: &[u8], link: &LinkTo<'_>) -> String {
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, link).finalize().into_bytes());
    let LinkTo {
        file_id,
        variant,
        expires_at,
        user_id,
    } = link;
    format!(
        "/api/v1/files/{file_id}?variant={variant}&expires={expires_at}&user={user_id}&sig={sig}"
    )
}

/// Whether `sig` is a valid signature of `link` and `now` (Unix seconds)
/// is before its expiry. Compares in constant time. Malformed signatures
/// are simply invalid.
pub fn verify(secret: &[u8], link: &LinkTo<'_>, sig: &str, now: u64) -> bool {
    if now >= link.expires_at {
        return false;
    }
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    mac(secret, link).verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test secret, long enough to be realistic";
    const ID: &str = "0190a5e0-0000-7000-8000-000000000001";
    const USER: &str = "0190a5e0-0000-7000-8000-00000000000a";

    fn link(variant: Variant, expires_at: u64) -> LinkTo<'static> {
        LinkTo {
            file_id: ID,
            variant,
            expires_at,
            user_id: USER,
        }
    }

    /// The `sig` of a signed link.
    fn sig_of(signed: &str) -> String {
        let query = signed.split_once('?').unwrap().1;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("sig="))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_signed_link_names_its_user_and_verifies_before_it_expires() {
        let genuine = link(Variant::Thumb, 1_000);
        let signed = sign(SECRET, &genuine);
        assert!(signed.starts_with(&format!(
            "/api/v1/files/{ID}?variant=thumb&expires=1000&user={USER}&sig="
        )));
        let sig = sig_of(&signed);
        assert!(!sig.contains('=') && !sig.contains('+') && !sig.contains('/'));
        assert!(verify(SECRET, &genuine, &sig, 999));
    }

    #[test]
    fn a_preview_image_link_verifies_only_for_its_image_and_expiry() {
        let signed = sign_preview_image(SECRET, ID, 1_000);
        assert!(signed.starts_with(&format!(
            "/api/v1/link-preview/images/{ID}?expires=1000&sig="
        )));
        let sig = sig_of(&signed);
        assert!(verify_preview_image(SECRET, ID, 1_000, &sig, 999));
        assert!(!verify_preview_image(SECRET, ID, 1_000, &sig, 1_000));
        assert!(!verify_preview_image(SECRET, ID, 2_000, &sig, 0));
        assert!(!verify_preview_image(SECRET, USER, 1_000, &sig, 0));
        assert!(!verify_preview_image(b"other", ID, 1_000, &sig, 0));
        // A file link's signature is no preview link's, and back.
        let file_sig = sig_of(&sign(SECRET, &link(Variant::Thumb, 1_000)));
        assert!(!verify_preview_image(SECRET, ID, 1_000, &file_sig, 0));
    }

    #[test]
    fn an_expired_link_does_not_verify() {
        let genuine = link(Variant::Original, 1_000);
        let sig = sig_of(&sign(SECRET, &genuine));
        assert!(!verify(SECRET, &genuine, &sig, 1_000));
        assert!(!verify(SECRET, &genuine, &sig, 5_000));
    }

    #[test]
    fn a_tampered_link_does_not_verify() {
        let genuine = link(Variant::Thumb, 1_000);
        let sig = sig_of(&sign(SECRET, &genuine));
        let tampered = [
            LinkTo {
                file_id: "0190a5e0-0000-7000-8000-000000000002",
                ..genuine
            },
            LinkTo {
                variant: Variant::Original,
                ..genuine
            },
            LinkTo {
                expires_at: 1_000 + 3600,
                ..genuine
            },
            LinkTo {
                user_id: "0190a5e0-0000-7000-8000-00000000000b",
                ..genuine
            },
        ];
        for link in &tampered {
            assert!(!verify(SECRET, link, &sig, 0), "{link:?}");
        }
        assert!(!verify(b"another secret", &genuine, &sig, 0));
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [flipped.as_str(), &sig[..10], "not base64!", ""] {
            assert!(!verify(SECRET, &genuine, bad, 0), "{bad}");
        }
    }
}
