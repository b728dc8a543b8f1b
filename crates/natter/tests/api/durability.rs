//! Durability: what was acknowledged survives a graceful restart and a
//! SIGKILL in the middle of a send load, exactly once, with `seq` still
//! gap-free, and the SQLite file passes `PRAGMA integrity_check`.

use crate::helpers::{TestServer, eventually, group, history, send, summary};
use crate::process::{ServerProcess, launch};
use natter_client::{Client, ClientError, SearchQuery, text_message};
use natter_proto::auth::{AuthResponse, RegisterRequest};
use natter_proto::chats::{ChatType, CreateChat};
use natter_proto::messages::SendAck;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

const SENDERS: usize = 4;
const PER_SENDER: usize = 100;
/// Acknowledged sends after which the first process is killed.
const KILL_AFTER: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_graceful_restart() {
    let mut server = TestServer::spawn().await;
    let (alice, _) = server.user("alice").await;
    let (bob, bob_auth) = server.user("bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let first = send(&alice, &chat_id, "before the restart").await;
    send(&alice, &chat_id, "second").await;
    bob.add_reaction(&first.message_id, "👍").await.unwrap();
    bob.mark_read(&chat_id, 1).await.unwrap();
    let before = history(&alice, &chat_id).await;

    server.restart().await;
    let alice = alice.with_base_url(server.base_url());
    let bob = bob.with_base_url(server.base_url());
    assert_eq!(
        bob.me().await.unwrap().username,
        "bob",
        "access tokens stay valid"
    );
    assert_eq!(history(&alice, &chat_id).await, before);
    let entry = summary(&bob, &chat_id).await;
    assert_eq!(
        (entry.last_seq, entry.read_seq, entry.unread_count),
        (2, 1, 1)
    );
    let found = alice.search(&SearchQuery::new("restart")).await.unwrap();
    assert_eq!(found.results.len(), 1);
    assert_eq!(send(&alice, &chat_id, "after").await.seq, 3);
    assert!(
        server
            .client()
            .login("alice", crate::helpers::PASSWORD)
            .await
            .is_ok()
    );
}

async fn start(data_dir: &Path, log: &Path) -> ServerProcess {
    launch(data_dir, log, &[]).await
}

async fn register(client: &Client, username: &str) -> AuthResponse {
    let request = RegisterRequest {
        username: username.to_owned(),
        password: crate::helpers::PASSWORD.to_owned(),
        display_name: None,
        device_name: None,
    };
    client.register(&request).await.expect("register")
}

/// Sends `s{sender}-{i}` for every `i`, retrying each until acknowledged
/// with the same `client_msg_id`, always against the current address.
async fn sender_loop(
    client: Client,
    chat_id: String,
    sender: usize,
    base_url: Arc<RwLock<String>>,
    acked: Arc<AtomicUsize>,
) -> Vec<(String, SendAck)> {
    let until = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut acks = Vec::with_capacity(PER_SENDER);
    for i in 0..PER_SENDER {
        let client_msg_id = format!("s{sender}-{i}");
        let mut message = text_message(&chat_id, &client_msg_id);
        message.client_msg_id = Some(client_msg_id.clone());
        loop {
            let url = base_url.read().expect("url lock").clone();
            match client.with_base_url(url).send(&message).await {
                Ok(ack) => {
                    acked.fetch_add(1, Ordering::SeqCst);
                    acks.push((client_msg_id, ack));
                    break;
                }
                // The server is gone or restarting: retry the same message.
                Err(ClientError::Http(_)) | Err(ClientError::Decode(_)) => {}
                Err(error @ ClientError::Api { status, .. }) => {
                    assert!(status >= 500, "{client_msg_id}: not retryable: {error}");
                }
            }
            assert!(
                tokio::time::Instant::now() < until,
                "{client_msg_id}: no ack in time"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    acks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_sigkill_exactly_once_and_without_gaps() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let data_dir = temp.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let mut first = start(&data_dir, &temp.path().join("first.log")).await;
    let anonymous = Client::new(first.base_url());

    let owner = register(&anonymous, "owner").await;
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        senders.push(register(&anonymous, &format!("sender{k}")).await);
    }
    let owner_client = anonymous.with_token(owner.access_token.clone());
    let request = CreateChat {
        e2ee: false,
        chat_type: ChatType::Group,
        name: Some("load".into()),
        member_ids: senders.iter().map(|s| s.user.user_id.clone()).collect(),
    };
    let chat_id = owner_client
        .create_chat(&request)
        .await
        .unwrap()
        .summary
        .chat_id;

    let base_url = Arc::new(RwLock::new(first.base_url().to_owned()));
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(k, auth)| {
            let client = anonymous.with_token(auth.access_token.clone());
            let loop_future =
                sender_loop(client, chat_id.clone(), k, base_url.clone(), acked.clone());
            tokio::spawn(loop_future)
        })
        .collect();

    let counter = acked.clone();
    eventually("enough acknowledged sends", Duration::from_secs(60), || {
        let n = counter.load(Ordering::SeqCst);
        async move { (n >= KILL_AFTER).then_some(()) }
    })
    .await;
    first.kill();
    let acked_at_kill = acked.load(Ordering::SeqCst);
    println!(
        "killed after {acked_at_kill} of {} acknowledged sends",
        SENDERS * PER_SENDER
    );
    let second = start(&data_dir, &temp.path().join("second.log")).await;
    *base_url.write().unwrap() = second.base_url().to_owned();

    let mut acks: HashMap<String, SendAck> = HashMap::new();
    for task in tasks {
        for (client_msg_id, ack) in task.await.expect("sender task") {
            assert!(acks.insert(client_msg_id, ack).is_none());
        }
    }
    assert!(
        acked_at_kill < SENDERS * PER_SENDER,
        "the kill came during the load"
    );
    assert_eq!(acks.len(), SENDERS * PER_SENDER);

    let owner_client = owner_client.with_base_url(second.base_url());
    let stored = history(&owner_client, &chat_id).await;
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    let expected: Vec<i64> = (1..=(SENDERS * PER_SENDER) as i64).collect();
    assert_eq!(seqs, expected, "seq is 1..N without gap or duplicate");
    let mut seen = HashSet::new();
    for message in &stored {
        assert!(
            seen.insert(message.content.clone()),
            "duplicate {}",
            message.content
        );
        let ack = acks
            .get(&message.content)
            .unwrap_or_else(|| panic!("stored message {:?} was never sent", message.content));
        assert_eq!(
            (&ack.message_id, ack.seq),
            (&message.message_id, message.seq)
        );
    }
    assert_eq!(
        seen.len(),
        acks.len(),
        "every acknowledged message is stored"
    );

    let mut second = second;
    let graceful = second.terminate();
    let report = natter_store_sqlite::integrity_check(&data_dir.join("natter.db"))
        .await
        .expect("integrity check runs");
    assert_eq!(
        report,
        "ok",
        "after SIGTERM (graceful: {graceful}); log:\n{}",
        second.log_tail()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_its_address_and_serves_requests() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let process = start(temp.path(), &temp.path().join("natter.log")).await;
    assert!(
        process.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        process.base_url()
    );
    let client = Client::new(process.base_url());
    let response = client
        .raw(natter_client::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(
        response.map(|r| r.status).ok(),
        Some(200),
        "log:\n{}",
        process.log_tail()
    );
}
