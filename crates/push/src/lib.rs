//! Web Push, the protocol part: natter sends pushes itself, no vendor
//! gateway. RFC 8030 delivery (`TTL`, `Urgency`, `Topic`), RFC 8291
//! aes128gcm payload encryption (web-push-native) and RFC 8292 VAPID, which
//! browsers, Apple's home-screen apps and UnifiedPush distributors all
//! accept.
//!
//! This crate knows nothing of natter's store, users or queue: it checks a
//! subscription ([`validate_subscription`]), holds the server's identity
//! ([`Vapid`]) and sends one push ([`PushClient::send`]), saying what the
//! answer means ([`SendOutcome`]). Who is pushed, when, and how often a
//! push is retried is `natter-core`'s.
//!
//! An endpoint is a URL from a client, so every push is guarded against
//! server-side request forgery: `https://` only, no redirects followed, and
//! no connection to a private, loopback or link-local address (checked
//! when the subscription is posted and again on every connection), unless
//! [`EndpointPolicy::allow_insecure`] says this is a test or a closed
//! network. The address rule ([`is_public`]) and the guarded HTTP client
//! ([`guarded_client_builder`]) are shared with natter-core's link
//! previews, the server's other fetch of user-given URLs.

mod address;
mod client;
mod endpoint;
mod error;
mod keys;
mod options;
mod resolver;
mod retry_after;
mod subscription;
mod tokens;
mod vapid;

pub use address::is_public;
pub use client::{MAX_PLAINTEXT_LEN, PushClient, SendOutcome, Target};
pub use endpoint::{EndpointPolicy, MAX_ENDPOINT_LEN};
pub use error::{InvalidSubscription, PushError, SubscriptionField};
pub use options::{MAX_TOPIC_LEN, PushOptions, UnknownUrgency, Urgency};
pub use resolver::{
    OnlyNonPublicAddresses, PublicOnlyResolver, guarded_client_builder, refused_as_non_public,
};
pub use subscription::validate_subscription;
pub use vapid::Vapid;
