//! natter-push against the local push service of natter-test-services:
//! real HTTP, real encryption and VAPID, checked the way a push service
//! checks them. One test binary; the helpers are here.

mod delivery;
mod endpoints;
mod failures;

use natter_push::{EndpointPolicy, PushClient, PushOptions, SendOutcome, Target, Urgency, Vapid};
use natter_test_services::push_service::{PushService, Subscription};
use std::time::Duration;

/// How long a push may take to show up (a hang guard, not a bound).
const PATIENCE: Duration = Duration::from_secs(20);
const SUBJECT: &str = "mailto:ops@natter.example";
const INSECURE: EndpointPolicy = EndpointPolicy {
    allow_insecure: true,
};
const STRICT: EndpointPolicy = EndpointPolicy {
    allow_insecure: false,
};

/// A push service expecting this client's key, the client (allowed to
/// post to it over http on 127.0.0.1) and one subscription.
async fn setup() -> (PushService, PushClient, Subscription) {
    let service = PushService::start().await;
    let client = client(INSECURE, Duration::from_secs(20));
    service.expect_vapid_key(&client.vapid().public_key());
    let subscription = service.subscribe();
    (service, client, subscription)
}

fn client(policy: EndpointPolicy, request_timeout: Duration) -> PushClient {
    let vapid = Vapid::from_private_key(&Vapid::generate_private_key(), SUBJECT)
        .expect("a fresh key is valid");
    PushClient::new(vapid, policy, request_timeout).expect("a client")
}

fn target(subscription: &Subscription) -> Target<'_> {
    Target {
        endpoint: &subscription.endpoint,
        p256dh: &subscription.p256dh,
        auth: &subscription.auth,
    }
}

fn options(topic: Option<&str>) -> PushOptions<'_> {
    PushOptions {
        ttl_secs: 3600,
        urgency: Urgency::Normal,
        topic,
    }
}

/// Sends `payload` with default options and returns the outcome.
async fn send(client: &PushClient, subscription: &Subscription, payload: &[u8]) -> SendOutcome {
    client
        .send(&target(subscription), payload, &options(None))
        .await
}

fn assert_rejected_locally(outcome: &SendOutcome, reason_part: &str) {
    match outcome {
        SendOutcome::Rejected {
            status: None,
            reason,
        } => assert!(reason.contains(reason_part), "{reason}"),
        other => panic!("expected a local rejection ({reason_part}), got {other:?}"),
    }
}
