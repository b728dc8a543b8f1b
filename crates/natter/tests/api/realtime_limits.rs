//! What the server does with hostile or broken peers: oversized frames
//! (1009), malformed JSON and unknown frame types (an `error` frame, the
//! socket stays usable), binary frames (1003), too many connections of one
//! user (1008), heartbeats (a responsive client stays, a silent peer is
//! closed), and server shutdown (1001). Clients that stop reading are in
//! `realtime_backpressure`.

use crate::helpers::{TestServer, WAIT, assert_responsive, expect_close, wait_for};
use natter_client::ws::{ConnectOptions, WsError};
use natter_proto::ErrorCode;
use natter_proto::events::ServerEvent;
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
                ..
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
    // Read (which answers pings) for three idle timeouts; any event is
    // fine (her own presence may come), the end of the socket is not.
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    while let Ok(event) = tokio::time::timeout_at(until, socket.recv()).await {
        if let Err(error) = event {
            panic!("the server closed a client that answered its pings: {error}");
        }
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
