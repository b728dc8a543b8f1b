//! `push`: offline recipients with one Web Push subscription each, to a
//! push service this process runs (`natter_test_services::push_service`:
//! it checks VAPID and decrypts every push, as a real one would), spread
//! over group chats with one sender who posts round-robin at a fixed rate.
//! Every message owes a push to each recipient of its group. Measured:
//! pushes per second the server gets accepted, the time from starting a
//! send to the push service taking its push, and the server's own
//! `natter_push_latency_seconds` (message stored -> push service answer).
//!
//! The spawned server needs push on and the local endpoints allowed:
//! `--server-env NATTER_PUSH__VAPID_SUBJECT=mailto:bench@example.com
//! --server-env NATTER_PUSH__ALLOW_INSECURE_ENDPOINTS=true` (an attached
//! server must have both settings).

use super::{Output, run_scenario};
use crate::cli::PushArgs;
use crate::report::PushResult;
use crate::setup::{BenchUser, create_groups, register_users};
use crate::stats::Latency;
use crate::usage::Watch;
use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use natter_client::{Client, Method};
use natter_proto::push::{NewPushSubscription, SubscriptionKeys};
use natter_test_services::push_service::PushService;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long a recipient's activation push may take during setup.
const ACTIVATION_PATIENCE: Duration = Duration::from_secs(60);
/// Sends in flight at once (a send waits for its store commit).
const SENDS_IN_FLIGHT: usize = 64;

pub async fn run(args: &PushArgs) -> anyhow::Result<()> {
    run_scenario(
        "push",
        args,
        &args.common,
        async |server, output, started| measure(args, server, output, started).await,
    )
    .await
}

async fn measure(
    args: &PushArgs,
    server: &crate::server::Server,
    output: &mut Output,
    started: Instant,
) -> anyhow::Result<()> {
    let base_urls = server.base_urls();
    let service = PushService::start().await;
    let anonymous = Client::new(base_urls[0].clone());
    let key = anonymous
        .vapid_key()
        .await
        .context("GET /api/v1/push/vapid: is push on (NATTER_PUSH__VAPID_SUBJECT)?")?;
    service.expect_vapid_key(&key);

    let users = register_users(
        &base_urls,
        1 + args.recipients,
        args.common.register_concurrency,
    )
    .await?;
    // Group g: the sender (user 0) and every recipient i with i % groups == g.
    let groups: Vec<Vec<usize>> = (0..args.groups)
        .map(|group| {
            std::iter::once(0)
                .chain((1..=args.recipients).filter(|i| (i - 1) % args.groups == group))
                .collect()
        })
        .collect();
    let chats = create_groups(&base_urls, &users, &groups, 8).await?;
    subscribe_all(&service, &base_urls, &users[1..]).await?;
    output.users = users.len();
    output.chats = chats.len();
    output.setup_secs = started.elapsed().as_secs_f64();

    let watch = Watch {
        servers: server.nodes.iter().map(|node| node.pid).collect(),
        clients: vec![std::process::id()],
        ticks_per_second: crate::procstat::clock_ticks_per_second(),
    };
    service.keep_log();
    let before = watch.snapshot();
    let sender = anonymous.with_token(users[0].token.clone());
    let sent_at = send_all(args, &sender, &chats).await?;
    let expected: u64 = (0..args.messages)
        .map(|n| (groups[n % groups.len()].len() - 1) as u64)
        .sum();
    let (log, last_at) = collect(&service, expected, Duration::from_secs(args.drain_secs)).await;
    let after = watch.snapshot();
    let usage = watch.usage(&before, &after, &watch.peak_sampler());

    let mut latency = Latency::default();
    let first_send = sent_at.values().min().copied();
    for push in &log {
        let message_id = push
            .json
            .as_ref()
            .and_then(|json| json["message_id"].as_str())
            .unwrap_or_default();
        if let Some(at) = sent_at.get(message_id) {
            latency.record(push.received_at.saturating_duration_since(*at).as_micros() as u64);
        }
    }
    let elapsed = match (first_send, last_at) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    output.push = Some(PushResult {
        messages_sent: sent_at.len() as u64,
        pushes_expected: expected,
        pushes_received: log.len() as u64,
        pushes_per_sec: if elapsed > 0.0 {
            log.len() as f64 / elapsed
        } else {
            0.0
        },
        send_to_push: latency.summary(),
        server_store_to_push_ms: server_quantiles(&anonymous).await,
        server_cpu_pct: usage.server_cpu_pct,
    });
    let violations = service.violations();
    if !violations.is_empty() {
        anyhow::bail!("the push service saw broken pushes: {violations:?}");
    }
    Ok(())
}

