//! How MLS objects cross the API: standard base64 (with padding) of the
//! TLS encoding of an `MLSMessage` (RFC 9420 §6), and the credential
//! identity `"<user_id>:<device_id>"` of a natter device.
//!
//! Owns only encoding and decoding; no group state.

use super::MlsError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;

/// The one ciphersuite natter speaks (0x0001): X25519, AES-128-GCM,
/// SHA-256, Ed25519. The server refuses anything else.
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// Base64 of an outgoing MLS message (KeyPackage, Welcome, GroupInfo,
/// PublicMessage or PrivateMessage, all wrapped as `MLSMessage`).
pub fn encode(message: &MlsMessageOut) -> Result<String, MlsError> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|error| MlsError::Codec(format!("cannot encode an MLS message: {error}")))?;
    Ok(STANDARD.encode(bytes))
}

/// Parses base64 of an `MLSMessage`, refusing trailing bytes.
pub fn decode(b64: &str) -> Result<MlsMessageIn, MlsError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|error| MlsError::Codec(format!("not base64: {error}")))?;
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|error| MlsError::Codec(format!("not an MLSMessage: {error}")))
}

/// The credential identity of a natter device.
pub fn identity(user_id: &str, device_id: &str) -> String {
    format!("{user_id}:{device_id}")
}

/// The `(user_id, device_id)` an MLS credential names, if it is a basic
/// credential in natter's form.
pub fn parse_identity(credential: &Credential) -> Option<(String, String)> {
    let basic = BasicCredential::try_from(credential.clone()).ok()?;
    let text = std::str::from_utf8(basic.identity()).ok()?;
    let (user_id, device_id) = text.split_once(':')?;
    Some((user_id.to_owned(), device_id.to_owned()))
}

/// Standard base64 of raw bytes (for the state file).
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Inverse of [`b64`].
pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, MlsError> {
    STANDARD
        .decode(text)
        .map_err(|error| MlsError::State(format!("not base64: {error}")))
}
