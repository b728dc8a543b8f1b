//! The cluster under faults, checked end to end: three nodes behind a
//! [`Balancer`], writers sending through it (a send that fails is retried
//! with the same `client_msg_id`, wherever the balancer sends it next),
//! readers on realtime clients through it, and a node killed with SIGKILL
//! and started again, over and over. The checker then asserts, per chat:
//! every acknowledged message is stored exactly once (by id and by
//! `client_msg_id`), the stored `seq`s are 1..N without gaps, and every
//! reader ends holding every `seq`, each once, in order.
//!
//! Bounded: `NATTER_FAULT_CYCLES` kill cycles (default 8; the SO1 figure
//! in BENCHMARKS.md uses 100), a few messages per second per writer.
//!
//! Beside it, one fault at a time with a member's socket on another node:
//! a NATS server of three killed and restarted, a node paused (SIGSTOP)
//! past its death sentence and resumed, the database crashed and
//! restarted (a private `initdb` instance, never the machine's shared
//! server); and the interest check: only a node with a member online
//! subscribes to a chat.

use crate::balancer::Balancer;
use crate::cluster_support::{Cluster, NatsServer, PrivatePostgres, register, start_cluster};
use crate::helpers::{group, new_messages, realtime_options};
use crate::resume::{connected, realtime};
use natter_client::ws::{Connection, RealtimeClient, RealtimeEvent};
use natter_client::{Client, HistoryQuery};
use natter_proto::auth::AuthResponse;
use natter_proto::messages::{Message, SendAck, SendMessage};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

const WRITERS: usize = 4;
const READERS: usize = 2;
const CHATS: usize = 3;
/// How long a send may keep failing (its node died, the next one is still
/// starting) before the test gives up on the cluster.
const SEND_PATIENCE: Duration = Duration::from_secs(60);
/// How long readers may take to hold everything once the faults stop.
const CONVERGENCE: Duration = Duration::from_secs(60);

