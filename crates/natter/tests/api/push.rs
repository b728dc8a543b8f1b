//! Push notifications end to end: the real server pushes to a local push
//! service (`natter_test_services::push_service`) that checks every
//! request as a real one does (VAPID, aes128gcm, TTL, Topic) and decrypts
//! it. Absence is asserted against a later push of the same order: the
//! server under test sends one push at a time (`push.concurrency = 1`) in
//! queue order, so when the marker push arrives, an earlier one would have.

use crate::helpers::{
    PASSWORD, TestServer, WAIT, assert_api_error, direct, eventually, group, raw_json, send,
};
use natter_client::{Client, Method};
use natter_proto::ErrorCode;
use natter_proto::auth::AuthResponse;
use natter_proto::events::ClientFrame;
use natter_proto::messages::{MessageType, Metadata, SendMessage};
use natter_proto::push::{
    ChatNotifications, NewPushSubscription, NotificationLevel, PushSubscription, SubscriptionKeys,
    SubscriptionStatus, UpdateMyNotifications,
};
use natter_proto::users::PresenceStatus;
use natter_test_services::push_service::{PushService, Received, Subscription};
use serde_json::Value;

/// A server with push on, allowed to push to the local service.
async fn push_server() -> TestServer {
    TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
        settings.push.allow_insecure_endpoints = true;
        settings.push.concurrency = 1;
    })
    .await
}

async fn started(server: &TestServer) -> PushService {
    let service = PushService::start().await;
    let key = server.client().vapid_key().await.expect("the VAPID key");
    service.expect_vapid_key(&key);
    service
}

fn posted(subscription: &Subscription) -> NewPushSubscription {
    NewPushSubscription {
        endpoint: subscription.endpoint.clone(),
        keys: SubscriptionKeys {
            p256dh: subscription.p256dh.clone(),
            auth: subscription.auth.clone(),
        },
    }
}

/// The one push waiting at `endpoint`, as JSON.
async fn one_push(service: &PushService, endpoint: &str) -> (Value, Received) {
    let mut pushes = service.wait_for(endpoint, 1, WAIT).await;
    assert_eq!(pushes.len(), 1, "exactly one push: {pushes:?}");
    let push = pushes.remove(0);
    (push.json.clone().expect("a JSON payload"), push)
}

/// Subscribes `client`'s device to a new endpoint of `service` and
/// activates it with the token of its activation push.
pub(crate) async fn subscribed(
    service: &PushService,
    client: &Client,
) -> (Subscription, PushSubscription) {
    let subscription = service.subscribe();
    let (stored, created) = client.subscribe_push(&posted(&subscription)).await.unwrap();
    assert!(created);
    assert_eq!(stored.status, SubscriptionStatus::Pending);
    let token = service.activation_token(&subscription.endpoint, WAIT).await;
    client
        .activate_push(&stored.subscription_id, &token)
        .await
        .unwrap();
    (subscription, stored)
}

/// Alice and Bob in a direct chat on a [`push_server`]; Bob's device is
/// subscribed (and activated) to a new endpoint of the push service, and
/// has no socket open.
struct BobOffline {
    server: TestServer,
    service: PushService,
    alice: Client,
    bob: Client,
    chat_id: String,
    endpoint: Subscription,
}

async fn bob_offline_in_a_direct_chat() -> BobOffline {
    let server = push_server().await;
    let service = started(&server).await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (endpoint, _) = subscribed(&service, &bob).await;
    BobOffline {
        server,
        service,
        alice,
        bob,
        chat_id,
        endpoint,
    }
}

/// A text message mentioning `mentions`.
fn mentioning(chat_id: &str, content: &str, mentions: &[&str]) -> SendMessage {
    SendMessage {
        chat_id: chat_id.into(),
        content: content.into(),
        message_type: MessageType::Text,
        client_msg_id: None,
        file_id: None,
        metadata: Some(Metadata {
            mentions: Some(mentions.iter().map(|m| (*m).to_owned()).collect()),
            ..Metadata::default()
        }),
        sender_id: None,
    }
}

