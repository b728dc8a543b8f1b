//! [`TestServer`]: the real natter server, in-process on `127.0.0.1:0`
//! with a temporary data directory of its own, started the way `natter
//! serve` starts it ([`natter::start`]), plus the users tests need.

use natter::config::Settings;
use natter_client::Client;
use natter_client::ws::{ConnectOptions, Connection, Ready, WsError};
use natter_proto::auth::{AuthResponse, RegisterRequest};
use std::path::Path;
use tempfile::TempDir;

/// The password of every user made by [`TestServer::user`].
pub const PASSWORD: &str = "correct horse battery";

/// A running server and the data directory it owns. The directory lives as
/// long as this value; the server stops when the test's runtime ends or on
/// [`TestServer::shutdown`].
pub struct TestServer {
    server: Option<natter::RunningServer>,
    settings: Settings,
    base_url: String,
    /// Deleted on drop, so it must outlive the server.
    _data_dir: TempDir,
}

/// Settings for tests: any free port, cheap argon2, no rate limits.
pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    };
    settings.auth.argon2_memory_kib = 256;
    settings.auth.argon2_iterations = 1;
    settings.rate_limit.enabled = false;
    settings
}

impl TestServer {
    /// A server with [`test_settings`].
    pub async fn spawn() -> TestServer {
        TestServer::spawn_with(|_| {}).await
    }

    /// A server with [`test_settings`] changed by `configure` (which must
    /// keep `listen` and `data_dir`).
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let mut settings = test_settings(data_dir.path());
        configure(&mut settings);
        let server = natter::start(settings.clone())
            .await
            .expect("the server starts");
        TestServer {
            base_url: server.base_url(),
            server: Some(server),
            settings,
            _data_dir: data_dir,
        }
    }

    /// `http://127.0.0.1:PORT` of the running server.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client without token.
    pub fn client(&self) -> Client {
        Client::new(self.base_url.clone())
    }

    /// Registers `username` (display name: the username capitalised) with
    /// [`PASSWORD`]; returns a client carrying its access token.
    pub async fn user(&self, username: &str) -> (Client, AuthResponse) {
        let auth = self
            .client()
            .register(&RegisterRequest {
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
                display_name: Some(display_name_of(username)),
                device_name: None,
            })
            .await
            .unwrap_or_else(|error| panic!("registering {username}: {error}"));
        (self.client().with_token(auth.access_token.clone()), auth)
    }

    /// Stops the server gracefully and starts it again on the same data
    /// directory (on a new port: use [`TestServer::base_url`] again).
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful shutdown");
        }
        let server = natter::start(self.settings.clone())
            .await
            .expect("the server starts again");
        self.base_url = server.base_url();
        self.server = Some(server);
    }

    /// Stops the server gracefully (open sockets are closed with 1001).
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful shutdown");
        }
    }

    /// A WebSocket authenticated with `token` on the upgrade, after its
    /// `ready`.
    pub async fn socket(&self, token: &str) -> (Connection, Ready) {
        Connection::open(self.base_url(), token)
            .await
            .unwrap_or_else(|error| panic!("opening a WebSocket: {error}"))
    }

    /// A WebSocket opened with `options`, as it comes (nothing read yet).
    pub async fn socket_with(&self, options: &ConnectOptions) -> Result<Connection, WsError> {
        Connection::connect(self.base_url(), options).await
    }

    /// Like [`TestServer::restart`], with the settings changed by
    /// `configure` first (which must keep `listen` and `data_dir`).
    pub async fn restart_with(&mut self, configure: impl FnOnce(&mut Settings)) {
        configure(&mut self.settings);
        self.restart().await;
    }
}

/// "alice" -> "Alice".
pub fn display_name_of(username: &str) -> String {
    let mut chars = username.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
