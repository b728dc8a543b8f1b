//! Back-pressure: a client that stops reading is cut off instead of
//! growing server memory or holding its session forever, whether the
//! unread data are routed events (another member floods the chat) or the
//! server's direct answers to its own frames, and the other connections
//! are unaffected.

use crate::helpers::{
    TestServer, WAIT, assert_responsive, eventually, group, new_message_in, send, wait_for,
};
use natter_client::Client;
use natter_client::ws::{ConnectOptions, WsError};
use natter_proto::events::ServerEvent;
use natter_proto::users::PresenceStatus;

/// A server whose connections give up quickly on a peer that does not read.
async fn impatient_server() -> TestServer {
    TestServer::spawn_with(|s| {
        // Large enough that a reader on a busy, shared machine keeps up;
        // the stalled one is cut off by the write timeout or the overflow.
        s.gateway.outbox_frames = 256;
        s.gateway.write_timeout_secs = 1;
    })
    .await
}

/// Options of a socket whose kernel receive buffer is tiny, so that not
/// reading it back-pressures the server soon.
fn stalled(token: &str) -> ConnectOptions {
    ConnectOptions {
        recv_buffer: Some(4096),
        ..ConnectOptions::bearer(token)
    }
}

async fn is_offline(client: &Client, user_id: &str) -> bool {
    let user = client.user(user_id).await.expect("the user");
    user.presence.status == PresenceStatus::Offline
}

/// The flood comes in rounds of `FLOOD_SENDERS` concurrent senders times
/// `FLOOD_ROUND` messages of `FLOOD_TEXT_CHARS` (640 kB a round) until the
/// server has cut the stalled reader off; the kernel alone buffers a few
/// MB for a client that stopped reading (Linux grows a loopback send
/// buffer up to `tcp_wmem`'s maximum, 4 MiB by default).
const FLOOD_SENDERS: usize = 4;
const FLOOD_ROUND: usize = 10;
const FLOOD_TEXT_CHARS: usize = 16_000;
/// Rounds after which the test gives up (64 MB).
const FLOOD_MAX_ROUNDS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_while_the_others_keep_receiving() {
    let server = impatient_server().await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let (_, carol_auth) = server.user("carol").await;
    let chat_id = group(&alice, "flood", &[&bob_auth, &carol_auth])
        .await
        .summary
        .chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let mut carol_ws = server
        .socket_with(&stalled(&carol_auth.access_token))
        .await
        .unwrap();
    carol_ws.ready(WAIT).await.unwrap();

    // Carol reads nothing from here on; bob reads everything as it comes
    // until the closing message.
    let bob_reads = tokio::spawn({
        let chat_id = chat_id.clone();
        async move {
            let mut seen = Vec::new();
            loop {
                let message =
                    wait_for(&mut bob_ws, "the flood", |e| new_message_in(e, &chat_id)).await;
                let done = message.content == "the end";
                seen.push(message.seq);
                if done {
                    assert_responsive(&mut bob_ws).await;
                    return seen;
                }
            }
        }
    });
    let carol_id = carol_auth.user.user_id.clone();
    let filler = "x".repeat(FLOOD_TEXT_CHARS);
    let mut rounds = 0;
    while !is_offline(&alice, &carol_id).await {
        assert!(rounds < FLOOD_MAX_ROUNDS, "carol was never cut off");
        let senders: Vec<_> = (0..FLOOD_SENDERS)
            .map(|sender| {
                let (alice, chat_id, filler) = (alice.clone(), chat_id.clone(), filler.clone());
                tokio::spawn(async move {
                    for n in 0..FLOOD_ROUND {
                        send(&alice, &chat_id, &format!("{sender}/{n} {filler}")).await;
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        rounds += 1;
    }
    // Carol's only connection was closed by the server (she shows as
    // offline) without the test reading a byte of hers; bob got every
    // message in order and his socket still answers.
    let total = (rounds * FLOOD_SENDERS * FLOOD_ROUND) as i64;
    send(&alice, &chat_id, "the end").await;
    let seen = bob_reads.await.unwrap();
    assert_eq!(
        seen,
        (1..=total + 1).collect::<Vec<_>>(),
        "bob got everything in order"
    );

    // Reading now: what was buffered, then the end. A close frame, if one
    // made it behind the unread data, says 1008 or 1013; if the server had
    // to give up writing mid-frame the stream just ends (or is reset).
    let mut received = 0;
    let ending = loop {
        match carol_ws.recv_timeout(WAIT).await {
            Ok(ServerEvent::MessageNew { .. }) => received += 1,
            Ok(_) => {}
            Err(ending) => break ending,
        }
    };
    match &ending {
        WsError::Closed(close) => assert!([1008, 1013].contains(&close.code), "{close}"),
        WsError::Lost(_) => {}
        other => panic!("carol's socket should have ended, got {other}"),
    }
    assert!(
        received < total,
        "carol cannot have received everything ({received}): {ending}"
    );
}

/// Frames of the writing client: an unknown `type` of this many bytes is
/// named back in the `error` frame, so each frame earns an answer as big.
const ECHOED_TYPE_BYTES: usize = 60_000;
/// The most frames it sends (24 MB of answers), far beyond any buffer.
const ECHO_FRAMES: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_writes_but_never_reads_is_cut_off() {
    let server = impatient_server().await;
    let (alice, _) = server.user("alice").await;
    let (_, carol_auth) = server.user("carol").await;
    let (_, dave_auth) = server.user("dave").await;
    let (mut dave_ws, _) = server.socket(&dave_auth.access_token).await;
    let mut carol_ws = server
        .socket_with(&stalled(&carol_auth.access_token))
        .await
        .unwrap();
    carol_ws.ready(WAIT).await.unwrap();

    // Carol sends frames whose answers she never reads. Her sends block
    // once the server stops reading her, so they run apart from the test.
    let writer = tokio::spawn(async move {
        let frame = format!(r#"{{"type":"{}"}}"#, "x".repeat(ECHOED_TYPE_BYTES));
        for _ in 0..ECHO_FRAMES {
            if carol_ws.send_text(frame.clone()).await.is_err() {
                break;
            }
        }
        carol_ws
    });
    let carol_id = carol_auth.user.user_id.clone();
    eventually("the server to close carol's connection", WAIT, || async {
        is_offline(&alice, &carol_id).await.then_some(())
    })
    .await;
    writer.abort();
    // Others are unaffected.
    assert_responsive(&mut dave_ws).await;
}