fn no_violations(service: &PushService) {
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_pushed_only_once_activated_with_its_token() {
    let server = push_server().await;
    let service = started(&server).await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;

    let endpoint = service.subscribe();
    let (stored, created) = bob.subscribe_push(&posted(&endpoint)).await.unwrap();
    assert!(created);
    let (activation, push) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(activation["type"], "activate");
    assert_eq!(push.vapid_subject, "mailto:ops@example.com");
    // Pending: a message for bob is not pushed. Carol's push of a later
    // message is the proof that bob's was planned (and found nothing).
    send(&alice, &chat_id, "not yet").await;
    let (carol, carol_auth) = server.user("carol").await;
    let carols = direct(&alice, &carol_auth).await.summary.chat_id;
    let (carol_endpoint, _) = subscribed(&service, &carol).await;
    send(&alice, &carols, "marker").await;
    one_push(&service, &carol_endpoint.endpoint).await;
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        1,
        "the activation only"
    );
    // A wrong token is 400, someone else's subscription 404.
    assert_api_error(
        bob.activate_push(&stored.subscription_id, "not-the-token")
            .await,
        ErrorCode::InvalidRequest,
    );
    let token = activation["token"].as_str().unwrap();
    assert_api_error(
        alice.activate_push(&stored.subscription_id, token).await,
        ErrorCode::NotFound,
    );
    bob.activate_push(&stored.subscription_id, token)
        .await
        .unwrap();
    let listed = bob.push_subscriptions().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, SubscriptionStatus::Active);
    assert_eq!(listed[0].endpoint, endpoint.endpoint);

    send(&alice, &chat_id, "now").await;
    let (pushed, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(pushed["body"], "now");
    assert_eq!(service.accepted_count(&endpoint.endpoint), 2);
    // The operator sees them: results and latency on /metrics.
    let metrics = crate::helpers::raw_get(&alice, Method::GET, "/metrics").await;
    let metrics = String::from_utf8_lossy(&metrics.body);
    for series in [
        r#"natter_push_sent_total{result="accepted"}"#,
        "natter_push_latency_seconds",
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
    // Posting the same endpoint again changes nothing (200, still active).
    let (again, created) = bob.subscribe_push(&posted(&endpoint)).await.unwrap();
    assert!(!created);
    assert_eq!(
        (again.subscription_id, again.status),
        (stored.subscription_id, SubscriptionStatus::Active)
    );
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_member_gets_one_valid_push_per_message_an_online_one_none_an_away_one_again() {
    let server = push_server().await;
    let service = started(&server).await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat = direct(&alice, &bob_auth).await.summary;
    let (endpoint, _) = subscribed(&service, &bob).await;

    let ack = send(&alice, &chat.chat_id, "hello bob").await;
    let (payload, push) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["type"], "message");
    assert_eq!(payload["chat_id"], chat.chat_id.as_str());
    assert_eq!(
        payload["chat_name"], "Alice",
        "a direct chat is named by its sender"
    );
    assert_eq!(payload["message_id"], ack.message_id.as_str());
    assert_eq!(payload["seq"], ack.seq);
    assert_eq!(
        payload["sender"]["user_id"],
        alice_auth.user.user_id.as_str()
    );
    assert_eq!(payload["sender"]["display_name"], "Alice");
    assert_eq!(payload["body"], "hello bob");
    assert_eq!(payload["unread_count"], 1);
    assert_eq!(
        push.urgency.as_deref(),
        Some("high"),
        "direct chats are urgent"
    );
    assert_eq!(
        push.topic.as_deref(),
        Some(chat.chat_id.replace('-', "").as_str())
    );
    assert!((86_390..=86_400).contains(&push.ttl), "TTL {}", push.ttl);

    // Online: no push. The marker goes to carol: her push is planned and
    // sent after any push of bob's queued before it.
    let (carol, carol_auth) = server.user("carol").await;
    let carols = direct(&alice, &carol_auth).await.summary.chat_id;
    let (carol_endpoint, _) = subscribed(&service, &carol).await;
    let (mut socket, _) = server.socket(&bob_auth.access_token).await;
    send(&alice, &chat.chat_id, "you are here").await;
    send(&alice, &carols, "marker").await;
    one_push(&service, &carol_endpoint.endpoint).await;
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        2,
        "activation, hello"
    );
    // Away: pushed again.
    socket
        .send_frame(&ClientFrame::Presence {
            status: PresenceStatus::Away,
        })
        .await
        .unwrap();
    eventually("bob away", WAIT, || async {
        let me = alice.user(&bob_auth.user.user_id).await.unwrap();
        (me.presence.status == PresenceStatus::Away).then_some(())
    })
    .await;
    send(&alice, &chat.chat_id, "are you there?").await;
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["body"], "are you there?");
    assert_eq!(payload["unread_count"], 3, "two unread before it");
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        3,
        "activation, hello, are you there?"
    );
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_mutes_do_not_disturb_and_keywords_decide_who_is_pushed() {
    let server = push_server().await;
    let service = started(&server).await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let team = group(&alice, "Team", &[&bob_auth]).await.summary.chat_id;
    let other = group(&alice, "Other", &[&bob_auth]).await.summary.chat_id;
    let (endpoint, _) = subscribed(&service, &bob).await;
    let bob_id = bob_auth.user.user_id.as_str();
    let marker = |text: &str| {
        let alice = alice.clone();
        let other = other.clone();
        let text = text.to_owned();
        async move { send(&alice, &other, &text).await }
    };
    // Each push waited for is the only one since the last: a push that
    // should not have been sent shows in the count even when the next
    // one (same Topic) replaced it.
    let pushed = std::sync::atomic::AtomicUsize::new(service.accepted_count(&endpoint.endpoint));
    let next_body = || async {
        let (payload, _) = one_push(&service, &endpoint.endpoint).await;
        let count = pushed.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        assert_eq!(
            service.accepted_count(&endpoint.endpoint),
            count,
            "{payload}"
        );
        payload["body"].as_str().unwrap().to_owned()
    };

    // Level "mentions": plain messages are not pushed, mentions are.
    let settings = bob
        .set_chat_notifications(
            &team,
            &ChatNotifications {
                level: NotificationLevel::Mentions,
                muted_until: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(settings.level, NotificationLevel::Mentions);
    send(&alice, &team, "plain").await;
    alice
        .send(&mentioning(&team, "ping bob", &[bob_id]))
        .await
        .unwrap();
    assert_eq!(next_body().await, "ping bob");
    // A keyword counts as a mention, as a whole word in any case.
    bob.update_my_notifications(&UpdateMyNotifications {
        keywords: Some(vec!["Deploy".into()]),
        ..Default::default()
    })
    .await
    .unwrap();
    send(&alice, &team, "redeploy later").await;
    send(&alice, &team, "DEPLOY now").await;
    assert_eq!(next_body().await, "DEPLOY now");

    // Level "none": nothing, not even a mention.
    bob.set_chat_notifications(
        &team,
        &ChatNotifications {
            level: NotificationLevel::None,
            muted_until: None,
        },
    )
    .await
    .unwrap();
    alice
        .send(&mentioning(&team, "ping again", &[bob_id]))
        .await
        .unwrap();
    marker("marker 1").await;
    assert_eq!(next_body().await, "marker 1");

    // Muted until later: nothing from that chat.
    let later = natter_proto::Timestamp(natter_proto::Timestamp::now().millis() + 3_600_000);
    bob.set_chat_notifications(
        &team,
        &ChatNotifications {
            level: NotificationLevel::All,
            muted_until: Some(later),
        },
    )
    .await
    .unwrap();
    send(&alice, &team, "muted").await;
    marker("marker 2").await;
    assert_eq!(next_body().await, "marker 2");

    // Do not disturb: nothing at all. The marker goes to carol: her push
    // is planned and sent after any push of bob's queued before it.
    let me = bob
        .update_my_notifications(&UpdateMyNotifications {
            dnd_until: Some(Some(later)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(me.dnd_until, Some(later));
    let (carol, carol_auth) = server.user("carol").await;
    let carols = group(&alice, "Carol's", &[&carol_auth])
        .await
        .summary
        .chat_id;
    let (carol_endpoint, _) = subscribed(&service, &carol).await;
    send(&alice, &other, "during dnd").await;
    send(&alice, &carols, "marker for carol").await;
    let (payload, _) = one_push(&service, &carol_endpoint.endpoint).await;
    assert_eq!(payload["body"], "marker for carol");
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        pushed.load(std::sync::atomic::Ordering::SeqCst)
    );
    // `null` ends it.
    let me = bob
        .update_my_notifications(&UpdateMyNotifications {
            dnd_until: Some(None),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(me.dnd_until, None);
    marker("after dnd").await;
    assert_eq!(next_body().await, "after dnd");
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_previews_a_push_carries_ids_only() {
    let server = push_server().await;
    let service = started(&server).await;
    let (alice, alice_auth) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "Secret plans", &[&bob_auth])
        .await
        .summary
        .chat_id;
    let (endpoint, _) = subscribed(&service, &bob).await;
    let me = bob
        .update_my_notifications(&UpdateMyNotifications {
            previews: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!me.previews);
    send(&alice, &chat_id, "the launch code is 1234").await;
    let (payload, push) = one_push(&service, &endpoint.endpoint).await;
    let text = String::from_utf8(push.payload).unwrap();
    for secret in ["1234", "launch", "Alice", "Secret plans"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(
        payload["sender"]["user_id"],
        alice_auth.user.user_id.as_str()
    );
    assert!(payload["chat_name"].is_null() && payload.get("body").is_none());
    assert_eq!(push.urgency.as_deref(), Some("normal"));
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_messages_share_one_topic_so_one_push_waits() {
    // The default concurrency: one subscription's pushes still go in
    // order, so the newest is the one that stays.
    let server = TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
        settings.push.allow_insecure_endpoints = true;
    })
    .await;
    let service = started(&server).await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let (endpoint, _) = subscribed(&service, &bob).await;
    for n in 1..=20 {
        send(&alice, &chat_id, &format!("message {n}")).await;
    }
    eventually("20 pushes accepted", WAIT, || async {
        (service.accepted_count(&endpoint.endpoint) >= 21).then_some(())
    })
    .await;
    let waiting = service.take(&endpoint.endpoint);
    assert_eq!(waiting.len(), 1, "the Topic kept only the newest");
    assert_eq!(waiting[0].json.as_ref().unwrap()["body"], "message 20");
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_another_device_pushes_read_to_clear_notifications() {
    let BobOffline {
        server,
        service,
        alice,
        chat_id,
        endpoint,
        ..
    } = bob_offline_in_a_direct_chat().await;
    let first = send(&alice, &chat_id, "read me").await;
    one_push(&service, &endpoint.endpoint).await;
    let second = send(&alice, &chat_id, "and me").await;
    one_push(&service, &endpoint.endpoint).await;

    // Read up to the first on the laptop: the phone clears that much.
    let laptop = server.client().login("bob", PASSWORD).await.unwrap();
    let laptop = server.client().with_token(laptop.access_token);
    laptop.mark_read(&chat_id, first.seq).await.unwrap();
    let (payload, push) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(
        payload,
        serde_json::json!({"type": "read", "chat_id": chat_id, "seq": first.seq})
    );
    assert_eq!(push.urgency.as_deref(), Some("low"));
    assert_ne!(
        push.topic.as_deref(),
        Some(chat_id.replace('-', "").as_str())
    );
    // The second still shows: reading it clears it too.
    laptop.mark_read(&chat_id, second.seq).await.unwrap();
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["seq"], second.seq);
    // Nothing left to clear: reading again pushes nothing (a read push
    // would be queued before the marker's, and sent first).
    laptop.mark_read(&chat_id, second.seq).await.unwrap();
    send(&alice, &chat_id, "marker").await;
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["body"], "marker");
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        6,
        "activation, two messages, two reads, marker"
    );
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_subscriptions_are_dropped_and_failures_retried_until_delivered() {
    // The server is bound too: a field left out here would be dropped,
    // and the server with it.
    let BobOffline {
        server: _server,
        service,
        alice,
        bob,
        chat_id,
        endpoint,
    } = bob_offline_in_a_direct_chat().await;

    // 503 twice, then accepted: delivered once.
    service.fail_next(&endpoint.endpoint, 503, 2, None);
    send(&alice, &chat_id, "try again").await;
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["body"], "try again");
    assert_eq!(
        service.accepted_count(&endpoint.endpoint),
        2,
        "activation, once"
    );
    // 429 with Retry-After: delivered after it.
    service.fail_next(&endpoint.endpoint, 429, 1, Some(1));
    send(&alice, &chat_id, "slow down").await;
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(payload["body"], "slow down");

    // 410: the subscription is deleted.
    service.expire(&endpoint.endpoint);
    send(&alice, &chat_id, "into the void").await;
    eventually("the gone subscription dropped", WAIT, || async {
        bob.push_subscriptions()
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_device_removal_end_that_devices_subscriptions() {
    let server = push_server().await;
    let service = started(&server).await;
    server.user("bob").await;
    let phone = server.client().login("bob", PASSWORD).await.unwrap();
    let tablet = server.client().login("bob", PASSWORD).await.unwrap();
    let laptop = server.client().login("bob", PASSWORD).await.unwrap();
    let on = |auth: &AuthResponse| server.client().with_token(auth.access_token.clone());
    let (phone_endpoint, phone_sub) = subscribed(&service, &on(&phone)).await;
    let (_, tablet_sub) = subscribed(&service, &on(&tablet)).await;
    let (_, laptop_sub) = subscribed(&service, &on(&laptop)).await;
    let ids = |subs: Vec<PushSubscription>| -> Vec<String> {
        subs.into_iter().map(|s| s.subscription_id).collect()
    };
    assert_eq!(
        ids(on(&laptop).push_subscriptions().await.unwrap()).len(),
        3
    );

    server.client().logout(&phone.refresh_token).await.unwrap();
    let tablet_device = on(&tablet)
        .devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.current)
        .unwrap()
        .device_id;
    assert_eq!(tablet_device, tablet_sub.device_id);
    on(&laptop)
        .remove_device(&tablet_device, PASSWORD)
        .await
        .unwrap();
    let left = ids(on(&laptop).push_subscriptions().await.unwrap());
    assert_eq!(left, [laptop_sub.subscription_id]);
    // Gone from the store, not only from the list: the phone's endpoint
    // posted again by a new login is a new subscription (201).
    let again = server.client().login("bob", PASSWORD).await.unwrap();
    let (renewed, created) = on(&again)
        .subscribe_push(&posted(&phone_endpoint))
        .await
        .unwrap();
    assert!(created, "the old row survived its session");
    assert_ne!(renewed.subscription_id, phone_sub.subscription_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_must_be_public_https_unless_configured() {
    let server = TestServer::spawn_with(|settings| {
        settings.push.vapid_subject = "mailto:ops@example.com".into();
    })
    .await;
    let service = PushService::start().await;
    let (bob, _) = server.user("bob").await;
    let local = service.subscribe();
    for endpoint in [
        local.endpoint.clone(),
        "https://127.0.0.1/push/x".to_owned(),
        "https://localhost/push/x".to_owned(),
        "https://10.1.2.3/push/x".to_owned(),
        "https://[::1]/push/x".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "ftp://push.example.com/x".to_owned(),
    ] {
        let request = NewPushSubscription {
            endpoint: endpoint.clone(),
            ..posted(&local)
        };
        let problem = assert_api_error(
            bob.subscribe_push(&request).await,
            ErrorCode::InvalidRequest,
        );
        assert!(
            problem.detail.contains("endpoint"),
            "{endpoint}: {problem:?}"
        );
    }
    assert!(bob.push_subscriptions().await.unwrap().is_empty());
    assert_eq!(service.accepted_count(&local.endpoint), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscription_keys_are_named() {
    let server = push_server().await;
    let service = started(&server).await;
    let (bob, _) = server.user("bob").await;
    let local = service.subscribe();
    let cases = [
        ("keys.p256dh", "AAAA".to_owned(), local.auth.clone()),
        (
            "keys.p256dh",
            "not base64 at all!".to_owned(),
            local.auth.clone(),
        ),
        ("keys.auth", local.p256dh.clone(), "AAAA".to_owned()),
    ];
    for (field, p256dh, auth) in cases {
        let request = NewPushSubscription {
            keys: SubscriptionKeys { p256dh, auth },
            ..posted(&local)
        };
        let problem = assert_api_error(
            bob.subscribe_push(&request).await,
            ErrorCode::InvalidRequest,
        );
        assert!(problem.detail.contains(field), "{field}: {problem:?}");
    }
    assert!(bob.push_subscriptions().await.unwrap().is_empty());
    assert_eq!(service.accepted_count(&local.endpoint), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_vapid_subject_push_is_off_and_settings_still_work() {
    let server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    assert_api_error(server.client().vapid_key().await, ErrorCode::NotFound);
    let response = raw_json(
        &alice,
        Method::POST,
        "/api/v1/push/subscriptions",
        &serde_json::json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": "a", "auth": "b"}}),
    )
    .await;
    assert_eq!(response.status, 404);
    let me = alice
        .update_my_notifications(&UpdateMyNotifications {
            keywords: Some(vec!["natter".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(me.keywords, ["natter"]);
    assert!(me.previews && me.dnd_until.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_default_to_mentions_and_settings_need_membership() {
    let server = push_server().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let (carol, _) = server.user("carol").await;
    let channel = crate::helpers::channel(&alice, "News", &[&bob_auth])
        .await
        .summary
        .chat_id;
    let dm = direct(&alice, &bob_auth).await.summary.chat_id;
    assert_eq!(
        bob.chat_notifications(&channel).await.unwrap().level,
        NotificationLevel::Mentions
    );
    assert_eq!(
        bob.chat_notifications(&dm).await.unwrap().level,
        NotificationLevel::All
    );
    assert_api_error(carol.chat_notifications(&dm).await, ErrorCode::NotFound);
    let bad = raw_json(
        &bob,
        Method::PUT,
        &format!("/api/v1/chats/{dm}/notifications"),
        &serde_json::json!({"level": "sometimes"}),
    )
    .await;
    crate::helpers::assert_problem(&bad, ErrorCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replying_from_another_device_clears_the_notification_too() {
    let BobOffline {
        server,
        service,
        alice,
        chat_id,
        endpoint,
        ..
    } = bob_offline_in_a_direct_chat().await;
    send(&alice, &chat_id, "lunch?").await;
    one_push(&service, &endpoint.endpoint).await;
    // Bob answers on his laptop: his reply reads the chat up to itself.
    let laptop = server.client().login("bob", PASSWORD).await.unwrap();
    let reply = send(
        &server.client().with_token(laptop.access_token),
        &chat_id,
        "yes",
    )
    .await;
    let (payload, _) = one_push(&service, &endpoint.endpoint).await;
    assert_eq!(
        payload,
        serde_json::json!({"type": "read", "chat_id": chat_id, "seq": reply.seq})
    );
    no_violations(&service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_keeps_at_most_twenty_subscriptions() {
    let server = push_server().await;
    let service = started(&server).await;
    let (bob, _) = server.user("bob").await;
    let first = service.subscribe();
    bob.subscribe_push(&posted(&first)).await.unwrap();
    for _ in 1..20 {
        bob.subscribe_push(&posted(&service.subscribe()))
            .await
            .unwrap();
    }
    let problem = assert_api_error(
        bob.subscribe_push(&posted(&service.subscribe())).await,
        ErrorCode::Conflict,
    );
    assert!(problem.detail.contains("20"), "{problem:?}");
    // A known endpoint may still be posted again.
    let (_, created) = bob.subscribe_push(&posted(&first)).await.unwrap();
    assert!(!created);
}
