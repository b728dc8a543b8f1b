//! Token-bucket rate limits (governor): auth attempts per client IP and per
//! account, sends per user. Each limit allows a burst as large as its
//! per-minute rate and refills evenly. All limits can be switched off.

use crate::error::CoreError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use natter_config::RateLimitSettings;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// One keyed limit.
struct Limit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn per_minute(rate: u32) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        Limit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate)),
        }
    }

    fn check(&self, key: &K) -> Result<(), CoreError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            CoreError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }
}

/// Every rate limit of the server.
pub struct RateLimits {
    enabled: bool,
    auth_per_ip: Limit<IpAddr>,
    login_per_account: Limit<String>,
    sends_per_user: Limit<String>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        RateLimits {
            enabled: settings.enabled,
            auth_per_ip: Limit::per_minute(settings.auth_per_ip_per_minute),
            login_per_account: Limit::per_minute(settings.login_per_account_per_minute),
            sends_per_user: Limit::per_minute(settings.sends_per_user_per_minute),
        }
    }

    /// A login or register attempt from `ip`.
    pub fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), CoreError> {
        match ip {
            Some(ip) if self.enabled => self.auth_per_ip.check(&ip),
            _ => Ok(()),
        }
    }

    /// A login attempt on `username` (lower-cased), whatever the IP.
    pub fn login_attempt(&self, username: &str) -> Result<(), CoreError> {
        if !self.enabled {
            return Ok(());
        }
        self.login_per_account.check(&username.to_owned())
    }

    /// A message sent by `user_id`.
    pub fn send(&self, user_id: &str) -> Result<(), CoreError> {
        if !self.enabled {
            return Ok(());
        }
        self.sends_per_user.check(&user_id.to_owned())
    }

    /// Forgets buckets that are full again, so memory tracks active keys.
    pub fn forget_idle(&self) {
        self.auth_per_ip.limiter.retain_recent();
        self.login_per_account.limiter.retain_recent();
        self.sends_per_user.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(enabled: bool) -> RateLimits {
        RateLimits::new(&RateLimitSettings {
            enabled,
            auth_per_ip_per_minute: 2,
            login_per_account_per_minute: 2,
            sends_per_user_per_minute: 3,
        })
    }

    #[test]
    fn a_burst_beyond_the_rate_is_refused_with_a_retry_time() {
        let limits = limits(true);
        for _ in 0..3 {
            limits.send("u1").unwrap();
        }
        match limits.send("u1") {
            Err(CoreError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        limits
            .send("u2")
            .expect("other users have their own bucket");
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = limits(false);
        for _ in 0..100 {
            limits.send("u1").unwrap();
            limits.login_attempt("alice").unwrap();
        }
    }
}
