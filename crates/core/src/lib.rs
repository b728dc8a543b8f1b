//! The use cases of natter: every change to data goes through here.
//! Each use case validates its input, authorizes against CURRENT
//! membership, calls the store, and only after the store committed
//! publishes the change on the bus. HTTP handlers and the gateway call in
//! here and nothing reaches around it. Knows nothing of HTTP or WebSocket.

pub mod accounts;
pub mod announcer;
pub mod blob;
pub mod calls;
pub mod chat_flags;
pub mod chat_profile;
pub mod chats;
pub mod devices;
pub mod error;
pub mod files;
pub mod hidden;
pub mod limits;
pub mod markers;
pub mod media;
pub mod messages;
pub mod mls;
pub mod presence;
pub mod previews;
pub mod push;
pub mod realtime;
pub mod search;
pub mod tokens;
pub mod typing;
pub mod users;
pub mod views;
pub mod voice;

pub use error::{CoreError, CoreResult};
use limits::RateLimits;
use natter_bus::{Bus, Presence};
use natter_config::Settings;
use natter_proto::Timestamp;
use natter_store::Store;
use std::sync::Arc;
use tokens::{AccessTokens, Passwords};

/// Who is calling: established from a valid access token of a live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub session_id: String,
}

/// What the use cases run on, chosen by the binary (by URL scheme).
pub struct Backends {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub presence: Arc<dyn Presence>,
    pub blob: crate::blob::BlobStore,
    /// The VAPID private key ([`push::vapid_key`]); `None`: push is off.
    pub vapid_key: Option<Vec<u8>>,
}

/// The use cases with everything they need. Cheap to share (`Arc`).
pub struct Core {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) passwords: Passwords,
    pub(crate) tokens: AccessTokens,
    pub(crate) limits: RateLimits,
    pub(crate) presence: Arc<dyn Presence>,
    pub(crate) connections: presence::ConnectionCounts,
    pub(crate) typing: typing::TypingTracker,
    pub(crate) markers: markers::MarkerQueue,
    pub(crate) files: files::Files,
    pub(crate) push: Option<push::Pusher>,
    pub(crate) previews: previews::Previews,
    pub(crate) voice: natter_config::VoiceSettings,
    pub(crate) calls: calls::table::CallTable,
    pub(crate) turn: calls::turn::Turn,
    refresh_ttl_ms: i64,
    /// A real hash of a random password, verified when a login names an
    /// unknown user so that timing does not tell which usernames exist.
    decoy_hash: String,
}

impl Core {
    pub fn new(settings: &Settings, secret: &[u8], backends: Backends) -> anyhow::Result<Self> {
        let Backends {
            store,
            bus,
            presence,
            blob,
            vapid_key,
        } = backends;
        let passwords = Passwords::new(&settings.auth)?;
        let decoy_hash = passwords.hash(&new_id())?;
        Ok(Core {
            store,
            bus,
            tokens: AccessTokens::new(secret, &settings.auth),
            passwords,
            limits: RateLimits::new(&settings.rate_limit),
            presence,
            connections: presence::ConnectionCounts::default(),
            typing: typing::TypingTracker::new(std::time::Duration::from_secs(
                settings.gateway.typing_ttl_secs,
            )),
            markers: markers::MarkerQueue::default(),
            files: files::Files::new(blob, settings.files.clone(), secret),
            push: push::Pusher::new(&settings.push, vapid_key.as_deref())?,
            previews: previews::Previews::new(
                &settings.link_previews,
                settings.rate_limit.enabled,
            )?,
            voice: settings.voice.clone(),
            calls: calls::table::CallTable::default(),
            turn: calls::turn::Turn::new(&settings.calls),
            refresh_ttl_ms: settings.auth.refresh_ttl_secs as i64 * 1000,
            decoy_hash,
        })
    }

    /// Whether the store, the bus and the blob store answer (for
    /// `/readyz`); each failure says why, for the log.
    pub async fn readiness(&self) -> Readiness {
        Readiness {
            store: self.store.ping().await.map_err(|error| error.to_string()),
            bus: self.bus.is_ready(),
            blob: self
                .files
                .blob
                .ping()
                .await
                .map_err(|error| error.to_string()),
        }
    }

    /// The file service (links, limits, blob store).
    pub fn files(&self) -> &files::Files {
        &self.files
    }

    /// Drops idle rate-limit buckets; call periodically.
    pub fn housekeeping(&self) {
        self.limits.forget_idle();
        self.previews.forget_idle();
    }
}

/// What [`Core::readiness`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub store: Result<(), String>,
    pub bus: bool,
    pub blob: Result<(), String>,
}

impl Readiness {
    /// True if everything answered.
    pub fn is_ready(&self) -> bool {
        self.store.is_ok() && self.bus && self.blob.is_ok()
    }
}

/// A new UUIDv7: unique, and sortable by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// Largest seq or version a client may name: 2^53 - 1, the largest
/// integer every JSON reader (JavaScript included) holds exactly. A
/// bigger one can only be a mistake or a probe.
pub const MAX_COUNTER: i64 = (1 << 53) - 1;

/// `value` as a seq or version named by a client: 0 to [`MAX_COUNTER`];
/// `field` names it in the error.
pub(crate) fn counter(field: &str, value: i64) -> CoreResult<i64> {
    if !(0..=MAX_COUNTER).contains(&value) {
        return Err(CoreError::invalid(format!(
            "{field} must be between 0 and {MAX_COUNTER}"
        )));
    }
    Ok(value)
}

/// Refuses control characters in `text` (NUL, escapes, ...), except, if
/// `multiline`, tab and line breaks; `field` names it in the error.
pub(crate) fn no_control_characters(field: &str, text: &str, multiline: bool) -> CoreResult<()> {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(CoreError::invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// Trims `text` and checks its length in characters is within `min..=max`;
/// `field` names it in the error.
pub(crate) fn bounded_text(field: &str, text: &str, min: usize, max: usize) -> CoreResult<String> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length < min || length > max {
        return Err(CoreError::invalid(format!(
            "{field} must be {min} to {max} characters long"
        )));
    }
    no_control_characters(field, trimmed, false)?;
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_bounded_and_control_characters_named() {
        assert_eq!(counter("seq", 0).unwrap(), 0);
        assert!(counter("seq", MAX_COUNTER).is_ok());
        assert!(
            counter("seq", MAX_COUNTER + 1)
                .unwrap_err()
                .to_string()
                .contains("seq")
        );
        assert!(counter("seq", -1).is_err());
        assert!(no_control_characters("content", "line\nnext\tcol", true).is_ok());
        assert!(no_control_characters("content", "a\0b", true).is_err());
        assert!(no_control_characters("q", "a\nb", false).is_err());
    }

    #[test]
    fn bounded_text_trims_and_checks_length_and_control_characters() {
        assert_eq!(bounded_text("name", "  Ops  ", 1, 10).unwrap(), "Ops");
        assert!(bounded_text("name", "   ", 1, 10).is_err());
        assert!(bounded_text("name", "x".repeat(11).as_str(), 1, 10).is_err());
        assert!(bounded_text("name", "a\u{7}b", 1, 10).is_err());
        let error = bounded_text("name", "", 1, 10).unwrap_err();
        assert!(error.to_string().contains("name"));
    }
}
