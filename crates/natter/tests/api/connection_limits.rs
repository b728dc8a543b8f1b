//! Nobody can lock others out with connections: idle sockets up to the
//! node's cap do not keep a newcomer (or `/healthz`) out, since the oldest
//! unauthenticated one is shed while authenticated ones stay; one address
//! is capped, others and trusted proxies are not; a request head or body
//! trickled in (slowloris) and an idle keep-alive connection are cut off;
//! a trusted proxy's `X-Forwarded-For` picks the rate-limit bucket, anyone
//! else's is ignored. Raw TCP from several loopback addresses
//! (127.0.0.2, ...: Linux routes all of 127/8 to `lo`).

use crate::helpers::{TestServer, eventually};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A bound on each wait, far above what a correct server needs.
const PATIENCE: Duration = Duration::from_secs(30);

fn server_addr(server: &TestServer) -> SocketAddr {
    server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address")
}

/// A TCP connection to the server from the loopback address `from`.
async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    let local: IpAddr = from.parse().expect("an address");
    socket.bind(SocketAddr::new(local, 0)).expect("bind");
    socket.connect(server).await.expect("connect")
}

/// Sends `request` and reads one whole response (head and
/// `content-length` body); the status and the text.
async fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String) {
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    read_response(stream).await
}

async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = tokio::time::timeout(PATIENCE, async {
        loop {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length = text[..head_end]
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if bytes.len() >= head_end + 4 + length {
                    return text;
                }
            }
            let n = stream.read(&mut chunk).await.expect("read the response");
            assert!(
                n > 0,
                "closed mid-response: {:?}",
                String::from_utf8_lossy(&bytes)
            );
            bytes.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("a response in time");
    let status = read
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {read}"));
    (status, read)
}

/// True once the server has closed `stream` (EOF or reset), waiting at
/// most [`PATIENCE`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let until = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut byte)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn get(path: &str, extra_headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: natter\r\n{extra_headers}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_at_the_cap_do_not_lock_out_newcomers_or_authenticated_users() {
    const CAP: usize = 16;
    let server = TestServer::spawn_with(|settings| {
        settings.connections.max_open = CAP;
        settings.connections.max_per_ip = 0;
    })
    .await;
    let addr = server_addr(&server);
    let (_, alice) = server.user("alice").await;
    let bearer = format!("authorization: Bearer {}\r\n", alice.access_token);
    let mut user = connect_from("127.0.0.1", addr).await;
    assert_eq!(
        exchange(&mut user, &get("/api/v1/users/me", &bearer))
            .await
            .0,
        200
    );

    // An attacker fills every other place and keeps going.
    let mut idle = Vec::new();
    for _ in 0..CAP * 2 {
        idle.push(connect_from("127.0.0.2", addr).await);
    }
    for _ in 0..5 {
        let mut newcomer = connect_from("127.0.0.3", addr).await;
        let (status, text) = exchange(&mut newcomer, &get("/healthz", "")).await;
        assert_eq!(status, 200, "{text}");
    }
    // The user's keep-alive connection was never shed.
    let (status, text) = exchange(&mut user, &get("/api/v1/users/me", &bearer)).await;
    assert_eq!(status, 200, "{text}");
    // The oldest idle sockets were.
    assert!(
        closed_by_server(&mut idle[0]).await,
        "the oldest idle socket stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_capped_while_others_and_trusted_proxies_are_not() {
    const PER_IP: usize = 4;
    let server = TestServer::spawn_with(|settings| {
        settings.connections.max_per_ip = PER_IP;
        settings.connections.trusted_proxies = vec!["127.0.0.4".parse().unwrap()];
    })
    .await;
    let addr = server_addr(&server);
    let mut held = Vec::new();
    for _ in 0..PER_IP {
        held.push(connect_from("127.0.0.2", addr).await);
    }
    let mut extra = connect_from("127.0.0.2", addr).await;
    let (status, text) = exchange(&mut extra, &get("/healthz", "")).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("\"code\":\"rate_limited\""), "{text}");
    assert!(text.contains("too many open connections"), "{text}");

    let mut other = connect_from("127.0.0.3", addr).await;
    assert_eq!(exchange(&mut other, &get("/healthz", "")).await.0, 200);
    let mut proxied = Vec::new();
    for _ in 0..PER_IP * 2 {
        let mut hop = connect_from("127.0.0.4", addr).await;
        assert_eq!(exchange(&mut hop, &get("/healthz", "")).await.0, 200);
        proxied.push(hop);
    }

    // A place freed is a place taken again.
    drop(held.pop());
    eventually("a freed place", PATIENCE, || async {
        let mut again = connect_from("127.0.0.2", addr).await;
        (exchange(&mut again, &get("/healthz", "")).await.0 == 200).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_head_and_an_idle_keep_alive_connection_are_cut_off() {
    let server = TestServer::spawn_with(|settings| {
        settings.connections.header_timeout_secs = 1;
    })
    .await;
    let addr = server_addr(&server);

    let mut slow = connect_from("127.0.0.2", addr).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: natter\r\n")
        .await
        .unwrap();
    let mut cut = false;
    for i in 0..200 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if slow
            .write_all(format!("x-trickle-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
        let mut byte = [0u8; 1];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut byte)).await
            && !matches!(read, Ok(n) if n > 0)
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "40 s of trickled headers were accepted");

    let mut idle = connect_from("127.0.0.3", addr).await;
    assert_eq!(exchange(&mut idle, &get("/healthz", "")).await.0, 200);
    assert!(
        closed_by_server(&mut idle).await,
        "an idle keep-alive connection stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_off_while_a_slow_steady_one_gets_through() {
    let server = TestServer::spawn_with(|settings| {
        settings.connections.body_grace_secs = 1;
        settings.connections.body_min_bytes_per_sec = 200;
    })
    .await;
    let addr = server_addr(&server);
    let head = |length: usize| {
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nhost: natter\r\n\
             content-type: application/json\r\ncontent-length: {length}\r\n\r\n"
        )
    };

    // 1 byte every 50 ms: 20 bytes/s against the 200 required.
    let mut slow = connect_from("127.0.0.2", addr).await;
    slow.write_all(head(10_000).as_bytes()).await.unwrap();
    let mut cut = false;
    for _ in 0..800 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if slow.write_all(b" ").await.is_err() {
            cut = true;
            break;
        }
        let mut byte = [0u8; 64];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut byte)).await
        {
            // An answer (the body failed) or the close: either ends it.
            let _ = read;
            cut = true;
            break;
        }
    }
    assert!(cut, "40 s of a trickled body were accepted");
    assert!(
        closed_by_server(&mut slow).await,
        "the connection stays open"
    );

    // 2,000 bytes at ~1,000 bytes/s: slow, but above the pace.
    let padding = " ".repeat(1_950);
    let body = format!(r#"{{"username":"nobody","password":"wrong"{padding}}}"#);
    let mut steady = connect_from("127.0.0.3", addr).await;
    steady.write_all(head(body.len()).as_bytes()).await.unwrap();
    for piece in body.as_bytes().chunks(100) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        steady
            .write_all(piece)
            .await
            .expect("the body keeps flowing");
    }
    let (status, text) = read_response(&mut steady).await;
    assert_eq!(status, 401, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_follow_the_forwarded_address_only_from_a_trusted_proxy() {
    let server = TestServer::spawn_with(|settings| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.refresh_per_ip_per_minute = 2;
        settings.connections.trusted_proxies = vec!["127.0.0.4".parse().unwrap()];
    })
    .await;
    let addr = server_addr(&server);
    let refresh = |forwarded: &str| {
        let body = r#"{"refresh_token":"not-a-token"}"#;
        format!(
            "POST /api/v1/auth/refresh HTTP/1.1\r\nhost: natter\r\n\
             x-forwarded-for: {forwarded}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let statuses = |from: &'static str, forwarded: &'static str, times: usize| async move {
        let mut stream = connect_from(from, addr).await;
        let mut statuses = Vec::new();
        for _ in 0..times {
            statuses.push(exchange(&mut stream, &refresh(forwarded)).await.0);
        }
        statuses
    };
    // Through the trusted proxy: one bucket per client behind it.
    assert_eq!(statuses("127.0.0.4", "10.0.0.1", 3).await, [401, 401, 429]);
    assert_eq!(
        statuses("127.0.0.4", "10.0.0.1, 10.0.0.2", 2).await,
        [401, 401]
    );
    // Anyone else's header is ignored: one bucket per peer.
    assert_eq!(statuses("127.0.0.5", "10.0.0.3", 2).await, [401, 401]);
    assert_eq!(statuses("127.0.0.5", "10.0.0.4", 1).await, [429]);
}
