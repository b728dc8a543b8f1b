//! The rules the local push service holds every push to, as a real push
//! service does: RFC 8030 headers (`TTL`, `Urgency`, `Topic`), the body's
//! size and aes128gcm encryption (RFC 8291), and the VAPID signature
//! (RFC 8292). Pure functions of the request; [`super::PushService`]
//! records what they refuse.

use super::Received;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand_core::{OsRng, RngCore};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The largest body a push service must accept (RFC 8030 section 7.2).
const MAX_BODY: usize = 4096;
/// RFC 8292 section 2: `exp` at most 24 hours ahead.
const MAX_TOKEN_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// What the user agent keeps of a subscription: its ECDH key pair and
/// auth secret (RFC 8291), to decrypt what is pushed to it.
#[derive(Clone)]
pub(super) struct UserAgentKeys {
    pub secret: p256::SecretKey,
    pub auth: [u8; 16],
}

impl UserAgentKeys {
    pub fn generate() -> UserAgentKeys {
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        UserAgentKeys {
            secret: p256::SecretKey::random(&mut OsRng),
            auth,
        }
    }
}

/// A broken rule: the answer and why.
pub(super) struct Violation {
    pub status: StatusCode,
    pub why: String,
}

fn violation(status: StatusCode, why: impl Into<String>) -> Violation {
    Violation {
        status,
        why: why.into(),
    }
}

/// Every rule a push service holds a push to; the push as received if it
/// keeps them all.
pub(super) fn check(
    origin: &str,
    expected_key: Option<&str>,
    method: &Method,
    headers: &HeaderMap,
    body: Result<Bytes, axum::Error>,
    keys: &UserAgentKeys,
) -> Result<Received, Violation> {
    if method != Method::POST {
        return Err(violation(
            StatusCode::METHOD_NOT_ALLOWED,
            "pushes are POSTed",
        ));
    }
    let body = body.map_err(|_| violation(StatusCode::PAYLOAD_TOO_LARGE, "body over 1 MiB"))?;
    if body.len() > MAX_BODY {
        return Err(violation(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body of {} bytes, more than {MAX_BODY}", body.len()),
        ));
    }
    let text = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("<not text>"))
    };
    let ttl = text("ttl")
        .ok_or_else(|| violation(StatusCode::BAD_REQUEST, "no TTL header"))?
        .parse::<u64>()
        .map_err(|_| violation(StatusCode::BAD_REQUEST, "TTL is not a non-negative integer"))?;
    if text("content-encoding") != Some("aes128gcm") {
        return Err(violation(
            StatusCode::BAD_REQUEST,
            format!(
                "Content-Encoding {:?}, not aes128gcm",
                text("content-encoding")
            ),
        ));
    }
    let vapid_subject = check_vapid(text("authorization"), origin, expected_key)?;
    let urgency = text("urgency").map(str::to_owned);
    if let Some(urgency) = &urgency
        && !["very-low", "low", "normal", "high"].contains(&urgency.as_str())
    {
        return Err(violation(
            StatusCode::BAD_REQUEST,
            format!("Urgency {urgency:?}"),
        ));
    }
    let topic = text("topic").map(str::to_owned);
    if let Some(topic) = &topic
        && (topic.is_empty()
            || topic.len() > 32
            || !topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(violation(
            StatusCode::BAD_REQUEST,
            format!("Topic {topic:?} is not 1 to 32 base64url characters"),
        ));
    }
    let payload = web_push_native::decrypt(
        body.to_vec(),
        &keys.secret,
        &web_push_native::Auth::from(keys.auth),
    )
    .map_err(|error| {
        violation(
            StatusCode::BAD_REQUEST,
            format!("the body does not decrypt (aes128gcm, RFC 8291): {error}"),
        )
    })?;
    Ok(Received {
        json: serde_json::from_slice(&payload).ok(),
        payload,
        ttl,
        urgency,
        topic,
        vapid_subject,
        received_at: Instant::now(),
    })
}

/// RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`, the JWT
/// ES256-signed by `k` for this origin, expiring within 24 hours, with a
/// contact. Returns the contact (`sub`).
fn check_vapid(
    authorization: Option<&str>,
    origin: &str,
    expected_key: Option<&str>,
) -> Result<String, Violation> {
    let refuse = |why: String| violation(StatusCode::UNAUTHORIZED, why);
    let authorization = authorization.ok_or_else(|| refuse("no Authorization header".into()))?;
    let params = authorization.strip_prefix("vapid ").ok_or_else(|| {
        refuse(format!(
            "Authorization {authorization:?} is not `vapid t=.., k=..`"
        ))
    })?;
    let mut token = None;
    let mut key = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => return Err(refuse(format!("Authorization parameter {param:?}"))),
        }
    }
    let (Some(token), Some(key)) = (token, key) else {
        return Err(refuse("Authorization lacks t= or k=".into()));
    };
    if let Some(expected) = expected_key
        && key != expected
    {
        return Err(refuse(format!(
            "signed by {key}, not by the expected {expected}"
        )));
    }
    let point = Base64UrlUnpadded::decode_vec(key)
        .ok()
        .filter(|point| point.len() == 65 && point[0] == 0x04)
        .ok_or_else(|| {
            refuse(format!(
                "k={key} is not an uncompressed P-256 key, base64url"
            ))
        })?;
    let decoding_key = DecodingKey::from_ec_components(
        &Base64UrlUnpadded::encode_string(&point[1..33]),
        &Base64UrlUnpadded::encode_string(&point[33..]),
    )
    .map_err(|error| refuse(format!("k: {error}")))?;
    let jose = jsonwebtoken::decode_header(token)
        .map_err(|error| refuse(format!("JWT header: {error}")))?;
    if jose.typ.as_deref() != Some("JWT") || jose.alg != Algorithm::ES256 {
        return Err(refuse(format!(
            "JWT header typ {:?} alg {:?}, not JWT/ES256",
            jose.typ, jose.alg
        )));
    }
    // The signature only: each claim is checked below, with its own reason.
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &decoding_key, &validation)
        .map_err(|error| refuse(format!("JWT not signed by k: {error}")))?
        .claims;
    if claims["aud"] != origin {
        return Err(refuse(format!("aud {}, not {origin}", claims["aud"])));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    match claims["exp"].as_u64() {
        Some(exp) if exp <= now => return Err(refuse(format!("exp {exp} has passed"))),
        Some(exp) if exp > now + MAX_TOKEN_LIFETIME_SECS => {
            return Err(refuse(format!("exp {exp} is more than 24 h ahead")));
        }
        Some(_) => {}
        None => return Err(refuse(format!("exp {} is not a time", claims["exp"]))),
    }
    match claims["sub"].as_str() {
        Some(sub) if sub.starts_with("mailto:") || sub.starts_with("https:") => Ok(sub.to_owned()),
        _ => Err(refuse(format!(
            "sub {} is not a mailto: or https: URI",
            claims["sub"]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};
    use serde_json::json;

    const ORIGIN: &str = "http://127.0.0.1:4000";
    const JOSE: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    }

    fn b64(bytes: &[u8]) -> String {
        Base64UrlUnpadded::encode_string(bytes)
    }

    fn public_key(signer: &SigningKey) -> String {
        b64(signer.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// `vapid t=<JWT>, k=<key>` with this header and these claims, signed
    /// by `signer`.
    fn authorization(signer: &SigningKey, jose: &str, claims: serde_json::Value) -> String {
        let signed = format!(
            "{}.{}",
            b64(jose.as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: Signature = signer.sign(signed.as_bytes());
        let token = format!("{signed}.{}", b64(&signature.to_bytes()));
        format!("vapid t={token}, k={}", public_key(signer))
    }

    fn good_claims() -> serde_json::Value {
        json!({"aud": ORIGIN, "exp": now() + 12 * 3600, "sub": "mailto:ops@example.org"})
    }

    /// A push every rule lets through, to break one rule at a time.
    struct Push {
        keys: UserAgentKeys,
        signer: SigningKey,
        method: Method,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Push {
        fn new(plaintext: &[u8]) -> Push {
            let keys = UserAgentKeys::generate();
            let signer = SigningKey::random(&mut OsRng);
            let body = web_push_native::encrypt(
                plaintext.to_vec(),
                &keys.secret.public_key(),
                &web_push_native::Auth::from(keys.auth),
            )
            .expect("encrypted");
            let mut push = Push {
                keys,
                signer,
                method: Method::POST,
                headers: HeaderMap::new(),
                body,
            };
            push.set("ttl", "60");
            push.set("content-encoding", "aes128gcm");
            push.set("urgency", "low");
            push.set("topic", "chat1");
            push.sign(JOSE, good_claims());
            push
        }

        fn set(&mut self, name: &'static str, value: &str) {
            let value = HeaderValue::from_str(value).expect("a header value");
            self.headers.insert(name, value);
        }

        fn sign(&mut self, jose: &str, claims: serde_json::Value) {
            let value = authorization(&self.signer, jose, claims);
            self.set("authorization", &value);
        }

        fn check(&self, expected_key: Option<&str>) -> Result<Received, Violation> {
            let body = Ok(Bytes::from(self.body.clone()));
            check(
                ORIGIN,
                expected_key,
                &self.method,
                &self.headers,
                body,
                &self.keys,
            )
        }

        /// The refusal: its status and why.
        fn refused(&self) -> (StatusCode, String) {
            match self.check(None) {
                Ok(_) => panic!("accepted"),
                Err(violation) => (violation.status, violation.why),
            }
        }
    }

    #[test]
    fn a_well_formed_push_is_received_decrypted() {
        let push = Push::new(br#"{"type":"read"}"#);
        let key = public_key(&push.signer);
        let received = push.check(Some(&key)).ok().expect("accepted");
        assert_eq!(received.payload, br#"{"type":"read"}"#);
        assert_eq!(received.json, Some(json!({"type": "read"})));
        assert_eq!(received.ttl, 60);
        assert_eq!(received.urgency.as_deref(), Some("low"));
        assert_eq!(received.topic.as_deref(), Some("chat1"));
        assert_eq!(received.vapid_subject, "mailto:ops@example.org");
    }

    #[test]
    fn urgency_and_topic_are_optional() {
        let mut push = Push::new(b"x");
        push.headers.remove("urgency");
        push.headers.remove("topic");
        let received = push.check(None).ok().expect("accepted");
        assert_eq!((received.urgency, received.topic), (None, None));
    }

    #[test]
    fn only_posts_are_pushes() {
        let mut push = Push::new(b"x");
        push.method = Method::PUT;
        assert_eq!(push.refused().0, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn a_body_over_4096_bytes_is_too_large() {
        let mut push = Push::new(b"x");
        push.body = vec![0; 4097];
        assert_eq!(push.refused().0, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn a_body_that_does_not_decrypt_is_refused() {
        let mut push = Push::new(b"x");
        push.keys = UserAgentKeys::generate();
        let (status, why) = push.refused();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(why.contains("decrypt"), "{why}");
    }

    #[test]
    fn broken_headers_are_bad_requests() {
        let cases: [(&str, Option<&str>, &str); 8] = [
            ("ttl", None, "no TTL"),
            ("ttl", Some("-1"), "TTL"),
            ("ttl", Some("1.5"), "TTL"),
            ("content-encoding", None, "Content-Encoding"),
            ("content-encoding", Some("aesgcm"), "Content-Encoding"),
            ("urgency", Some("urgent"), "Urgency"),
            ("topic", Some("a b"), "Topic"),
            ("topic", Some(&"a".repeat(33)), "Topic"),
        ];
        for (name, value, reason) in cases {
            let mut push = Push::new(b"x");
            match value {
                Some(value) => push.set(name, value),
                None => {
                    push.headers.remove(name);
                }
            }
            let (status, why) = push.refused();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {value:?}");
            assert!(why.contains(reason), "{name}: {value:?}: {why}");
        }
    }

    #[test]
    fn a_missing_or_foreign_authorization_is_unauthorized() {
        let mut push = Push::new(b"x");
        push.headers.remove("authorization");
        assert_eq!(push.refused().0, StatusCode::UNAUTHORIZED);
        push.set("authorization", "WebPush abc");
        assert_eq!(push.refused().0, StatusCode::UNAUTHORIZED);
        push.set("authorization", "vapid t=abc");
        assert_eq!(push.refused().0, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn claims_outside_rfc_8292_are_unauthorized() {
        let in_a_day_and_an_hour = now() + 25 * 3600;
        let cases = [
            (
                json!({"aud": "http://127.0.0.1", "exp": now() + 60, "sub": "mailto:a@b.c"}),
                "aud",
            ),
            (json!({"exp": now() + 60, "sub": "mailto:a@b.c"}), "aud"),
            (
                json!({"aud": ORIGIN, "exp": now() - 1, "sub": "mailto:a@b.c"}),
                "passed",
            ),
            (
                json!({"aud": ORIGIN, "exp": in_a_day_and_an_hour, "sub": "mailto:a@b.c"}),
                "24 h",
            ),
            (json!({"aud": ORIGIN, "sub": "mailto:a@b.c"}), "exp"),
            (
                json!({"aud": ORIGIN, "exp": now() + 60, "sub": "a@b.c"}),
                "sub",
            ),
            (json!({"aud": ORIGIN, "exp": now() + 60}), "sub"),
        ];
        for (claims, reason) in cases {
            let mut push = Push::new(b"x");
            push.sign(JOSE, claims.clone());
            let (status, why) = push.refused();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{claims}");
            assert!(why.contains(reason), "{claims}: {why}");
        }
    }

    #[test]
    fn a_header_other_than_jwt_es256_is_unauthorized() {
        for jose in [r#"{"alg":"ES256"}"#, r#"{"typ":"JWT","alg":"ES384"}"#] {
            let mut push = Push::new(b"x");
            push.sign(jose, good_claims());
            assert_eq!(push.refused().0, StatusCode::UNAUTHORIZED, "{jose}");
        }
    }

    #[test]
    fn a_token_not_signed_by_k_is_unauthorized() {
        let mut push = Push::new(b"x");
        let other = SigningKey::random(&mut OsRng);
        let forged = authorization(&other, JOSE, good_claims());
        let (token, _) = forged.split_once(", k=").expect("t and k");
        let value = format!("{token}, k={}", public_key(&push.signer));
        push.set("authorization", &value);
        let (status, why) = push.refused();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(why.contains("not signed by k"), "{why}");
    }

    #[test]
    fn a_key_other_than_the_expected_one_is_unauthorized() {
        let push = Push::new(b"x");
        let other = public_key(&SigningKey::random(&mut OsRng));
        match push.check(Some(&other)) {
            Ok(_) => panic!("accepted"),
            Err(violation) => {
                assert_eq!(violation.status, StatusCode::UNAUTHORIZED);
                assert!(violation.why.contains("expected"), "{}", violation.why);
            }
        }
    }
}
