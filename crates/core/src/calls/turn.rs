//! TURN credentials for calls, in the REST form TURN servers check
//! against a shared secret (coturn's `use-auth-secret` with
//! `static-auth-secret`): `username` is `<expiry>:<user_id>` (the expiry
//! in Unix seconds), `password` the base64 HMAC-SHA1 of the username
//! keyed with the secret. The TURN server needs no user database and no
//! call to natter: it recomputes the password and refuses an expired
//! username.

use crate::{Caller, Core};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use natter_config::CallSettings;
use natter_proto::calls::TurnCredentials;
use sha1::Sha1;

/// The configured TURN servers and their secret; off without both.
pub struct Turn {
    uris: Vec<String>,
    secret: Vec<u8>,
    ttl_secs: u64,
}

impl Turn {
    pub fn new(settings: &CallSettings) -> Turn {
        Turn {
            uris: settings.turn_uris.clone(),
            secret: settings.turn_secret.0.as_bytes().to_vec(),
            ttl_secs: settings.turn_ttl_secs.max(1),
        }
    }

    fn enabled(&self) -> bool {
        !self.uris.is_empty() && !self.secret.is_empty()
    }

    /// Credentials for `user_id`, valid from `now_secs` for the TTL; with
    /// TURN off, an empty list and none.
    pub fn credentials(&self, user_id: &str, now_secs: u64) -> TurnCredentials {
        if !self.enabled() {
            return TurnCredentials {
                username: None,
                password: None,
                ttl: 0,
                uris: Vec::new(),
            };
        }
        let username = format!("{}:{user_id}", now_secs + self.ttl_secs);
        let mut mac =
            Hmac::<Sha1>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(username.as_bytes());
        let password = STANDARD.encode(mac.finalize().into_bytes());
        TurnCredentials {
            username: Some(username),
            password: Some(password),
            ttl: self.ttl_secs,
            uris: self.uris.clone(),
        }
    }
}

impl Core {
    /// `GET /api/v1/calls/turn` for the caller.
    pub fn turn_credentials(&self, caller: &Caller) -> TurnCredentials {
        let now_secs = u64::try_from(crate::now_ms() / 1000).unwrap_or_default();
        self.turn.credentials(&caller.user_id, now_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_config::Secret;

    #[test]
    fn credentials_follow_the_turn_rest_form() {
        let turn = Turn::new(&CallSettings {
            turn_uris: vec!["turn:turn.example:3478".into()],
            turn_secret: Secret("north".into()),
            turn_ttl_secs: 600,
        });
        let credentials = turn.credentials("u1", 1_000);
        assert_eq!(credentials.username.as_deref(), Some("1600:u1"));
        // HMAC-SHA1("north", "1600:u1"), computed independently
        // (`printf 1600:u1 | openssl dgst -sha1 -hmac north -binary | base64`).
        assert_eq!(credentials.password.as_deref(), Some(EXPECTED));
        assert_eq!(credentials.ttl, 600);
        let off = Turn::new(&CallSettings::default()).credentials("u1", 1_000);
        assert!(off.uris.is_empty() && off.username.is_none());
    }

    const EXPECTED: &str = "yX/BlutjArjb16buE6eHUIFQF2I=";
}
