//! [`Connection`]: one WebSocket to `GET /api/v1/ws`, without state or
//! reconnection. Connects with a Bearer header or an `auth` first frame
//! (optionally with an `Origin`, as a browser would), sends frames
//! (typed, or raw text and binary for tests of hostile input) and reads
//! events; when the server closes, the close frame is kept.

use super::error::{CloseInfo, WsError};
use futures_util::{SinkExt, StreamExt};
use natter_proto::Problem;
use natter_proto::events::{ChatCursor, ClientFrame, ServerEvent};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, ORIGIN};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest wait for the TCP connection and the upgrade answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a connection authenticates.
#[derive(Clone, Debug, Default)]
pub enum WsAuth {
    /// No credentials (the server waits for an `auth` frame, then closes).
    #[default]
    None,
    /// `Authorization: Bearer <token>` on the upgrade request.
    Bearer(String),
    /// `{"type":"auth","token"}` as the first frame after the upgrade.
    Frame(String),
    /// This exact `Authorization` header value (for tests of malformed ones).
    Header(String),
}

/// How to open a [`Connection`].
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Credentials.
    pub auth: WsAuth,
    /// An `Origin` header, as browsers send; none by default.
    pub origin: Option<String>,
    /// The TCP receive buffer to ask the kernel for (`SO_RCVBUF`), to make
    /// a client that stops reading back-pressure the server quickly in
    /// tests; the system default if `None`.
    pub recv_buffer: Option<u32>,
}

impl ConnectOptions {
    /// Bearer authentication on the upgrade.
    pub fn bearer(token: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            auth: WsAuth::Bearer(token.into()),
            ..ConnectOptions::default()
        }
    }

    /// The same options with an `Origin` header.
    pub fn with_origin(mut self, origin: impl Into<String>) -> ConnectOptions {
        self.origin = Some(origin.into());
        self
    }
}

/// The `ready` frame: who the server thinks this is and every chat's
/// cursors.
#[derive(Clone, Debug, PartialEq)]
pub struct Ready {
    /// The authenticated user.
    pub user_id: String,
    /// The session (refresh token family) the token belongs to.
    pub session_id: String,
    /// Every chat of the user with its `last_seq` and the user's `read_seq`.
    pub chats: Vec<ChatCursor>,
    /// This connection's party id in calls.
    pub party_id: Option<String>,
}

/// The WebSocket URL of a server given by its HTTP base URL
/// (`http://host:port` -> `ws://host:port/api/v1/ws`).
pub fn ws_url(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{base}/api/v1/ws")
}

/// One open WebSocket.
pub struct Connection {
    socket: Socket,
    /// How the connection ended, once it has.
    ended: Option<WsError>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens `GET /api/v1/ws` on the server at `base_url` (its HTTP base
    /// URL). A refused upgrade is [`WsError::Refused`] with the status. With
    /// [`WsAuth::Frame`] the `auth` frame is sent before returning.
    pub async fn connect(base_url: &str, options: &ConnectOptions) -> Result<Connection, WsError> {
        let url = ws_url(base_url);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|error| WsError::Decode(format!("{url}: {error}")))?;
        let header = |value: &str| {
            HeaderValue::from_str(value).map_err(|_| WsError::Decode("invalid header value".into()))
        };
        match &options.auth {
            WsAuth::Bearer(token) => {
                let value = header(&format!("Bearer {token}"))?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            WsAuth::Header(value) => {
                request.headers_mut().insert(AUTHORIZATION, header(value)?);
            }
            WsAuth::None | WsAuth::Frame(_) => {}
        }
        if let Some(origin) = &options.origin {
            request.headers_mut().insert(ORIGIN, header(origin)?);
        }
        let uri = request.uri();
        if uri.scheme_str() != Some("ws") {
            return Err(WsError::Decode(format!("{url}: only ws:// is supported")));
        }
        let address = format!(
            "{}:{}",
            uri.host().unwrap_or_default(),
            uri.port_u16().unwrap_or(80)
        );
        let handshake = async {
            let stream = tcp_connect(&address, options.recv_buffer).await?;
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
                .await
                .map_err(refusal)
        };
        let (socket, _response) = tokio::time::timeout(CONNECT_TIMEOUT, handshake)
            .await
            .map_err(|_| WsError::Timeout)??;
        let mut connection = Connection {
            socket,
            ended: None,
        };
        if let WsAuth::Frame(token) = &options.auth {
            connection
                .send_frame(&ClientFrame::Auth {
                    token: token.clone(),
                })
                .await?;
        }
        Ok(connection)
    }

    /// Connects with `Authorization: Bearer <token>` and waits for `ready`.
    pub async fn open(base_url: &str, token: &str) -> Result<(Connection, Ready), WsError> {
        let mut connection = Connection::connect(base_url, &ConnectOptions::bearer(token)).await?;
        let ready = connection.ready(CONNECT_TIMEOUT).await?;
        Ok((connection, ready))
    }

    /// Waits for the `ready` frame, which must be the first event.
    pub async fn ready(&mut self, wait: Duration) -> Result<Ready, WsError> {
        match self.recv_timeout(wait).await? {
            ServerEvent::Ready {
                user_id,
                session_id,
                chats,
                party_id,
            } => Ok(Ready {
                user_id,
                session_id,
                chats,
                party_id,
            }),
            other => Err(WsError::Decode(format!(
                "expected ready first, got {other:?}"
            ))),
        }
    }

    /// Sends a typed frame.
    pub async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), WsError> {
        let text =
            serde_json::to_string(frame).map_err(|error| WsError::Decode(error.to_string()))?;
        self.send_text(text).await
    }

