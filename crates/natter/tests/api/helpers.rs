//! Test fixtures: the harness of `natter-testkit` ([`TestServer`], the
//! real server in-process on a free port with its own temporary data
//! directory), chats, assertions on problem-details errors, and WebSocket
//! helpers (open a socket, wait for an event matching a predicate within
//! a deadline, expect a close frame). Owns no test of its own.

pub use natter_testkit::{PASSWORD, TestServer};

use natter_client::ws::{
    Backoff, CloseInfo, Connection, RealtimeClient, RealtimeEvent, RealtimeOptions, WsError,
};
use natter_client::{Client, ClientError, HistoryQuery, Method, RawResponse};
use natter_proto::ErrorCode;
use natter_proto::auth::AuthResponse;
use natter_proto::chats::{Chat, ChatSummary, ChatType, CreateChat};
use natter_proto::events::{ClientFrame, ServerEvent};
use natter_proto::messages::{Message, SendAck};
use std::future::Future;
use std::time::Duration;

/// Creates a group owned by `owner` with `members` (by user id).
pub async fn group(owner: &Client, name: &str, members: &[&AuthResponse]) -> Chat {
    create(owner, ChatType::Group, Some(name), members).await
}

/// Creates a channel owned by `owner` with `members` as plain members.
pub async fn channel(owner: &Client, name: &str, members: &[&AuthResponse]) -> Chat {
    create(owner, ChatType::Channel, Some(name), members).await
}

/// Creates (or finds) the direct chat of the caller and `other`.
pub async fn direct(caller: &Client, other: &AuthResponse) -> Chat {
    create(caller, ChatType::Direct, None, &[other]).await
}

async fn create(
    owner: &Client,
    chat_type: ChatType,
    name: Option<&str>,
    members: &[&AuthResponse],
) -> Chat {
    let request = CreateChat {
        e2ee: false,
        chat_type,
        name: name.map(str::to_owned),
        member_ids: members.iter().map(|m| m.user.user_id.clone()).collect(),
    };
    owner
        .create_chat(&request)
        .await
        .unwrap_or_else(|error| panic!("creating a {chat_type:?} chat: {error}"))
}

/// Sends a text message and expects success.
pub async fn send(client: &Client, chat_id: &str, content: &str) -> SendAck {
    client
        .send_text(chat_id, content)
        .await
        .unwrap_or_else(|error| panic!("sending {content:?}: {error}"))
}

/// The whole history of a chat, oldest first, paging forward by `seq`.
pub async fn history(client: &Client, chat_id: &str) -> Vec<Message> {
    let mut all: Vec<Message> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m.seq);
        let page = client
            .messages(chat_id, &HistoryQuery::new().after_seq(after).limit(200))
            .await
            .expect("a history page");
        let done = !page.has_more || page.messages.is_empty();
        all.extend(page.messages);
        if done {
            return all;
        }
    }
}

/// The caller's entry for `chat_id` in `GET /api/v1/chats`.
pub async fn summary(client: &Client, chat_id: &str) -> ChatSummary {
    let list = client.chats().await.expect("the chat list");
    list.chats
        .into_iter()
        .find(|chat| chat.chat_id == chat_id)
        .unwrap_or_else(|| panic!("chat {chat_id} is not in the caller's list"))
}

/// Asserts that a call failed with problem details of `code` and the
/// HTTP status that code belongs to, consistently in header and body.
#[track_caller]
pub fn assert_api_error<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    code: ErrorCode,
) -> natter_proto::Problem {
    match result {
        Err(ClientError::Api { status, problem }) => {
            assert_eq!(
                (status, problem.code),
                (code.status(), code),
                "unexpected error: {problem:?}"
            );
            assert_eq!(problem.status, status, "body status differs: {problem:?}");
            problem
        }
        other => panic!("expected a {} error, got {other:?}", code.as_str()),
    }
}

/// Asserts that a raw answer is problem details of `code`: status, media
/// type `application/problem+json`, and `type`/`title`/`status`/`code`.
#[track_caller]
pub fn assert_problem(response: &RawResponse, code: ErrorCode) -> serde_json::Value {
    let body = response.text();
    assert_eq!(response.status, code.status(), "body: {body}");
    let media_type = response.content_type().unwrap_or_default();
    assert!(
        media_type.starts_with("application/problem+json"),
        "content type {media_type:?} for {body}"
    );
    let json = response.json().expect("a JSON problem body");
    assert_eq!(json["status"], code.status(), "body: {body}");
    assert_eq!(json["code"], code.as_str(), "body: {body}");
    assert!(
        json["type"].is_string() && json["title"].is_string(),
        "{body}"
    );
    json
}

/// Sends `body` as JSON with `client`'s token and returns the raw answer.
pub async fn raw_json(
    client: &Client,
    method: Method,
    path: &str,
    body: &serde_json::Value,
) -> RawResponse {
    let bytes = serde_json::to_vec(body).expect("serialisable JSON");
    client
        .raw(method, path, Some(bytes), Some("application/json"))
        .await
        .expect("an HTTP answer")
}

/// Sends a body-less request with `client`'s token.
pub async fn raw_get(client: &Client, method: Method, path: &str) -> RawResponse {
    client
        .raw(method, path, None, None)
        .await
        .expect("an HTTP answer")
}

