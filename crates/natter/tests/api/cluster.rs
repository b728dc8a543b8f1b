//! natter as a cluster (`../shared/API.md`, "Cluster"): several `natter
//! serve` processes on one PostgreSQL database, one NATS and one file
//! directory ([`Cluster`]). Any node serves any request; a message sent
//! on one node reaches sockets on the others in `seq` order; tokens and
//! file links made by one node work on every other; a client resumes on
//! another node after its node died; retried sends are stored once;
//! presence is cluster-wide and a dead node's users go offline; what a
//! dying node acknowledged still reaches the members on other nodes.

use crate::balancer::Balancer;
use crate::cluster_support::{Cluster, register};
use crate::fixtures;
use crate::helpers::{
    WAIT, eventually, group, history, new_messages, realtime_messages_until, realtime_options, send,
};
use crate::resume::{connected, realtime};
use natter_client::Client;
use natter_client::ws::Connection;
use natter_proto::auth::AuthResponse;
use natter_proto::messages::{Message, SendMessage};
use natter_proto::users::PresenceStatus;
use std::time::Duration;

/// Registers `username` through node `node`; a client of that node with
/// its token.
async fn user(cluster: &Cluster, node: usize, username: &str) -> (Client, AuthResponse) {
    register(&cluster.url(node), username).await
}

async fn socket(cluster: &Cluster, node: usize, auth: &AuthResponse) -> Connection {
    let (socket, _ready) = Connection::open(&cluster.url(node), &auth.access_token)
        .await
        .unwrap_or_else(|error| panic!("a socket on node {node}: {error}\n{}", cluster.logs()));
    socket
}

fn seqs(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|message| message.seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_on_one_node_reaches_sockets_on_the_others_in_seq_order() {
    let cluster = Cluster::start(3).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let (_, bob) = user(&cluster, 1, "bob").await;
    let (_, carol) = user(&cluster, 2, "carol").await;
    let chat_id = group(&alice, "team", &[&bob, &carol]).await.summary.chat_id;
    // Tokens are signed with the cluster's one secret: bob's and carol's
    // sockets are on nodes that did not issue their tokens.
    let mut bob_socket = socket(&cluster, 2, &bob).await;
    let mut carol_socket = socket(&cluster, 1, &carol).await;

    for n in 1..=20 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    let expected: Vec<i64> = (1..=20).collect();
    assert_eq!(
        seqs(&new_messages(&mut bob_socket, &chat_id, 20).await),
        expected
    );
    assert_eq!(
        seqs(&new_messages(&mut carol_socket, &chat_id, 20).await),
        expected
    );
    // Every node reads the same history.
    for node in 0..cluster.len() {
        let reader = alice.with_base_url(cluster.url(node));
        assert_eq!(seqs(&history(&reader, &chat_id).await), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_on_one_node_is_served_by_another_through_its_link() {
    let cluster = Cluster::start(2).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let png = fixtures::png(64, 48);
    let file = alice
        .upload_file("dot.png", &png, "image/png")
        .await
        .expect("uploaded on node 0");
    let url = file.url;
    let other_node = Client::new(cluster.url(1));
    let response = other_node.download(&url).await.expect("fetched on node 1");
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(!response.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_node_dies_resumes_on_another_with_exactly_the_messages_it_missed() {
    let mut cluster = Cluster::start(3).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let (_, bob_auth) = user(&cluster, 0, "bob").await;
    let chat_id = group(&alice, "team", &[&bob_auth]).await.summary.chat_id;
    let balancer = Balancer::start(&[cluster.url(1)]).await;
    let mut bob = realtime(&balancer.base_url(), &bob_auth, realtime_options());
    connected(&mut bob).await;

    for n in 1..=5 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    let mut delivered = realtime_messages_until(&mut bob, &chat_id, 5).await;
    // Bob's node dies; the balancer sends his reconnect to another node.
    cluster.kill(1);
    balancer.set_targets(&[cluster.url(2)]);
    for n in 6..=10 {
        send(&alice, &chat_id, &format!("m{n}")).await;
    }
    delivered.extend(realtime_messages_until(&mut bob, &chat_id, 10).await);
    assert_eq!(seqs(&delivered), (1..=10).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_retried_on_another_node_with_the_same_client_msg_id_is_stored_once() {
    let cluster = Cluster::start(2).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let (_, bob) = user(&cluster, 0, "bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let message = SendMessage {
        client_msg_id: Some("retry-1".into()),
        ..natter_client::text_message(&chat_id, "once")
    };
    let first = alice.send(&message).await.expect("sent on node 0");
    let again = alice
        .with_base_url(cluster.url(1))
        .send(&message)
        .await
        .expect("retried on node 1");
    assert_eq!(first.message_id, again.message_id);
    assert_eq!(first.seq, again.seq);
    assert_eq!(seqs(&history(&alice, &chat_id).await), vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_cluster_wide_and_a_dead_nodes_users_go_offline() {
    let mut cluster = Cluster::start(2).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let (_, bob) = user(&cluster, 0, "bob").await;
    group(&alice, "team", &[&bob]).await;
    let status_of_bob = |alice: Client, bob: String| async move {
        alice.user(&bob).await.ok().map(|user| user.presence.status)
    };

    let _bob_socket = socket(&cluster, 1, &bob).await;
    eventually("bob online as seen from node 0", WAIT, || {
        let (alice, bob) = (alice.clone(), bob.user.user_id.clone());
        async move {
            (status_of_bob(alice, bob).await == Some(PresenceStatus::Online)).then_some(())
        }
    })
    .await;
    // The contract: offline within 15 s of the node's death.
    cluster.kill(1);
    eventually(
        "bob offline after his node died",
        Duration::from_secs(30),
        || {
            let (alice, bob) = (alice.clone(), bob.user.user_id.clone());
            async move {
                (status_of_bob(alice, bob).await == Some(PresenceStatus::Offline)).then_some(())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_acknowledged_by_a_node_that_then_dies_reaches_members_on_other_nodes() {
    let mut cluster = Cluster::start(2).await;
    let (alice, _) = user(&cluster, 0, "alice").await;
    let (_, bob) = user(&cluster, 0, "bob").await;
    let chat_id = group(&alice, "team", &[&bob]).await.summary.chat_id;
    let mut bob_socket = socket(&cluster, 1, &bob).await;

    let ack = send(&alice, &chat_id, "last words").await;
    cluster.kill(0);
    let delivered = new_messages(&mut bob_socket, &chat_id, 1).await;
    assert_eq!(delivered[0].message_id, ack.message_id);
    assert_eq!(delivered[0].content, "last words");
}
