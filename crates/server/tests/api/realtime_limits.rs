//! What the server does with hostile or broken peers: oversized frames
//! (1009), malformed JSON and unknown frame types (an `error` frame, the
//! socket stays usable), binary frames (1003), too many connections of one
//! user (1008), heartbeats (a responsive client stays, a silent peer is
//! closed), a client that stops reading (cut off, others unaffected), and
//! server shutdown (1001).

use crate::helpers::{
    TestServer, WAIT, assert_responsive, expect_close, group, new_message_in, send, wait_for,
};
use natter_client::ws::{ConnectOptions, WsError};
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
use natter_proto::users::PresenceStatus;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_size_limit_is_closed_with_1009() {
    let server = TestServer::spawn_with(|s| s.gateway.max_frame_bytes = 4096).await;
    let (_, alice_auth) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    // Just under the limit is fine.
    let fits = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(4000));
    socket.send_text(fits).await.unwrap();
    wait_for(&mut socket, "pong", |e| {
        matches!(e, ServerEvent::Pong).then_some(())
    })
    .await;
    let too_big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(8192));
    socket.send_text(too_big).await.unwrap();
    assert_eq!(expect_close(&mut socket).await.code, 1009);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_unknown_frames_get_an_error_frame_and_the_socket_stays_usable() {
    let server = TestServer::spawn().await;
    let (_, alice_auth) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    let cases = [
        ("{not json", None, "JSON"),
        (r#"{"type":"dance"}"#, None, "dance"),
        (r#"{"no":"type"}"#, None, "type"),
        (r#"{"type":"ack","chat_id":"c"}"#, None, "ack"),
        (
            r#"{"type":"send","client_msg_id":"m-1"}"#,
            Some("m-1"),
            "send",
        ),
    ];
    for (text, client_msg_id, mentioned) in cases {
        socket.send_text(text).await.unwrap();
        let (id, code, detail) = wait_for(&mut socket, "an error frame", |event| match event {
            ServerEvent::Error {
                client_msg_id,
                code,
                detail,
            } => Some((client_msg_id.clone(), *code, detail.clone())),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::InvalidRequest, "{text}: {detail}");
        assert_eq!(id.as_deref(), client_msg_id, "{text}: {detail}");
        assert!(
            detail.contains(mentioned),
            "{text}: detail {detail:?} should mention {mentioned}"
        );
    }
    assert_responsive(&mut socket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_frame_is_refused_with_close_1003() {
    let server = TestServer::spawn().await;
    let (_, alice_auth) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    socket
        .send_binary(b"{\"type\":\"ping\"}".to_vec())
        .await
        .unwrap();
    assert_eq!(expect_close(&mut socket).await.code, 1003);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_per_user_cap_is_closed_with_1008() {
    let server = TestServer::spawn_with(|s| s.gateway.max_connections_per_user = 2).await;
    let (_, alice_auth) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let token = alice_auth.access_token.clone();
    let (mut first, _) = server.socket(&token).await;
    let (_second, _) = server.socket(&token).await;
    let mut third = server
        .socket_with(&ConnectOptions::bearer(&token))
        .await
        .unwrap();
    match third.recv_timeout(WAIT).await {
        Err(WsError::Closed(close)) => assert_eq!(close.code, 1008, "{close}"),
        other => panic!("expected the third connection closed with 1008, got {other:?}"),
    }
    // Other users are not affected, and closing one makes room.
    server.socket(&bob_auth.access_token).await;
    first.close().await;
    let (mut again, _) = server.socket(&token).await;
    assert_responsive(&mut again).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_answering_pings_outlives_the_idle_timeout() {
    // Pings every second, closed after 2 s of silence. The client sends
    // nothing but the automatic pongs while it reads.
    let server = TestServer::spawn_with(|s| {
        s.gateway.ping_interval_secs = 1;
        s.gateway.idle_timeout_secs = 2;
    })
    .await;
    let (_, alice_auth) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    match socket.recv_timeout(Duration::from_secs(6)).await {
        Err(WsError::Timeout) => {}
        other => panic!("nothing should arrive and nothing close, got {other:?}"),
    }
    assert_responsive(&mut socket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_closed_after_the_idle_timeout() {
    let server = TestServer::spawn_with(|s| {
        s.gateway.ping_interval_secs = 1;
        s.gateway.idle_timeout_secs = 1;
    })
    .await;
    let (_, alice_auth) = server.user("alice").await;
    // A raw TCP client: it completes the upgrade, then never answers.
    let address = server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /api/v1/ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {}\r\n\r\n",
        alice_auth.access_token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the silent peer")
        .unwrap();
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&received[..head_end]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let frames = server_frames(&received[head_end + 4..]);
    let opcodes: Vec<u8> = frames.iter().map(|(opcode, _)| *opcode).collect();
    assert!(
        opcodes.contains(&0x9),
        "the server pinged first: {opcodes:?}"
    );
    let (opcode, payload) = frames.last().expect("frames");
    assert_eq!(*opcode, 0x8, "the last frame is a close: {opcodes:?}");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1008);
}

/// Splits unmasked server-to-client frames into (opcode, payload).
fn server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while bytes.len() >= 2 {
        let opcode = bytes[0] & 0x0f;
        let (len, header) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                10,
            ),
            short => (short as usize, 2),
        };
        frames.push((opcode, bytes[header..header + len].to_vec()));
        bytes = &bytes[header + len..];
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_the_server_closes_sockets_with_1001() {
    let mut server = TestServer::spawn().await;
    let (_, alice_auth) = server.user("alice").await;
    let (mut socket, _) = server.socket(&alice_auth.access_token).await;
    let shutdown = tokio::time::timeout(WAIT, async {
        tokio::join!(server.shutdown(), expect_close(&mut socket)).1
    });
    let close = shutdown
        .await
        .expect("shutdown finishes while a socket is open");
    assert_eq!(close.code, 1001, "{close}");
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
    let server = TestServer::spawn_with(|s| {
        s.gateway.outbox_frames = 16;
        s.gateway.write_timeout_secs = 1;
    })
    .await;
    let (alice, _) = server.user("alice").await;
    let (_, bob_auth) = server.user("bob").await;
    let (_, carol_auth) = server.user("carol").await;
    let chat_id = group(&alice, "flood", &[&bob_auth, &carol_auth])
        .await
        .summary
        .chat_id;
    let (mut bob_ws, _) = server.socket(&bob_auth.access_token).await;
    let stalled_options = ConnectOptions {
        recv_buffer: Some(4096),
        ..ConnectOptions::bearer(&carol_auth.access_token)
    };
    let mut carol_ws = server.socket_with(&stalled_options).await.unwrap();
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
    while alice.user(&carol_id).await.unwrap().presence.status != PresenceStatus::Offline {
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