    /// Sends a text frame as is (need not be JSON).
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), WsError> {
        self.write(Message::text(text.into())).await
    }

    /// Sends a binary frame (which the server refuses).
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<(), WsError> {
        self.write(Message::binary(bytes.into())).await
    }

    async fn write(&mut self, message: Message) -> Result<(), WsError> {
        if let Some(ended) = &self.ended {
            return Err(clone_ending(ended));
        }
        self.socket
            .send(message)
            .await
            .map_err(|error| lost(&error))
    }

    /// The next event. Control frames are handled underneath (pings are
    /// answered while reading). After the end: [`WsError::Closed`] with
    /// the server's close frame, or [`WsError::Lost`], every time.
    pub async fn recv(&mut self) -> Result<ServerEvent, WsError> {
        loop {
            if let Some(ended) = &self.ended {
                return Err(clone_ending(ended));
            }
            let message = match self.socket.next().await {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    self.ended = Some(lost(&error));
                    continue;
                }
                None => {
                    self.ended = Some(WsError::Lost("end of stream".into()));
                    continue;
                }
            };
            match message {
                Message::Text(text) => {
                    return serde_json::from_str(&text)
                        .map_err(|error| WsError::Decode(format!("{error} in {}", text.as_str())));
                }
                Message::Binary(_) => return Err(WsError::Decode("a binary frame".into())),
                Message::Close(frame) => {
                    let close = match frame {
                        Some(frame) => CloseInfo {
                            code: frame.code.into(),
                            reason: frame.reason.to_string(),
                        },
                        None => CloseInfo {
                            code: 1005,
                            reason: String::new(),
                        },
                    };
                    self.ended = Some(WsError::Closed(close));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// [`Connection::recv`] with a deadline: [`WsError::Timeout`] if nothing
    /// arrived in `wait`. Nothing is lost when it times out.
    pub async fn recv_timeout(&mut self, wait: Duration) -> Result<ServerEvent, WsError> {
        tokio::time::timeout(wait, self.recv())
            .await
            .unwrap_or(Err(WsError::Timeout))
    }

    /// The next event, or `None` once the connection has ended (see
    /// [`Connection::close_frame`]) or on a frame that is not an event
    /// (use [`Connection::recv`] to tell these apart).
    pub async fn next_event(&mut self) -> Option<ServerEvent> {
        self.recv().await.ok()
    }

    /// [`Connection::next_event`] with a deadline; `None` also on timeout.
    pub async fn next_event_within(&mut self, wait: Duration) -> Option<ServerEvent> {
        self.recv_timeout(wait).await.ok()
    }

    /// Reads (and discards) events until the server closes; returns its
    /// close frame. [`WsError::Lost`] if the connection broke without one,
    /// [`WsError::Timeout`] if it is still open after `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> Result<CloseInfo, WsError> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(until, self.recv()).await {
                Err(_) => return Err(WsError::Timeout),
                Ok(Ok(_) | Err(WsError::Decode(_))) => {}
                Ok(Err(WsError::Closed(close))) => return Ok(close),
                Ok(Err(other)) => return Err(other),
            }
        }
    }

    /// The close frame the server sent, once it has closed.
    pub fn close_frame(&self) -> Option<&CloseInfo> {
        self.ended.as_ref().and_then(WsError::close)
    }

    /// True once the connection has ended (as far as reading has seen).
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// Closes with 1000 and waits (briefly) for the server's answer.
    pub async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let _ = self.socket.close(None).await;
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }

    /// Drops the TCP connection without a close frame, as a crashed client
    /// or a lost network would.
    pub fn abort(self) {
        drop(self.socket);
    }
}

async fn tcp_connect(address: &str, recv_buffer: Option<u32>) -> Result<TcpStream, WsError> {
    let addrs = tokio::net::lookup_host(address)
        .await
        .map_err(|error| WsError::Lost(format!("resolving {address}: {error}")))?;
    let mut last = WsError::Lost(format!("{address} resolves to nothing"));
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        };
        let attempt = async {
            let socket = socket?;
            if let Some(size) = recv_buffer {
                socket.set_recv_buffer_size(size)?;
            }
            let stream = socket.connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok::<TcpStream, std::io::Error>(stream)
        };
        match attempt.await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = WsError::Lost(format!("connecting to {addr}: {error}")),
        }
    }
    Err(last)
}

/// A failed handshake: an HTTP refusal keeps its status and problem.
fn refusal(error: tungstenite::Error) -> WsError {
    match error {
        tungstenite::Error::Http(response) => {
            let body = response.body().clone().unwrap_or_default();
            WsError::Refused {
                status: response.status().as_u16(),
                problem: serde_json::from_slice::<Problem>(&body).ok(),
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        }
        other => lost(&other),
    }
}

fn lost(error: &tungstenite::Error) -> WsError {
    WsError::Lost(error.to_string())
}

/// The ending is reported on every later call; `WsError` is not `Clone`
/// (it can hold a REST error), but the endings a connection records are.
fn clone_ending(ended: &WsError) -> WsError {
    match ended {
        WsError::Closed(close) => WsError::Closed(close.clone()),
        other => WsError::Lost(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_http_base_url() {
        assert_eq!(
            ws_url("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080/api/v1/ws"
        );
        assert_eq!(
            ws_url("http://chat.example/"),
            "ws://chat.example/api/v1/ws"
        );
        assert_eq!(
            ws_url("https://chat.example"),
            "wss://chat.example/api/v1/ws"
        );
    }
}
