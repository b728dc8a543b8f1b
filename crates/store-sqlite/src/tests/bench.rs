//! A throughput benchmark of the write path (ignored by default).

use super::*;
use natter_store::contract::{Fixture as _, text};
use natter_store::{Chats, Messages};
use std::time::{Duration, Instant};

/// Throughput of durable appends from many concurrent senders. Run with
/// `cargo test --release -p natter --lib append_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn append_throughput() {
    let f = Fixture::new().await;
    let senders = 200;
    let per_sender = 100;
    let names: Vec<String> = (0..senders).map(|i| format!("u{i}")).collect();
    f.store
        .users(&names.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    for chat in 0..10 {
        let members: Vec<&str> = names
            .iter()
            .skip(chat)
            .step_by(10)
            .map(String::as_str)
            .collect();
        f.store.group(&format!("g{chat}"), &members, 1).await;
    }
    let store = f.store.clone();
    let cpu_before = cpu_time();
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..per_sender {
                    // Time-ordered ids, as UUIDv7 ones are.
                    let id = format!("{n:08}-{i:04}");
                    let mut message = text(
                        &id,
                        &format!("g{}", i % 10),
                        &format!("u{i}"),
                        "some words",
                        n,
                    );
                    message.client_msg_id = Some(format!("c{n}"));
                    store.append_message(message).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let total = senders * per_sender;
    println!(
        "{total} appends in {elapsed:?}: {:.0}/s",
        total as f64 / elapsed.as_secs_f64()
    );
    let cpu = cpu_time() - cpu_before;
    println!(
        "process CPU per append: {:.1} µs",
        cpu.as_secs_f64() * 1e6 / total as f64
    );
    let last: i64 = futures_util::future::join_all((0..10).map(|c| {
        let store = store.clone();
        async move {
            store
                .chat(&format!("g{c}"))
                .await
                .unwrap()
                .unwrap()
                .last_seq
        }
    }))
    .await
    .iter()
    .sum();
    assert_eq!(last, total);
}

/// User plus system CPU time of this process so far (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or("", |(_, rest)| rest)
        .split(' ')
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    // The kernel reports clock ticks, 100 per second on Linux.
    Duration::from_millis(ticks * 10)
}
