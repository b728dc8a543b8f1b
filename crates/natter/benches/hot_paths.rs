//! Criterion benchmarks of the server's hot paths (`cargo bench -p natter
//! --bench hot_paths`):
//!
//! - `encode`: one `message.new` event to its JSON text frame, done once
//!   per event whatever the number of recipients;
//! - `fanout`: one encoded frame routed to N connections the way the
//!   router does it (chat -> local users -> their outboxes), then drained
//!   the way each connection task does;
//! - `store_append`: durable appends into a fresh SQLite store (every
//!   answer after a real fsync of the log, in a temporary directory), K
//!   appenders at once so the writer's group commit batches them.
//!
//! These measure code, not the machine's limits: the end-to-end figures
//! come from `natter-bench` (see BENCHMARKS.md).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use natter_bus::encode;
use natter_config::StoreSettings;
use natter_proto::Timestamp;
use natter_proto::chats::{ChatType, Role};
use natter_proto::events::ServerEvent;
use natter_proto::messages::{Message, MessageStatus, MessageType, Metadata};
use natter_server::gateway::outbox::{Drained, Outbox};
use natter_store::{NewChat, NewMessage, NewUser, Store};
use natter_store_sqlite::SqliteStore;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn message(content_len: usize) -> Message {
    Message {
        message_id: "0195f3a2-7c1e-7d2a-9b1e-3f5a6b7c8d9e".into(),
        chat_id: "0195f3a2-7c1e-7d2a-9b1e-000000000001".into(),
        seq: 123_456,
        version: 123_460,
        sender_id: "0195f3a2-7c1e-7d2a-9b1e-0000000000aa".into(),
        message_type: MessageType::Text,
        content: "x".repeat(content_len),
        file: None,
        metadata: Metadata::default(),
        reactions: Vec::new(),
        status: MessageStatus::Sent,
        created_at: Timestamp(1_774_000_000_123),
        edited_at: None,
        deleted: false,
        client_msg_id: Some("1774000000123456-0-1-42".into()),
        hidden: false,
    }
}

fn encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for content_len in [100, 1000] {
        let event = ServerEvent::MessageNew {
            message: message(content_len),
        };
        group.bench_with_input(
            BenchmarkId::new("message.new", content_len),
            &event,
            |b, event| b.iter(|| encode(black_box(event))),
        );
    }
    group.finish();
}

/// The router's tables for one chat with `members` local users, one
/// connection each.
struct Tables {
    chat_users: HashSet<String>,
    routes: HashMap<String, Vec<Arc<Outbox>>>,
}

fn tables(members: usize) -> Tables {
    let mut chat_users = HashSet::new();
    let mut routes = HashMap::new();
    for member in 0..members {
        let user_id = format!("0195f3a2-7c1e-7d2a-9b1e-{member:012}");
        chat_users.insert(user_id.clone());
        routes.insert(user_id, vec![Arc::new(Outbox::new(1024))]);
    }
    Tables { chat_users, routes }
}

fn fanout(c: &mut Criterion) {
    // As the router holds it: the publisher's bytes, checked once.
    let frame = axum::extract::ws::Utf8Bytes::try_from(encode(&ServerEvent::MessageNew {
        message: message(100),
    }))
    .expect("UTF-8");
    let mut group = c.benchmark_group("fanout");
    for members in [100, 5000] {
        let tables = tables(members);
        group.throughput(Throughput::Elements(members as u64));
        group.bench_function(BenchmarkId::new("route_and_drain", members), |b| {
            b.iter(|| {
                for user_id in &tables.chat_users {
                    if let Some(outboxes) = tables.routes.get(user_id) {
                        for outbox in outboxes {
                            outbox.push(frame.clone());
                        }
                    }
                }
                let mut frames = VecDeque::new();
                for outboxes in tables.routes.values() {
                    for outbox in outboxes {
                        assert_eq!(
                            outbox.drain_into(&mut frames),
                            Drained::Frames,
                            "drained every round"
                        );
                        black_box(&frames);
                        frames.clear();
                    }
                }
            })
        });
    }
    group.finish();
}

/// Chats the appends spread over (appends to one chat serialise on its
/// `seq`; real traffic spreads over many chats).
const CHATS: usize = 64;

async fn seeded_store(dir: &std::path::Path) -> (Arc<dyn Store>, Vec<(String, String)>) {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &dir.join("bench.db"),
            &StoreSettings::default(),
            natter_store::commit_channel().0,
        )
        .await
        .expect("a store"),
    );
    let mut chats = Vec::new();
    for index in 0..CHATS {
        let user_id = format!("user-{index}");
        store
            .create_user(NewUser {
                id: user_id.clone(),
                username: format!("bench{index}"),
                display_name: format!("Bench {index}"),
                password_hash: "x".into(),
                created_at: 1,
            })
            .await
            .expect("a user");
        let chat_id = format!("chat-{index}");
        store
            .create_chat(NewChat {
                e2ee: false,
                id: chat_id.clone(),
                chat_type: ChatType::Group,
                name: Some(format!("bench {index}")),
                created_by: user_id.clone(),
                created_at: 1,
                direct_key: None,
                members: vec![(user_id.clone(), Role::Owner)],
            })
            .await
            .expect("a chat");
        chats.push((chat_id, user_id));
    }
    (store, chats)
}

fn store_append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, chats) = runtime.block_on(seeded_store(dir.path()));
    let next_id = Arc::new(AtomicU64::new(0));
    let content = "x".repeat(100);
    let mut group = c.benchmark_group("store_append");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for appenders in [1usize, 16, 256] {
        group.throughput(Throughput::Elements(appenders as u64));
        group.bench_function(BenchmarkId::new("concurrent", appenders), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let mut tasks = Vec::with_capacity(appenders);
                        for _ in 0..appenders {
                            let id = next_id.fetch_add(1, Ordering::Relaxed) as usize;
                            let (chat_id, sender_id) = chats[id % CHATS].clone();
                            let (store, content) = (store.clone(), content.clone());
                            tasks.push(tokio::spawn(async move {
                                store
                                    .append_message(NewMessage {
                                        id: format!("message-{id}"),
                                        chat_id,
                                        sender_id,
                                        message_type: MessageType::Text,
                                        content,
                                        file_id: None,
                                        metadata: Metadata::default(),
                                        client_msg_id: None,
                                        created_at: 2,
                                        owes_push: false,
                                        mls_epoch: None,
                                    })
                                    .await
                                    .expect("an append")
                            }));
                        }
                        for task in tasks {
                            black_box(task.await.expect("an appender"));
                        }
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
    runtime.block_on(store.close());
}

criterion_group!(benches, encoding, fanout, store_append);
criterion_main!(benches);
