//! The push queue outlives the process, and a cluster sends each push
//! once: a push that failed before a SIGKILL is delivered after the
//! restart; two nodes polling the same PostgreSQL queue never both send
//! one.

use crate::cluster_support::{Cluster, register};
use crate::helpers::{WAIT, direct, eventually, group, send};
use crate::process::launch;
use natter_client::{Client, Method};
use natter_test_services::push_service::PushService;

/// What turns push on and lets it reach the local push service.
const PUSH_ENV: [(&str, &str); 4] = [
    ("NATTER_PUSH__VAPID_SUBJECT", "mailto:ops@example.com"),
    ("NATTER_PUSH__ALLOW_INSECURE_ENDPOINTS", "true"),
    ("NATTER_PUSH__REQUEST_TIMEOUT_MS", "2000"),
    ("NATTER_PUSH__CONCURRENCY", "1"),
];

/// Subscribes `client`'s device to a new endpoint of `service`, activated.
async fn subscribed(service: &PushService, client: &Client) -> String {
    crate::push::subscribed(service, client).await.0.endpoint
}

/// The value of a Prometheus counter line that starts with `series`.
async fn counter(client: &Client, series: &str) -> f64 {
    let metrics = client
        .raw(Method::GET, "/metrics", None, None)
        .await
        .expect("metrics");
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_queued_when_the_server_is_killed_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (data, log) = (dir.path().join("data"), dir.path().join("natter.log"));
    let service = PushService::start().await;
    let mut server = launch(&data, &log, &PUSH_ENV).await;
    let key = Client::new(server.base_url().to_owned())
        .vapid_key()
        .await
        .unwrap();
    service.expect_vapid_key(&key);
    let (alice, _) = register(server.base_url(), "alice").await;
    let (bob, bob_auth) = register(server.base_url(), "bob").await;
    let chat_id = direct(&alice, &bob_auth).await.summary.chat_id;
    let endpoint = subscribed(&service, &bob).await;

    // The push service refuses for now: the push waits in the queue.
    service.fail_next(&endpoint, 503, usize::MAX, None);
    send(&alice, &chat_id, "survive this").await;
    let metrics = Client::new(server.base_url().to_owned());
    eventually("a refused attempt", WAIT, || async {
        (counter(&metrics, r#"natter_push_sent_total{result="retry"}"#).await >= 1.0).then_some(())
    })
    .await;
    server.kill();
    assert_eq!(service.accepted_count(&endpoint), 1, "only the activation");

    service.recover(&endpoint);
    let _server = launch(&data, &log, &PUSH_ENV).await;
    let pushes = service.wait_for(&endpoint, 1, WAIT * 3).await;
    assert_eq!(pushes[0].json.as_ref().unwrap()["body"], "survive this");
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_queue_push_each_message_once() {
    let cluster = Cluster::start_configured(2, &PUSH_ENV).await;
    let service = PushService::start().await;
    // One VAPID identity for the cluster: whichever node pushes, the
    // service sees the key the browser subscribed with.
    let key = Client::new(cluster.url(0)).vapid_key().await.unwrap();
    assert_eq!(Client::new(cluster.url(1)).vapid_key().await.unwrap(), key);
    service.expect_vapid_key(&key);
    let (alice, _) = register(&cluster.url(0), "alice").await;
    let (bob, bob_auth) = register(&cluster.url(1), "bob").await;
    let endpoint = subscribed(&service, &bob).await;
    // One chat per message: distinct Topics, so no push replaces another
    // and every one is counted.
    let mut bodies = Vec::new();
    for n in 0..6 {
        let chat_id = group(&alice, &format!("Room {n}"), &[&bob_auth])
            .await
            .summary
            .chat_id;
        let body = format!("message {n}");
        send(&alice, &chat_id, &body).await;
        bodies.push(body);
    }
    let pushes = service.wait_for(&endpoint, bodies.len(), WAIT).await;
    let mut got: Vec<String> = pushes
        .iter()
        .map(|push| {
            push.json.as_ref().unwrap()["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    got.sort();
    assert_eq!(got, bodies);
    // A last one through the other node. A row handed to both nodes would
    // be sent by both within milliseconds, long before this one is in
    // (a claim's lease, 12 s here, is what keeps a row one node's).
    let last = group(&alice, "Last", &[&bob_auth]).await.summary.chat_id;
    let alice_on_1 = Client::new(cluster.url(1)).with_token(alice.token().unwrap().to_owned());
    send(&alice_on_1, &last, "the end").await;
    service.wait_for(&endpoint, 1, WAIT).await;
    assert_eq!(service.accepted_count(&endpoint), 1 + bodies.len() + 1);
    assert_eq!(service.violations(), Vec::<String>::new());
}
