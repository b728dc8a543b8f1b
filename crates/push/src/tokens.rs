//! VAPID headers reused per push service: signing one costs an ECDSA
//! signature, and a token is valid for 12 hours for every push to the same
//! origin, so a busy sender signs once per origin per few hours instead of
//! once per push (what push services expect: they may rate-limit senders
//! that present a new token every time).

use crate::vapid::{TOKEN_LIFETIME, Vapid};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// A kept header is replaced when less than this is left of its lifetime,
/// so no push leaves with a token about to expire.
const RENEW_BEFORE: Duration = Duration::from_secs(60 * 60);
/// Origins kept at most; a subscription list with more push services than
/// this (only possible on purpose) just signs more often.
const MAX_ORIGINS: usize = 1024;

/// The headers signed so far, by origin, with when each is renewed.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    headers: Mutex<HashMap<String, (String, SystemTime)>>,
}

impl TokenCache {
    /// `vapid`'s `Authorization` header for `origin` at `now`: the kept
    /// one while it has more than an hour left, else a new one.
    pub(crate) fn authorization(&self, vapid: &Vapid, origin: &str, now: SystemTime) -> String {
        let mut headers = self.headers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((header, renew_at)) = headers.get(origin)
            && now < *renew_at
        {
            return header.clone();
        }
        let header = vapid.authorization(origin, now);
        if headers.len() >= MAX_ORIGINS {
            headers.clear();
        }
        let renew_at = now + TOKEN_LIFETIME.saturating_sub(RENEW_BEFORE);
        headers.insert(origin.to_owned(), (header.clone(), renew_at));
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vapid() -> Vapid {
        Vapid::from_private_key(&Vapid::generate_private_key(), "mailto:ops@example.com").unwrap()
    }

    #[test]
    fn a_header_is_reused_per_origin_until_an_hour_before_it_expires() {
        let (vapid, cache, now) = (vapid(), TokenCache::default(), SystemTime::now());
        let first = cache.authorization(&vapid, "https://push.example", now);
        let later = now + Duration::from_secs(10 * 60 * 60);
        assert_eq!(
            cache.authorization(&vapid, "https://push.example", later),
            first
        );
        assert_ne!(
            cache.authorization(&vapid, "https://other.example", now),
            first,
            "another origin, another audience"
        );
        let renewal = now + TOKEN_LIFETIME - RENEW_BEFORE;
        assert_ne!(
            cache.authorization(&vapid, "https://push.example", renewal),
            first
        );
    }
}
