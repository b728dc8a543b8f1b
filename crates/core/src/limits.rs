//! Token-bucket rate limits (governor): auth attempts and token refreshes
//! per client IP, login attempts per account and IP, and per user: sends,
//! searches, reactions and chat creation. Each limit allows a burst as
//! large as its per-minute rate and refills evenly. All limits can be
//! switched off. The buckets live in this process: limits are per node.

use crate::error::CoreError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use natter_config::RateLimitSettings;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// One keyed limit (also used by the link previews, whose rate is a
/// setting of their own).
pub(crate) struct Limit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    /// `rate` per minute with a burst as large (at least 1).
    pub(crate) fn per_minute(rate: u32) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        Limit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate)),
        }
    }

    /// Takes one token of `key`'s bucket, or says how long to wait.
    pub(crate) fn check(&self, key: &K) -> Result<(), CoreError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            CoreError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }

    /// Forgets the buckets that are full again.
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

/// What a user does that has a limit of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserAction {
    Send,
    Search,
    React,
    CreateChat,
    /// Claiming a user's MLS KeyPackages.
    ClaimKeyPackages,
    /// Uploading MLS KeyPackages (checked before any is decoded).
    UploadKeyPackages,
}

/// Every rate limit of the server.
pub struct RateLimits {
    enabled: bool,
    auth_per_ip: Limit<IpAddr>,
    login_per_account: Limit<(String, Option<IpAddr>)>,
    refresh_per_ip: Limit<IpAddr>,
    sends_per_user: Limit<String>,
    searches_per_user: Limit<String>,
    reactions_per_user: Limit<String>,
    chats_per_user: Limit<String>,
    key_package_claims_per_user: Limit<String>,
    key_package_uploads_per_user: Limit<String>,
    /// Keyed by (claiming user, claimed user).
    key_package_claims_per_target: Limit<(String, String)>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        RateLimits {
            enabled: settings.enabled,
            auth_per_ip: Limit::per_minute(settings.auth_per_ip_per_minute),
            login_per_account: Limit::per_minute(settings.login_per_account_per_minute),
            refresh_per_ip: Limit::per_minute(settings.refresh_per_ip_per_minute),
            sends_per_user: Limit::per_minute(settings.sends_per_user_per_minute),
            searches_per_user: Limit::per_minute(settings.searches_per_user_per_minute),
            reactions_per_user: Limit::per_minute(settings.reactions_per_user_per_minute),
            chats_per_user: Limit::per_minute(settings.chats_per_user_per_minute),
            key_package_claims_per_user: Limit::per_minute(
                settings.key_package_claims_per_user_per_minute,
            ),
            key_package_uploads_per_user: Limit::per_minute(
                settings.key_package_uploads_per_user_per_minute,
            ),
            key_package_claims_per_target: Limit::per_minute(
                settings.key_package_claims_per_target_per_minute,
            ),
        }
    }

    /// A login or register attempt from `ip`.
    pub fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), CoreError> {
        match ip {
            Some(ip) if self.enabled => self.auth_per_ip.check(&ip),
            _ => Ok(()),
        }
    }

    /// A login attempt on `username` (lower-cased) from `ip`: wrong
    /// guesses from one address do not lock the account for the others.
    pub fn login_attempt(&self, username: &str, ip: Option<IpAddr>) -> Result<(), CoreError> {
        if !self.enabled {
            return Ok(());
        }
        self.login_per_account.check(&(username.to_owned(), ip))
    }

    /// A refresh or logout from `ip` (a flood of garbage refresh tokens
    /// must not slow everyone else down).
    pub fn refresh_attempt(&self, ip: Option<IpAddr>) -> Result<(), CoreError> {
        match ip {
            Some(ip) if self.enabled => self.refresh_per_ip.check(&ip),
            _ => Ok(()),
        }
    }

    /// One `action` of `user_id`.
    pub fn user_action(&self, user_id: &str, action: UserAction) -> Result<(), CoreError> {
        if !self.enabled {
            return Ok(());
        }
        let limit = match action {
            UserAction::Send => &self.sends_per_user,
            UserAction::Search => &self.searches_per_user,
            UserAction::React => &self.reactions_per_user,
            UserAction::CreateChat => &self.chats_per_user,
            UserAction::ClaimKeyPackages => &self.key_package_claims_per_user,
            UserAction::UploadKeyPackages => &self.key_package_uploads_per_user,
        };
        limit.check(&user_id.to_owned())
    }

    /// One claim of `target`'s KeyPackages by `claimer` (besides the
    /// claimer's own [`UserAction::ClaimKeyPackages`] limit): one
    /// claimer cannot drain one user's stock.
    pub fn key_package_claim_of(&self, claimer: &str, target: &str) -> Result<(), CoreError> {
        if !self.enabled {
            return Ok(());
        }
        self.key_package_claims_per_target
            .check(&(claimer.to_owned(), target.to_owned()))
    }

    /// Forgets buckets that are full again, so memory tracks active keys.
    pub fn forget_idle(&self) {
        self.auth_per_ip.limiter.retain_recent();
        self.login_per_account.limiter.retain_recent();
        self.refresh_per_ip.limiter.retain_recent();
        self.sends_per_user.limiter.retain_recent();
        self.searches_per_user.limiter.retain_recent();
        self.reactions_per_user.limiter.retain_recent();
        self.chats_per_user.limiter.retain_recent();
        self.key_package_claims_per_user.limiter.retain_recent();
        self.key_package_uploads_per_user.limiter.retain_recent();
        self.key_package_claims_per_target.limiter.retain_recent();
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
            ..RateLimitSettings::default()
        })
    }

    fn send(limits: &RateLimits, user: &str) -> Result<(), CoreError> {
        limits.user_action(user, UserAction::Send)
    }

    #[test]
    fn a_burst_beyond_the_rate_is_refused_with_a_retry_time() {
        let limits = limits(true);
        for _ in 0..3 {
            send(&limits, "u1").unwrap();
        }
        match send(&limits, "u1") {
            Err(CoreError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        send(&limits, "u2").expect("other users have their own bucket");
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = limits(false);
        for _ in 0..100 {
            send(&limits, "u1").unwrap();
            limits.login_attempt("alice", None).unwrap();
        }
    }

    #[test]
    fn a_login_limit_is_per_account_and_address_together() {
        let limits = limits(true);
        let (attacker, owner) = (Some([10, 0, 0, 1].into()), Some([10, 0, 0, 2].into()));
        for _ in 0..2 {
            limits.login_attempt("alice", attacker).unwrap();
        }
        assert!(limits.login_attempt("alice", attacker).is_err());
        limits
            .login_attempt("alice", owner)
            .expect("the owner, elsewhere, is not locked out");
    }
}