fn cycles() -> usize {
    std::env::var("NATTER_FAULT_CYCLES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(8)
}

/// A send retried with the same `client_msg_id` until it is acknowledged.
async fn send_until_acknowledged(client: &Client, message: &SendMessage) -> SendAck {
    let until = tokio::time::Instant::now() + SEND_PATIENCE;
    loop {
        match client.send(message).await {
            Ok(ack) => return ack,
            Err(error) => {
                // A refusal would be a bug, not a fault: only transport
                // errors and 503s are retried.
                if let Some(status) = error.status() {
                    assert!(status >= 500, "a send was refused with {status}: {error}");
                }
                assert!(
                    tokio::time::Instant::now() < until,
                    "a send kept failing for {SEND_PATIENCE:?}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|message| message.seq).collect()
}

/// What one writer had acknowledged: `(chat, client_msg_id) -> ack`.
type Acked = Vec<(String, String, SendAck)>;

fn writer(
    client: Client,
    number: usize,
    chats: Arc<Vec<String>>,
    running: Arc<AtomicBool>,
) -> JoinHandle<Acked> {
    tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut n = 0;
        while running.load(Ordering::Relaxed) {
            let chat_id = chats[n % chats.len()].clone();
            let client_msg_id = format!("w{number}-{n}");
            let message = SendMessage {
                client_msg_id: Some(client_msg_id.clone()),
                ..natter_client::text_message(&chat_id, &format!("writer {number} message {n}"))
            };
            let ack = send_until_acknowledged(&client, &message).await;
            acked.push((chat_id, client_msg_id, ack));
            n += 1;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        acked
    })
}

/// Every message a reader was given, per chat, in delivery order.
type Delivered = HashMap<String, Vec<i64>>;

/// What a reader saw: its messages, and how long each of its
/// reconnections took (from losing its node to `ready` on another, every
/// gap it revealed delivered).
struct Read {
    delivered: Delivered,
    reconnections: Vec<Duration>,
}

/// Reads until told to stop, then until it holds `expected` (per chat,
/// the last `seq`) or the convergence deadline passes.
fn reader(
    mut client: RealtimeClient,
    stop: tokio::sync::watch::Receiver<Option<HashMap<String, i64>>>,
) -> JoinHandle<Read> {
    tokio::spawn(async move {
        let mut delivered: Delivered = HashMap::new();
        let mut reconnections = Vec::new();
        let mut cut_off = None;
        let mut deadline = None;
        loop {
            let expected = stop.borrow().clone();
            if let Some(expected) = &expected {
                let complete = expected.iter().all(|(chat_id, last)| {
                    delivered.get(chat_id).and_then(|seqs| seqs.last()) == Some(last)
                });
                if complete {
                    return Read {
                        delivered,
                        reconnections,
                    };
                }
                let until =
                    *deadline.get_or_insert_with(|| tokio::time::Instant::now() + CONVERGENCE);
                if tokio::time::Instant::now() >= until {
                    return Read {
                        delivered,
                        reconnections,
                    };
                }
            }
            match tokio::time::timeout(Duration::from_millis(200), client.next_event()).await {
                Ok(Some(RealtimeEvent::Message(message))) => delivered
                    .entry(message.chat_id.clone())
                    .or_default()
                    .push(message.seq),
                Ok(Some(RealtimeEvent::Disconnected { .. })) => {
                    cut_off.get_or_insert_with(tokio::time::Instant::now);
                }
                Ok(Some(RealtimeEvent::Connected { .. })) => {
                    if let Some(since) = cut_off.take() {
                        reconnections.push(since.elapsed());
                    }
                }
                Ok(Some(RealtimeEvent::Stopped { reason })) => {
                    panic!("a reader's client stopped: {reason}")
                }
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => {
                    return Read {
                        delivered,
                        reconnections,
                    };
                }
            }
        }
    })
}

/// The whole history of `chat_id`, oldest first.
async fn full_history(client: &Client, chat_id: &str) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    loop {
        let after = messages.last().map_or(0, |message| message.seq);
        let page = client
            .messages(chat_id, &HistoryQuery::new().after_seq(after).limit(200))
            .await
            .expect("a history page");
        let done = !page.has_more;
        messages.extend(page.messages);
        if done {
            return messages;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_nodes_under_load_loses_no_acknowledged_message_and_leaves_no_gap() {
    let mut cluster = Cluster::start(3).await;
    let urls = |cluster: &Cluster| -> Vec<String> {
        (0..cluster.len())
            .filter(|node| cluster.is_up(*node))
            .map(|node| cluster.url(node))
            .collect()
    };
    let balancer = Balancer::start(&urls(&cluster)).await;
    let base = balancer.base_url();

    let mut writers = Vec::new();
    for number in 0..WRITERS {
        writers.push(register(&base, &format!("writer{number}")).await);
    }
    let mut readers = Vec::new();
    for number in 0..READERS {
        readers.push(register(&base, &format!("reader{number}")).await);
    }
    let owner = &writers[0].0;
    let members: Vec<&AuthResponse> = writers
        .iter()
        .skip(1)
        .chain(readers.iter())
        .map(|(_, auth)| auth)
        .collect();
    let mut chats = Vec::new();
    for number in 0..CHATS {
        chats.push(
            group(owner, &format!("chat{number}"), &members)
                .await
                .summary
                .chat_id,
        );
    }
    let chats = Arc::new(chats);

    let (stop, stopped) = tokio::sync::watch::channel(None);
    // Each reader is connected (its chats known from seq 0 on) before
    // anything is sent.
    let mut reader_tasks = Vec::new();
    for (_, auth) in &readers {
        let mut client = realtime(&base, auth, realtime_options());
        connected(&mut client).await;
        reader_tasks.push(reader(client, stopped.clone()));
    }
    let running = Arc::new(AtomicBool::new(true));
    let writer_tasks: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(number, (client, _))| writer(client.clone(), number, chats.clone(), running.clone()))
        .collect();

    for cycle in 0..cycles() {
        tokio::time::sleep(Duration::from_millis(400 + (cycle as u64 * 137) % 600)).await;
        let victim = (cycle * 7 + 1) % cluster.len();
        cluster.kill(victim);
        balancer.set_targets(&urls(&cluster));
        cluster.restart(victim).await;
        balancer.set_targets(&urls(&cluster));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::Relaxed);
    let mut acked = Vec::new();
    for task in writer_tasks {
        acked.extend(task.await.expect("a writer"));
    }

    // What is stored: every acknowledged message once, seqs 1..N.
    let mut last_seqs = HashMap::new();
    for chat_id in chats.iter() {
        let stored = full_history(owner, chat_id).await;
        let seqs: Vec<i64> = stored.iter().map(|message| message.seq).collect();
        let expected: Vec<i64> = (1..=stored.len() as i64).collect();
        assert_eq!(seqs, expected, "chat {chat_id}: seqs with gaps or repeats");
        let mut by_client_msg_id = HashSet::new();
        for message in &stored {
            if let Some(id) = &message.client_msg_id {
                assert!(
                    by_client_msg_id.insert(id.clone()),
                    "client_msg_id {id} stored twice in {chat_id}"
                );
            }
        }
        let ids: BTreeMap<&str, i64> = stored
            .iter()
            .map(|message| (message.message_id.as_str(), message.seq))
            .collect();
        for (_, client_msg_id, ack) in acked.iter().filter(|(chat, _, _)| chat == chat_id) {
            assert_eq!(
                ids.get(ack.message_id.as_str()),
                Some(&ack.seq),
                "acknowledged {client_msg_id} is not stored as acknowledged\n{}",
                cluster.logs()
            );
        }
        last_seqs.insert(chat_id.clone(), stored.len() as i64);
    }
    assert!(
        acked.len() >= WRITERS,
        "the writers got almost nothing through: {}",
        acked.len()
    );

    // What readers hold: every seq once, in order.
    stop.send(Some(last_seqs.clone())).expect("readers listen");
    let mut reconnections = Vec::new();
    for task in reader_tasks {
        let read = task.await.expect("a reader");
        reconnections.extend(read.reconnections);
        for (chat_id, last) in &last_seqs {
            let seqs = read.delivered.get(chat_id).cloned().unwrap_or_default();
            assert_eq!(
                seqs,
                (1..=*last).collect::<Vec<_>>(),
                "a reader's messages of {chat_id}\n{}",
                cluster.logs()
            );
        }
    }
    reconnections.sort();
    let percentile = |p: usize| {
        reconnections
            .get((reconnections.len() * p / 100).min(reconnections.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    // The figures BENCHMARKS.md quotes (SO1, SO2).
    eprintln!(
        "cluster faults: {} kill cycles, {} acknowledged, {} stored, 0 lost, 0 gaps, 0 duplicates; \
         {} reconnections, kill -> ready on another node p50 {:?} p99 {:?} max {:?}",
        cycles(),
        acked.len(),
        last_seqs.values().sum::<i64>(),
        reconnections.len(),
        percentile(50),
        percentile(99),
        reconnections.last().copied().unwrap_or_default()
    );
}

/// The members' sockets of a chat, one per node but the sender's.
async fn two_node_chat(cluster: &Cluster) -> (Client, String, Connection) {
    let (alice, _) = register(&cluster.url(0), "alice").await;
    let (_, bob) = register(&cluster.url(0), "bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let (socket, _) = Connection::open(&cluster.url(1), &bob.access_token)
        .await
        .expect("bob's socket on node 1");
    (alice, chat_id, socket)
}

async fn send_numbered(alice: &Client, chat_id: &str, numbers: std::ops::RangeInclusive<i64>) {
    for n in numbers {
        send_until_acknowledged(
            alice,
            &natter_client::text_message(chat_id, &format!("m{n}")),
        )
        .await;
    }
}

/// Rounds of each single fault (`NATTER_FAULT_ROUNDS`, default 2; the
/// SO9 figures in BENCHMARKS.md use 10 NATS kills, 5 database crashes and
/// 5 pauses of 20 s).
fn rounds() -> i64 {
    env_number("NATTER_FAULT_ROUNDS", 2)
}

fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Sends three numbered messages from `next` after a fault healed and
/// waits for bob's socket to hold them; returns how long that took (the
/// fault's "full delivery after it heals").
async fn three_more_arrive(
    alice: &Client,
    chat_id: &str,
    bob_socket: &mut Connection,
    next: i64,
    cluster: &Cluster,
) -> Duration {
    let healed = tokio::time::Instant::now();
    send_numbered(alice, chat_id, next..=next + 2).await;
    assert_eq!(
        seqs(&new_messages(bob_socket, chat_id, 3).await),
        (next..=next + 2).collect::<Vec<_>>(),
        "{}",
        cluster.logs()
    );
    healed.elapsed()
}

fn report(fault: &str, heal_to_delivery: &[Duration]) {
    let worst = heal_to_delivery.iter().max().copied().unwrap_or_default();
    eprintln!(
        "cluster faults: {fault} x{}: nothing lost; heal -> full delivery at most {worst:?}",
        heal_to_delivery.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_killed_under_the_nodes_loses_nothing_their_sockets_were_owed() {
    let mut cluster = Cluster::start_on(2, start_cluster(3).await).await;
    let (alice, chat_id, mut bob_socket) = two_node_chat(&cluster).await;
    send_numbered(&alice, &chat_id, 1..=3).await;
    assert_eq!(
        seqs(&new_messages(&mut bob_socket, &chat_id, 3).await),
        vec![1, 2, 3]
    );

    let mut heal_to_delivery = Vec::new();
    let mut next = 4;
    for round in 0..rounds() {
        // Each server in turn; node 1 was told server 1 first, node 0
        // server 0: both lose theirs in the first two rounds.
        let server = (round as usize + 1) % 3;
        cluster.nats[server].kill();
        // Sent while a server is gone: stored, and owed to bob.
        send_numbered(&alice, &chat_id, next..=next + 2).await;
        assert_eq!(
            seqs(&new_messages(&mut bob_socket, &chat_id, 3).await),
            (next..=next + 2).collect::<Vec<_>>(),
            "{}",
            cluster.logs()
        );
        cluster.nats[server].restart().await;
        heal_to_delivery
            .push(three_more_arrive(&alice, &chat_id, &mut bob_socket, next + 3, &cluster).await);
        next += 6;
    }
    report("NATS server kill", &heal_to_delivery);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_delivers_everything_once_it_runs_again() {
    let mut cluster = Cluster::start(2).await;
    let (alice, chat_id, mut bob_socket) = two_node_chat(&cluster).await;
    send_numbered(&alice, &chat_id, 1..=3).await;
    assert_eq!(
        seqs(&new_messages(&mut bob_socket, &chat_id, 3).await),
        vec![1, 2, 3]
    );

    // Paused for longer than the others wait before declaring it dead
    // (`NATTER_FAULT_PAUSE_SECS`, default 3).
    let pause = Duration::from_secs(env_number("NATTER_FAULT_PAUSE_SECS", 3) as u64);
    let mut heal_to_delivery = Vec::new();
    let mut next = 4;
    for _ in 0..rounds() {
        cluster.process(1).signal("STOP");
        send_numbered(&alice, &chat_id, next..=next + 2).await;
        tokio::time::sleep(pause).await;
        cluster.process(1).signal("CONT");
        let resumed = tokio::time::Instant::now();
        assert_eq!(
            seqs(&new_messages(&mut bob_socket, &chat_id, 3).await),
            (next..=next + 2).collect::<Vec<_>>(),
            "{}",
            cluster.logs()
        );
        heal_to_delivery.push(resumed.elapsed());
        next += 3;
    }
    report("node pause", &heal_to_delivery);
}

/// The subscriptions of every connection of a NATS server (`/connz`).
async fn nats_subscriptions(server: &NatsServer) -> Vec<Vec<String>> {
    let connz = server.monitor("connz?subs=1").await;
    connz["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|connection| {
            connection["subscriptions_list"]
                .as_array()
                .map(|subjects| {
                    subjects
                        .iter()
                        .filter_map(|subject| subject.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_nodes_with_a_member_online_subscribe_to_a_chat() {
    let cluster = Cluster::start(3).await;
    let (alice, chat_id, _bob_socket) = two_node_chat(&cluster).await;
    send_numbered(&alice, &chat_id, 1..=3).await;
    let subject = format!("natter.chat.{chat_id}");
    let subscribers = nats_subscriptions(&cluster.nats[0])
        .await
        .iter()
        .filter(|subjects| subjects.contains(&subject))
        .count();
    // Bob's socket is on node 1; nodes 0 (where alice only calls REST)
    // and 2 get nothing of this chat.
    assert_eq!(subscribers, 1, "nodes subscribed to {subject}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_crash_refuses_sends_while_it_lasts_and_loses_nothing_acknowledged() {
    let postgres = PrivatePostgres::start();
    let url = postgres.url();
    let postgres = Arc::new(postgres);
    let cluster = Cluster::start_with(
        2,
        vec![NatsServer::start().await],
        url,
        Box::new(postgres.clone()),
    )
    .await;
    let (alice, chat_id, mut bob_socket) = two_node_chat(&cluster).await;
    send_numbered(&alice, &chat_id, 1..=3).await;
    assert_eq!(
        seqs(&new_messages(&mut bob_socket, &chat_id, 3).await),
        vec![1, 2, 3]
    );

    let mut heal_to_delivery = Vec::new();
    let mut next = 4;
    for round in 0..rounds() {
        postgres.crash();
        // While it is down: sends are refused as unavailable, never
        // acknowledged, and the node says it is not ready.
        let refused = alice
            .send(&natter_client::text_message(&chat_id, "into the void"))
            .await
            .expect_err("a send acknowledged without a database");
        assert_eq!(refused.status(), Some(503), "{refused}");
        let ready = alice
            .raw(natter_client::Method::GET, "/readyz", None, None)
            .await
            .expect("an answer");
        assert_eq!(ready.status, 503, "round {round}: {}", ready.text());
        postgres.restart();
        heal_to_delivery
            .push(three_more_arrive(&alice, &chat_id, &mut bob_socket, next, &cluster).await);
        next += 3;
    }
    report("database crash", &heal_to_delivery);
    let stored = full_history(&alice, &chat_id).await;
    assert_eq!(seqs(&stored), (1..next).collect::<Vec<_>>());
}