/// Subscribes every recipient to a new endpoint and activates it with the
/// token of its activation push.
async fn subscribe_all(
    service: &PushService,
    base_urls: &[String],
    recipients: &[BenchUser],
) -> anyhow::Result<()> {
    futures_util::stream::iter(recipients.iter().enumerate())
        .map(|(index, user)| async move {
            let client = Client::new(base_urls[index % base_urls.len()].clone())
                .with_token(user.token.clone());
            let endpoint = service.subscribe();
            let (stored, _) = client
                .subscribe_push(&NewPushSubscription {
                    endpoint: endpoint.endpoint.clone(),
                    keys: SubscriptionKeys {
                        p256dh: endpoint.p256dh.clone(),
                        auth: endpoint.auth.clone(),
                    },
                })
                .await
                .context("subscribing a recipient")?;
            let token = service
                .activation_token(&endpoint.endpoint, ACTIVATION_PATIENCE)
                .await;
            client
                .activate_push(&stored.subscription_id, &token)
                .await
                .context("activating a subscription")
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    eprintln!("{} recipients subscribed and activated", recipients.len());
    Ok(())
}

/// Sends the messages at the scheduled rate; returns when each send was
/// started, by message id.
async fn send_all(
    args: &PushArgs,
    sender: &Client,
    chats: &[String],
) -> anyhow::Result<HashMap<String, Instant>> {
    let sent_at = Arc::new(Mutex::new(HashMap::with_capacity(args.messages)));
    let slots = Arc::new(Semaphore::new(SENDS_IN_FLIGHT));
    let start = tokio::time::Instant::now();
    let mut sends = Vec::with_capacity(args.messages);
    for n in 0..args.messages {
        tokio::time::sleep_until(start + Duration::from_secs_f64(n as f64 / args.rate)).await;
        let slot = slots.clone().acquire_owned().await?;
        let (sender, chat, sent_at) = (
            sender.clone(),
            chats[n % chats.len()].clone(),
            sent_at.clone(),
        );
        sends.push(tokio::spawn(async move {
            let at = Instant::now();
            let ack = sender.send_text(&chat, &format!("push bench {n}")).await;
            drop(slot);
            let ack = ack.context("a send")?;
            sent_at
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .insert(ack.message_id, at);
            anyhow::Ok(())
        }));
    }
    for send in sends {
        send.await??;
    }
    let sent = std::mem::take(&mut *sent_at.lock().unwrap_or_else(|poison| poison.into_inner()));
    eprintln!("{} messages sent", sent.len());
    Ok(sent)
}

/// The pushes the service accepted until `expected` arrived or `drain`
/// passed without one, and when the last one came.
async fn collect(
    service: &PushService,
    expected: u64,
    drain: Duration,
) -> (
    Vec<natter_test_services::push_service::Received>,
    Option<Instant>,
) {
    let mut log = Vec::new();
    let mut quiet_since = Instant::now();
    while (log.len() as u64) < expected && quiet_since.elapsed() < drain {
        let batch = service.take_log();
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        } else {
            quiet_since = Instant::now();
            log.extend(batch);
        }
    }
    let last = log.iter().map(|push| push.received_at).max();
    (log, last)
}

/// `natter_push_latency_seconds{quantile=...}` from the server's
/// `/metrics`, in milliseconds (the server's whole life: the activation
/// pushes of the setup are in it too).
async fn server_quantiles(client: &Client) -> Vec<(String, f64)> {
    let Ok(metrics) = client.raw(Method::GET, "/metrics", None, None).await else {
        return Vec::new();
    };
    String::from_utf8_lossy(&metrics.body)
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("natter_push_latency_seconds{quantile=\"")?;
            let (quantile, value) = rest.split_once("\"} ")?;
            Some((
                quantile.to_owned(),
                value.trim().parse::<f64>().ok()? * 1000.0,
            ))
        })
        .collect()
}
