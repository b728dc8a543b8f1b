//! The crate's error types: [`PushError`] for setting up (a bad VAPID key
//! or subject, an HTTP client that cannot be built) and
//! [`InvalidSubscription`] for a subscription a client posted. What a
//! single push came to is not an error but a [`crate::SendOutcome`].

use std::fmt;

/// Setting up push failed; the server's configuration or stored key is at
/// fault, not a client.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The stored VAPID private key is not a P-256 scalar (32 bytes, not
    /// zero, below the group order).
    #[error("the VAPID private key is not a valid P-256 key (32 raw bytes expected)")]
    InvalidPrivateKey,
    /// The VAPID subject is not a `mailto:` or `https:` URI; push services
    /// (Apple's among them) refuse pushes without a reachable contact.
    #[error("the VAPID subject {subject:?} is not a mailto: or https: URI: {reason}")]
    InvalidSubject { subject: String, reason: String },
    /// The HTTP client could not be built (TLS set-up).
    #[error("the push HTTP client could not be built: {0}")]
    Client(#[from] reqwest::Error),
}

/// The part of a posted subscription that is wrong, named as the API's
/// request body names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionField {
    Endpoint,
    P256dh,
    Auth,
}

impl SubscriptionField {
    /// `endpoint`, `keys.p256dh` or `keys.auth`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionField::Endpoint => "endpoint",
            SubscriptionField::P256dh => "keys.p256dh",
            SubscriptionField::Auth => "keys.auth",
        }
    }
}

impl fmt::Display for SubscriptionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subscription natter will not push to, with the field at fault and
/// why, worded so that it can be shown to the client that posted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidSubscription {
    pub field: SubscriptionField,
    pub reason: String,
}

impl InvalidSubscription {
    pub(crate) fn new(field: SubscriptionField, reason: impl Into<String>) -> Self {
        InvalidSubscription {
            field,
            reason: reason.into(),
        }
    }
}