/// Polls `check` until it returns `Some`, failing after `deadline`.
/// For conditions that become true asynchronously; never a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the wall clock shows a later millisecond, so that two
/// actions get distinct API timestamps (which have millisecond precision)
/// when a test checks an order derived from them.
pub async fn next_millisecond() {
    let start = natter_proto::Timestamp::now();
    while natter_proto::Timestamp::now() <= start {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Generous deadline for anything that should happen "soon" on a shared,
/// slow machine: tests wait for events with it, never sleep for them.
pub const WAIT: Duration = Duration::from_secs(20);

/// Reads events until `pick` returns `Some` and returns that; the events
/// before are discarded. Fails the test after [`WAIT`] or if the socket
/// ends first.
pub async fn wait_for<T>(
    socket: &mut Connection,
    what: &str,
    mut pick: impl FnMut(&ServerEvent) -> Option<T>,
) -> T {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match socket.recv_timeout(left).await {
            Ok(event) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            Err(WsError::Timeout) => panic!("timed out waiting for {what}"),
            Err(error) => panic!("the socket ended while waiting for {what}: {error}"),
        }
    }
}

/// Reads events until one satisfies `matches`; returns the events read
/// before it (so a test can assert what did NOT arrive before a marker).
pub async fn events_until(
    socket: &mut Connection,
    what: &str,
    matches: impl Fn(&ServerEvent) -> bool,
) -> Vec<ServerEvent> {
    let mut before = Vec::new();
    wait_for(socket, what, |event| {
        if matches(event) {
            return Some(());
        }
        before.push(event.clone());
        None
    })
    .await;
    before
}

/// The next `count` `message.new` of `chat_id` on a socket, in arrival order.
pub async fn new_messages(socket: &mut Connection, chat_id: &str, count: usize) -> Vec<Message> {
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count {
        let what = format!("message {} of {count} in {chat_id}", messages.len() + 1);
        messages.push(wait_for(socket, &what, |event| new_message_in(event, chat_id)).await);
    }
    messages
}

/// The message of a `message.new` event of `chat_id`.
pub fn new_message_in(event: &ServerEvent, chat_id: &str) -> Option<Message> {
    match event {
        ServerEvent::MessageNew { message } if message.chat_id == chat_id => Some(message.clone()),
        _ => None,
    }
}

/// Reads until the server closes the socket and returns its close frame;
/// fails the test if the socket stays open past [`WAIT`] or breaks
/// without a close frame.
pub async fn expect_close(socket: &mut Connection) -> CloseInfo {
    match socket.closed_within(WAIT).await {
        Ok(close) => close,
        Err(error) => panic!("expected a close frame, got {error}"),
    }
}

/// Sends `ping` and waits for `pong`: proof the connection is open and
/// the server still reads it.
pub async fn assert_responsive(socket: &mut Connection) {
    socket
        .send_frame(&ClientFrame::Ping)
        .await
        .expect("sending a ping frame");
    wait_for(socket, "pong", |event| {
        matches!(event, ServerEvent::Pong).then_some(())
    })
    .await;
}

/// Options of a [`RealtimeClient`] for tests: quick retries.
pub fn realtime_options() -> RealtimeOptions {
    RealtimeOptions {
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(300)),
        ..RealtimeOptions::default()
    }
}

/// The next realtime event that `pick` accepts; others are discarded.
pub async fn next_realtime<T>(
    client: &mut RealtimeClient,
    what: &str,
    mut pick: impl FnMut(&RealtimeEvent) -> Option<T>,
) -> T {
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(until, client.next_event()).await {
            Ok(Some(event)) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            Ok(None) => panic!("the realtime client stopped while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// Collects the messages a realtime client delivers until one with
/// `until_seq` in `chat_id` arrives; every event and message is kept, in
/// delivery order, so tests can check for duplicates and order.
pub async fn realtime_messages_until(
    client: &mut RealtimeClient,
    chat_id: &str,
    until_seq: i64,
) -> Vec<Message> {
    let mut messages = Vec::new();
    let what = format!("seq {until_seq} in {chat_id}");
    next_realtime(client, &what, |event| {
        if let RealtimeEvent::Message(message) = event {
            messages.push(message.clone());
            return (message.chat_id == chat_id && message.seq == until_seq).then_some(());
        }
        None
    })
    .await;
    messages
}

/// A socket `send` frame of a text message.
pub fn send_frame(client_msg_id: &str, chat_id: &str, content: &str) -> ClientFrame {
    ClientFrame::Send {
        client_msg_id: client_msg_id.to_owned(),
        chat_id: chat_id.to_owned(),
        content: content.to_owned(),
        message_type: None,
        file_id: None,
        metadata: None,
    }
}

/// Waits for the `send.ok` of `client_msg_id`: `(message_id, seq)`.
pub async fn send_ok(socket: &mut Connection, client_msg_id: &str) -> (String, i64) {
    let what = format!("send.ok of {client_msg_id}");
    wait_for(socket, &what, |event| match event {
        ServerEvent::SendOk {
            client_msg_id: id,
            message_id,
            seq,
            ..
        } if id == client_msg_id => Some((message_id.clone(), *seq)),
        ServerEvent::Error {
            client_msg_id: Some(id),
            code,
            detail,
            ..
        } if id == client_msg_id => panic!("{client_msg_id} was refused: {code:?} {detail}"),
        _ => None,
    })
    .await
}
