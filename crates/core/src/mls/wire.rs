//! MLS objects as natter's API carries them: standard base64 (with
//! padding) of the TLS encoding of an `MLSMessage` (RFC 9420 §6), the one
//! ciphersuite natter accepts, and the credential identity that ties an
//! MLS client to a natter device (`"<user_id>:<device_id>"`).
//!
//! Shared by the KeyPackage directory and the group checks (Commits,
//! Welcomes, GroupInfo): every field they take goes through
//! [`decode_message`], so a bad one is a 400 naming the field. Only
//! public parts are ever parsed; nothing here holds or derives a key.

use crate::{CoreError, CoreResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{
    BasicCredential, Ciphersuite, Credential, CredentialType, KeyPackage, KeyPackageIn,
    KeyPackageRef, KeyPackageVerifyError, MlsMessageIn, ProtocolVersion,
};
use openmls::treesync::errors::LifetimeError;
use openmls_rust_crypto::RustCrypto;
use std::fmt::Display;
use std::sync::LazyLock;

/// The one ciphersuite natter speaks:
/// MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (0x0001), the one every
/// MLS implementation must support. Anything else is refused, so every
/// member of a group can read every KeyPackage it is handed.
pub(crate) const CIPHERSUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// The crypto the server verifies signatures and hashes references with.
/// Its random generator is never used for anything secret (the server
/// makes no keys), so one shared instance serves every request.
pub(crate) fn crypto() -> &'static RustCrypto {
    static CRYPTO: LazyLock<RustCrypto> = LazyLock::new(RustCrypto::default);
    &CRYPTO
}

/// A 400 whose detail names the field first (`key_packages[3]: ...`), as
/// every MLS check reports.
pub(crate) fn invalid(field: &str, why: impl Display) -> CoreError {
    CoreError::invalid(format!("{field}: {why}"))
}

/// The bytes of a base64 field, at most `max_bytes` of them once decoded.
/// A 400 naming `field` if it is not standard base64 or too large (the
/// length is checked before decoding, so a huge field costs nothing).
pub(crate) fn decode_base64(field: &str, encoded: &str, max_bytes: usize) -> CoreResult<Vec<u8>> {
    // Base64 grows 3 bytes into 4 characters (padding included).
    if encoded.len() > max_bytes.div_ceil(3) * 4 {
        return Err(invalid(field, format!("larger than {max_bytes} bytes")));
    }
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| invalid(field, "not standard base64 (with padding)"))?;
    if bytes.len() > max_bytes {
        return Err(invalid(field, format!("larger than {max_bytes} bytes")));
    }
    if bytes.is_empty() {
        return Err(invalid(field, "empty"));
    }
    Ok(bytes)
}

/// The `MLSMessage` in `bytes` (which must hold exactly one, nothing
/// after it). A 400 naming `field` otherwise.
pub(crate) fn parse_message(field: &str, bytes: &[u8]) -> CoreResult<MlsMessageIn> {
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| invalid(field, "not a TLS-encoded MLSMessage"))
}

/// [`decode_base64`] then [`parse_message`]: the `MLSMessage` of a base64
/// field, with its bytes (kept as given, so that what is stored and
/// handed out is exactly what the client signed).
pub(crate) fn decode_message(
    field: &str,
    encoded: &str,
    max_bytes: usize,
) -> CoreResult<(MlsMessageIn, Vec<u8>)> {
    let bytes = decode_base64(field, encoded, max_bytes)?;
    let message = parse_message(field, &bytes)?;
    Ok((message, bytes))
}

/// Standard base64 (with padding) of `bytes`, as the API hands MLS
/// objects out.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A KeyPackage whose signatures verify (its own and its leaf node's),
/// within its lifetime, of natter's ciphersuite, with its reference
/// (the hash a Welcome names it by). A 400 naming `field` and the first
/// check that failed otherwise, in the same words wherever a KeyPackage
/// comes from (the directory, an Add in a Commit).
pub(crate) fn verified_key_package(
    field: &str,
    key_package: KeyPackageIn,
) -> CoreResult<(KeyPackage, KeyPackageRef)> {
    let key_package = key_package
        .validate(crypto(), ProtocolVersion::Mls10)
        .map_err(|error| invalid(field, verify_failure(&error)))?;
    if key_package.ciphersuite() != CIPHERSUITE {
        return Err(invalid(
            field,
            wrong_suite(key_package.ciphersuite().into()),
        ));
    }
    let key_ref = key_package
        .hash_ref(crypto())
        .map_err(|_| invalid(field, "its reference cannot be computed"))?;
    Ok((key_package, key_ref))
}

