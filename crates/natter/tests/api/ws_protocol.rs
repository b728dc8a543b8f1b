//! WebSocket protocol violations end with the close code RFC 6455 gives
//! them, so a client can tell a broken frame from a server shutdown:
//! 1007 for a text frame that is not UTF-8, 1002 for the rest (a
//! continuation with nothing to continue, a reserved opcode, RSV bits
//! without an extension, an unmasked client frame, a ping over 125
//! bytes). The frames are written by hand on a raw TCP connection, as
//! no well-behaved client library would send them.

use crate::helpers::{TestServer, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A socket after a successful upgrade (101) with `token`, and its
/// `ready` frame read.
async fn upgraded(server: &TestServer, token: &str) -> TcpStream {
    let addr = server.base_url().trim_start_matches("http://").to_owned();
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /api/v1/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let (opcode, _) = read_data_frame(&mut tcp).await;
    assert_eq!(opcode, 1, "ready first");
    tcp
}

/// A frame as a client writes it: `first` is FIN, RSV and opcode;
/// masked with a fixed key unless `masked` is false.
fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len => {
            out.push(mask_bit | 126);
            out.extend((len as u16).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        out.extend(key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend(payload);
    }
    out
}

/// One server frame: (opcode, payload). Server frames are unmasked.
async fn read_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    let first = tcp.read_u8().await.unwrap();
    let len = match tcp.read_u8().await.unwrap() & 0x7f {
        126 => u64::from(tcp.read_u16().await.unwrap()),
        127 => tcp.read_u64().await.unwrap(),
        len => u64::from(len),
    };
    let mut payload = vec![0; len as usize];
    tcp.read_exact(&mut payload).await.unwrap();
    (first & 0x0f, payload)
}

/// The next frame that is not a ping or a pong: the server's keepalive
/// pings may come at any moment, between any two frames of the protocol.
async fn read_data_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    loop {
        let (opcode, payload) = read_frame(tcp).await;
        if !matches!(opcode, 9 | 10) {
            return (opcode, payload);
        }
    }
}

/// The code of the close frame the server ends with (frames before it
/// are skipped).
async fn close_code(tcp: &mut TcpStream) -> u16 {
    tokio::time::timeout(WAIT, async {
        loop {
            let (opcode, payload) = read_frame(tcp).await;
            if opcode == 8 {
                assert!(payload.len() >= 2, "a close frame with a code");
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    })
    .await
    .expect("a close frame in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_protocol_violation_closes_with_its_rfc_6455_code() {
    let server = TestServer::spawn().await;
    let (_, auth) = server.user("alice").await;
    let cases: [(&str, Vec<u8>, u16); 6] = [
        (
            "invalid UTF-8 in a text frame",
            frame(0x81, &[0xff, 0xfe, 0x41], true),
            1007,
        ),
        (
            "a continuation without a start",
            frame(0x80, b"more", true),
            1002,
        ),
        ("a reserved opcode", frame(0x83, b"x", true), 1002),
        ("RSV1 without an extension", frame(0xC1, b"{}", true), 1002),
        (
            "an unmasked client frame",
            frame(0x81, br#"{"type":"ping"}"#, false),
            1002,
        ),
        ("a ping over 125 bytes", frame(0x89, &[7; 126], true), 1002),
    ];
    for (what, bytes, expected) in cases {
        let mut tcp = upgraded(&server, &auth.access_token).await;
        tcp.write_all(&bytes).await.unwrap();
        assert_eq!(close_code(&mut tcp).await, expected, "{what}");
    }
    // Control: a well-formed ping frame on a raw socket is answered.
    let mut tcp = upgraded(&server, &auth.access_token).await;
    tcp.write_all(&frame(0x81, br#"{"type":"ping"}"#, true))
        .await
        .unwrap();
    let (opcode, payload) = read_data_frame(&mut tcp).await;
    assert_eq!(
        (opcode, payload.as_slice()),
        (1, br#"{"type":"pong"}"#.as_slice())
    );
}
