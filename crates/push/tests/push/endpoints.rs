//! The SSRF guard: which endpoints are refused, when subscribing and when
//! sending, and redirects never followed.

use super::*;
use axum::http::{StatusCode, header};
use natter_push::{InvalidSubscription, SubscriptionField, validate_subscription};

async fn refused(endpoint: &str, subscription: &Subscription) -> InvalidSubscription {
    validate_subscription(endpoint, &subscription.p256dh, &subscription.auth, STRICT)
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn a_local_push_services_subscription_is_valid_only_with_insecure_endpoints() {
    let (_service, _client, subscription) = setup().await;
    let valid = |policy| {
        validate_subscription(
            &subscription.endpoint,
            &subscription.p256dh,
            &subscription.auth,
            policy,
        )
    };
    assert_eq!(valid(INSECURE).await, Ok(()));
    let error = valid(STRICT).await.expect_err("http is refused");
    assert_eq!(error.field, SubscriptionField::Endpoint);
    assert!(error.reason.contains("https"), "{error}");
}

#[tokio::test]
async fn loopback_endpoints_are_refused_without_insecure_endpoints() {
    let (_service, _client, subscription) = setup().await;
    for endpoint in ["https://127.0.0.1/push/x", "https://[::1]:8443/push/x"] {
        let error = refused(endpoint, &subscription).await;
        assert_eq!(error.field, SubscriptionField::Endpoint);
        assert!(
            error.reason.contains("not a public address"),
            "{endpoint}: {error}"
        );
    }
    // A name is judged by what it resolves to.
    let error = refused("https://localhost/push/x", &subscription).await;
    assert!(error.reason.contains("resolves to"), "{error}");
    assert_eq!(error.to_string(), format!("endpoint: {}", error.reason));
}

#[tokio::test]
async fn bad_keys_are_refused_naming_the_field() {
    let (_service, _client, subscription) = setup().await;
    let public = "https://93.184.215.14/push/x";
    let error = validate_subscription(public, "AAAA", &subscription.auth, STRICT)
        .await
        .expect_err("refused");
    assert_eq!(error.field.as_str(), "keys.p256dh");
    let error = validate_subscription(public, &subscription.p256dh, "AAAA", STRICT)
        .await
        .expect_err("refused");
    assert_eq!(error.field.as_str(), "keys.auth");
    assert_eq!(
        validate_subscription(public, &subscription.p256dh, &subscription.auth, STRICT).await,
        Ok(())
    );
}

#[tokio::test]
async fn a_strict_client_sends_nothing_to_loopback_even_if_the_subscription_was_stored() {
    let (service, _client, subscription) = setup().await;
    let strict = client(STRICT, PATIENCE);
    let port = service
        .origin()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    assert_rejected_locally(&send(&strict, &subscription, b"x").await, "https");
    for (endpoint, why) in [
        (
            format!("https://127.0.0.1:{port}/push/x"),
            "not a public address",
        ),
        // As after a DNS rebinding: the name now resolves to loopback.
        (format!("https://localhost:{port}/push/x"), "non-public"),
    ] {
        let rebound = Subscription {
            endpoint,
            ..subscription.clone()
        };
        assert_rejected_locally(&send(&strict, &rebound, b"x").await, why);
    }
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (service, client, subscription) = setup().await;
    let to = subscription.endpoint.clone();
    let app = axum::Router::new().route(
        "/push/moved",
        axum::routing::post(move || async move {
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)])
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let redirector = tokio::spawn(async move { axum::serve(listener, app).await });
    let moved = Subscription {
        endpoint: format!("http://127.0.0.1:{port}/push/moved"),
        ..subscription.clone()
    };

    let outcome = send(&client, &moved, b"hello").await;
    match &outcome {
        SendOutcome::Rejected {
            status: Some(307),
            reason,
        } => assert!(reason.contains("not followed"), "{reason}"),
        other => panic!("a redirect came to {other:?}"),
    }
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
    assert!(service.take(&subscription.endpoint).is_empty());
    assert_eq!(service.violations(), Vec::<String>::new());
    redirector.abort();
}
