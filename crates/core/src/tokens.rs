//! Credentials: the server secret, argon2id password hashes, JWT access
//! tokens and opaque refresh tokens. Pure logic plus the shared secret; the
//! account use cases that call this live in `core::accounts`.

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

use natter_config::AuthSettings;
use natter_store::Secrets;

/// Bytes of a generated server secret.
const SECRET_LEN: usize = 64;
/// The name the server secret is kept under in the store.
const SERVER_SECRET: &str = "server";

/// The server secret (HMAC key of access tokens and file links): the
/// configured `auth.secret`, else the one kept in the store, which the
/// first node to start generates and every later node (or restart) reads,
/// so that a token or link made by one node holds on all of them. A
/// `<data_dir>/secret.key` left by an older version is what gets kept, so
/// that tokens and links issued before the upgrade stay valid.
pub async fn server_secret(
    settings: &AuthSettings,
    data_dir: &Path,
    store: &dyn Secrets,
) -> anyhow::Result<Vec<u8>> {
    if !settings.secret.0.is_empty() {
        return Ok(settings.secret.0.as_bytes().to_vec());
    }
    let path = data_dir.join("secret.key");
    let candidate = match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => bytes,
        Ok(_) => anyhow::bail!("{} is too short to be a secret", path.display()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            random_bytes::<SECRET_LEN>()?.to_vec()
        }
        Err(error) => return Err(error).context(format!("reading {}", path.display())),
    };
    let secret = store
        .shared_secret(SERVER_SECRET, &candidate)
        .await
        .context("reading the server secret from the database")?;
    if secret.len() < 32 {
        anyhow::bail!("the server secret kept in the database is too short to be a secret");
    }
    if secret != candidate && path.exists() {
        tracing::warn!(
            file = %path.display(),
            "the database already keeps another server secret; {} is not used (tokens and links it signed are no longer valid)",
            path.display()
        );
    }
    Ok(secret)
}

/// Cryptographically random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("getrandom: {error}"))?;
    Ok(bytes)
}

/// argon2id with the configured cost. Hashing is CPU-heavy: call it from
/// `spawn_blocking`.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
}

impl Passwords {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            1,
            None,
        )
        .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
        Ok(Passwords {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        })
    }

    /// A PHC string (`$argon2id$...`) with a fresh salt.
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        let hash: PasswordHash = self
            .argon2
            .hash_password(password.as_bytes())
            .map_err(|error| anyhow::anyhow!("argon2: {error}"))?;
        Ok(hash.to_string())
    }

    /// True if `password` matches the PHC string (with its own parameters).
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(hash) => self
                .argon2
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// The claims of an access token. `sid` ties it to a session so that
/// logout and reuse detection cut it off before `exp`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and checks access tokens (HS256 only: the algorithm is pinned,
/// `alg: none` and every other algorithm are refused).
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl_secs: u64,
}

impl AccessTokens {
    pub fn new(secret: &[u8], settings: &AuthSettings) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // A token not valid yet is refused too (issued tokens carry no
        // `nbf`; one that does must have reached it).
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.issuer]);
        validation.leeway = 5;
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            ttl_secs: settings.access_ttl_secs,
        }
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(&self, user_id: &str, session_id: &str, now_secs: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            iat: now_secs,
            exp: now_secs + self.ttl_secs as i64,
        };
        Ok(encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid, unexpired token of this server; `None` for
    /// anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// A fresh opaque refresh token (256 random bits, base64url).
pub fn new_refresh_token() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// What the store keeps of a refresh token: its SHA-256, hex. The token
/// has 256 bits of entropy, so a fast hash is enough (no brute force).
pub fn hash_refresh_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..AuthSettings::default()
        }
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let passwords = Passwords::new(&settings()).unwrap();
        let hash = passwords.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse", &hash));
        assert!(!passwords.verify("wrong horse", &hash));
        assert!(!passwords.verify("correct horse", "not a hash"));
    }

    #[test]
    fn access_tokens_round_trip_and_reject_tampering() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", &settings());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let token = tokens.issue("u1", "s1", now).unwrap();
        let claims = tokens.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("u1", "s1"));
        let other = AccessTokens::new(b"another secret of enough length!", &settings());
        assert!(other.verify(&token).is_none());
        let expired = tokens.issue("u1", "s1", now - 3600).unwrap();
        assert!(tokens.verify(&expired).is_none());
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", &settings());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            br#"{"sub":"u1","sid":"s1","iss":"natter","aud":"natter","iat":0,"exp":99999999999}"#,
        );
        assert!(tokens.verify(&format!("{header}.{body}.")).is_none());
    }

    #[test]
    fn refresh_tokens_are_unique_and_hashed_stably() {
        let first = new_refresh_token().unwrap();
        assert_ne!(first, new_refresh_token().unwrap());
        assert_eq!(hash_refresh_token(&first), hash_refresh_token(&first));
        assert_eq!(hash_refresh_token(&first).len(), 64);
    }
}