/// Why a ciphersuite other than natter's is refused.
pub(crate) fn wrong_suite(suite: u16) -> String {
    format!(
        "ciphersuite 0x{suite:04x} is not accepted: natter speaks only \
         MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (0x0001)"
    )
}

/// A failed verification in words a client developer can act on.
fn verify_failure(error: &KeyPackageVerifyError) -> String {
    match error {
        KeyPackageVerifyError::InvalidSignature => "the signature does not verify".into(),
        KeyPackageVerifyError::InvalidLeafNodeSignature => {
            "the leaf node's signature does not verify".into()
        }
        KeyPackageVerifyError::LifetimeError(LifetimeError::Expired { not_after, .. }) => {
            format!("its lifetime has ended (not_after {not_after})")
        }
        KeyPackageVerifyError::LifetimeError(LifetimeError::NotValidYet { not_before, .. }) => {
            format!("its lifetime has not begun (not_before {not_before})")
        }
        KeyPackageVerifyError::MissingLifetime => "its leaf node has no lifetime".into(),
        KeyPackageVerifyError::InvalidProtocolVersion => "it is not MLS 1.0".into(),
        KeyPackageVerifyError::InitKeyEqualsEncryptionKey => {
            "its init key equals its encryption key".into()
        }
        KeyPackageVerifyError::UnsupportedExtension => {
            "it carries an extension its leaf node's capabilities do not list".into()
        }
        other => format!("it does not verify: {other}"),
    }
}

/// The `(user_id, device_id)` a credential names, if it is a
/// `BasicCredential` whose identity is `"<user_id>:<device_id>"` in UTF-8
/// (both parts non-empty; user ids hold no `:`). `None` for any other
/// credential: such a client is no natter device. The caller still checks
/// that the pair is a live device of a user it expects.
pub(crate) fn credential_device(credential: &Credential) -> Option<(String, String)> {
    if credential.credential_type() != CredentialType::Basic {
        return None;
    }
    let basic = BasicCredential::try_from(credential.clone()).ok()?;
    let identity = std::str::from_utf8(basic.identity()).ok()?;
    let (user_id, device_id) = identity.split_once(':')?;
    if user_id.is_empty() || device_id.is_empty() {
        return None;
    }
    Some((user_id.to_owned(), device_id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fields_are_bounded_and_strict() {
        assert_eq!(decode_base64("f", "AAEC", 3).unwrap(), vec![0, 1, 2]);
        let too_big = decode_base64("f", "AAECAw==", 3).unwrap_err();
        assert!(
            too_big.to_string().starts_with("f: larger than 3"),
            "{too_big}"
        );
        let bad = decode_base64("key_packages[2]", "!!!!", 16).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("key_packages[2]: not standard base64")
        );
        assert!(
            decode_base64("f", "AAE", 16).is_err(),
            "padding is required"
        );
        assert!(decode_base64("f", "", 16).is_err());
    }

    #[test]
    fn garbage_is_not_an_mls_message() {
        let error = parse_message("welcome", b"\x00\x01garbage").unwrap_err();
        assert_eq!(error.to_string(), "welcome: not a TLS-encoded MLSMessage");
    }

    #[test]
    fn identities_name_a_user_and_a_device() {
        let credential: Credential = BasicCredential::new(b"u1:s1".to_vec()).into();
        assert_eq!(
            credential_device(&credential),
            Some(("u1".into(), "s1".into()))
        );
        for identity in [&b"u1"[..], b":s1", b"u1:", b"\xffu:s"] {
            let credential: Credential = BasicCredential::new(identity.to_vec()).into();
            assert_eq!(credential_device(&credential), None, "{identity:?}");
        }
        let x509 = Credential::new(CredentialType::X509, b"u1:s1".to_vec());
        assert_eq!(credential_device(&x509), None);
    }
}
