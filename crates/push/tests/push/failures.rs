//! What the push service's refusals and silences mean for the caller.

use super::*;
use natter_test_services::free_port;

#[tokio::test]
async fn an_expired_subscription_is_gone() {
    let (service, client, subscription) = setup().await;
    service.expire(&subscription.endpoint);
    assert_eq!(
        send(&client, &subscription, b"hello").await,
        SendOutcome::Gone
    );
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
}

#[tokio::test]
async fn an_unknown_endpoint_is_gone() {
    let (service, client, subscription) = setup().await;
    let unknown = Subscription {
        endpoint: format!("{}/push/never-subscribed", service.origin()),
        ..subscription
    };
    assert_eq!(send(&client, &unknown, b"hello").await, SendOutcome::Gone);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn too_many_requests_is_retried_after_the_time_the_service_names() {
    let (service, client, subscription) = setup().await;
    service.fail_next(&subscription.endpoint, 429, 1, Some(7));
    assert_eq!(
        send(&client, &subscription, b"hello").await,
        SendOutcome::RetryLater {
            after: Some(Duration::from_secs(7))
        }
    );
    assert_eq!(
        send(&client, &subscription, b"hello").await,
        SendOutcome::Accepted
    );
    assert_eq!(service.take(&subscription.endpoint).len(), 1);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn server_errors_are_retried_later_until_the_service_recovers() {
    let (service, client, subscription) = setup().await;
    service.fail_next(&subscription.endpoint, 503, 2, None);
    for _ in 0..2 {
        assert_eq!(
            send(&client, &subscription, b"hello").await,
            SendOutcome::RetryLater { after: None }
        );
    }
    assert_eq!(
        send(&client, &subscription, b"hello").await,
        SendOutcome::Accepted
    );
    assert_eq!(service.accepted_count(&subscription.endpoint), 1);
}

#[tokio::test]
async fn a_bad_request_is_rejected_and_not_retried() {
    let (service, client, subscription) = setup().await;
    service.fail_next(&subscription.endpoint, 400, 1, None);
    let outcome = send(&client, &subscription, b"hello").await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Rejected {
                status: Some(400),
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_push_service_that_is_down_is_retried_later() {
    let (_service, client, subscription) = setup().await;
    let down = Subscription {
        endpoint: format!("http://127.0.0.1:{}/push/x", free_port()),
        ..subscription
    };
    assert_eq!(
        send(&client, &down, b"hello").await,
        SendOutcome::RetryLater { after: None }
    );
}

#[tokio::test]
async fn a_push_service_that_never_answers_is_retried_later() {
    let (_service, _client, subscription) = setup().await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            connections.push(connection);
        }
    });
    let silent = Subscription {
        endpoint: format!("http://127.0.0.1:{port}/push/x"),
        ..subscription
    };
    let impatient = client(INSECURE, Duration::from_millis(300));
    assert_eq!(
        send(&impatient, &silent, b"hello").await,
        SendOutcome::RetryLater { after: None }
    );
    held.abort();
}
