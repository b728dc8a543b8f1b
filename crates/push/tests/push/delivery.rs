//! Pushes that are taken: what arrives, and how topics replace.

use super::*;

#[tokio::test]
async fn a_push_arrives_decrypted_with_its_ttl_urgency_topic_and_vapid() {
    let (service, client, subscription) = setup().await;
    let payload = br#"{"type":"message","chat_id":"c1","seq":7}"#;
    let options = PushOptions {
        ttl_secs: 86_400,
        urgency: Urgency::High,
        topic: Some("0190a5f27b3c7d4e8f90123456789abc"),
    };
    let outcome = client.send(&target(&subscription), payload, &options).await;
    assert_eq!(outcome, SendOutcome::Accepted);

    let received = service.wait_for(&subscription.endpoint, 1, PATIENCE).await;
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert_eq!(push.payload, payload);
    assert_eq!(
        push.json,
        Some(serde_json::json!({"type": "message", "chat_id": "c1", "seq": 7}))
    );
    assert_eq!(push.ttl, 86_400);
    assert_eq!(push.urgency.as_deref(), Some("high"));
    assert_eq!(
        push.topic.as_deref(),
        Some("0190a5f27b3c7d4e8f90123456789abc")
    );
    assert_eq!(push.vapid_subject, SUBJECT);
    assert_eq!(service.violations(), Vec::<String>::new());
    assert!(
        service.take(&subscription.endpoint).is_empty(),
        "taken once"
    );
}

#[tokio::test]
async fn a_newer_push_with_the_same_topic_replaces_the_undelivered_one() {
    let (service, client, subscription) = setup().await;
    let to = target(&subscription);
    for payload in [&b"first"[..], b"other chat", b"second"] {
        let topic = if payload == b"other chat" {
            "chatB"
        } else {
            "chatA"
        };
        let outcome = client.send(&to, payload, &options(Some(topic))).await;
        assert_eq!(outcome, SendOutcome::Accepted);
    }
    let received = service.take(&subscription.endpoint);
    let payloads: Vec<&[u8]> = received.iter().map(|push| &push.payload[..]).collect();
    assert_eq!(payloads, [&b"other chat"[..], b"second"]);
    assert_eq!(service.accepted_count(&subscription.endpoint), 3);

    // Once delivered, the topic replaces nothing more.
    assert_eq!(
        client.send(&to, b"third", &options(Some("chatA"))).await,
        SendOutcome::Accepted
    );
    assert_eq!(service.take(&subscription.endpoint)[0].payload, b"third");
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn the_largest_payload_allowed_fits_a_push_services_4096_bytes() {
    let (service, client, subscription) = setup().await;
    let payload = vec![b'x'; natter_push::MAX_PLAINTEXT_LEN];
    assert_eq!(
        send(&client, &subscription, &payload).await,
        SendOutcome::Accepted
    );
    let received = service.take(&subscription.endpoint);
    assert_eq!(received[0].payload, payload);
    assert_eq!(received[0].json, None);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn an_oversize_payload_is_rejected_without_a_request() {
    let (service, client, subscription) = setup().await;
    // Had a request gone out, it would have used up this failure.
    service.fail_next(&subscription.endpoint, 500, 1, None);
    let payload = vec![b'x'; natter_push::MAX_PLAINTEXT_LEN + 1];
    assert_rejected_locally(&send(&client, &subscription, &payload).await, "3993");
    assert_eq!(
        send(&client, &subscription, b"small").await,
        SendOutcome::RetryLater { after: None }
    );
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn an_empty_payload_is_rejected_without_a_request() {
    let (service, client, subscription) = setup().await;
    service.fail_next(&subscription.endpoint, 500, 1, None);
    assert_rejected_locally(&send(&client, &subscription, b"").await, "empty");
    assert_eq!(
        send(&client, &subscription, b"x").await,
        SendOutcome::RetryLater { after: None }
    );
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn an_invalid_topic_is_rejected_without_a_request() {
    let (service, client, subscription) = setup().await;
    let with_hyphens = "0190a5f2-7b3c-7d4e-8f90-123456789abc";
    let outcome = client
        .send(&target(&subscription), b"x", &options(Some(with_hyphens)))
        .await;
    assert_rejected_locally(&outcome, "topic");
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_push_signed_with_another_servers_key_is_refused_and_recorded() {
    let (service, _client, subscription) = setup().await;
    let stranger = client(INSECURE, PATIENCE);
    let outcome = send(&stranger, &subscription, b"hello").await;
    assert!(
        matches!(
            outcome,
            SendOutcome::Rejected {
                status: Some(401),
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(service.accepted_count(&subscription.endpoint), 0);
    let violations = service.violations();
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].contains("not by the expected"),
        "{violations:?}"
    );
}
