//! The `/api/v1/auth/*` calls, and [`Session`]: a logged-in user whose
//! tokens the library keeps and rotates.

use crate::{Client, Result};
use natter_proto::auth::{AuthResponse, LoginRequest, RefreshRequest, RegisterRequest};
use natter_proto::users::User;
use reqwest::Method;

impl Client {
    /// `POST /api/v1/auth/register` (201): creates the account and a
    /// session. Does not change this client's token; see [`Session`].
    pub async fn register(&self, request: &RegisterRequest) -> Result<AuthResponse> {
        let builder = self
            .request(Method::POST, "/api/v1/auth/register")
            .json(request);
        Ok(self.call(builder).await?.0)
    }

    /// `POST /api/v1/auth/login` (200): a new session.
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthResponse> {
        self.login_with(&LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device_name: None,
        })
        .await
    }

    /// `POST /api/v1/auth/login` with every field of the request (e.g.
    /// the `device_name` it shows as in the device list).
    pub async fn login_with(&self, request: &LoginRequest) -> Result<AuthResponse> {
        let builder = self
            .request(Method::POST, "/api/v1/auth/login")
            .json(request);
        Ok(self.call(builder).await?.0)
    }

    /// `POST /api/v1/auth/refresh` (200): trades a live refresh token for
    /// new tokens. The presented token is dead afterwards; presenting it
    /// again revokes the whole session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthResponse> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        let builder = self
            .request(Method::POST, "/api/v1/auth/refresh")
            .json(&body);
        Ok(self.call(builder).await?.0)
    }

    /// `POST /api/v1/auth/logout` (204): ends the session the refresh
    /// token belongs to; its access tokens stop working too.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        let builder = self
            .request(Method::POST, "/api/v1/auth/logout")
            .json(&body);
        self.call_empty(builder).await
    }
}

/// A logged-in user: a [`Client`] carrying the current access token, and
/// the refresh token to renew it.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    auth: AuthResponse,
}

impl Session {
    /// Registers a new account through `client` and keeps its tokens.
    pub async fn register(client: &Client, request: &RegisterRequest) -> Result<Session> {
        let auth = client.register(request).await?;
        Ok(Session::from_auth(client, auth))
    }

    /// Logs in through `client` and keeps the tokens.
    pub async fn login(client: &Client, username: &str, password: &str) -> Result<Session> {
        let auth = client.login(username, password).await?;
        Ok(Session::from_auth(client, auth))
    }

    /// Wraps tokens obtained elsewhere; `client` may carry any token.
    pub fn from_auth(client: &Client, auth: AuthResponse) -> Session {
        Session {
            client: client.with_token(auth.access_token.clone()),
            auth,
        }
    }

    /// A client authenticated as this user (cheap to clone).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The user as of the last register, login or refresh.
    pub fn user(&self) -> &User {
        &self.auth.user
    }

    /// The last tokens received.
    pub fn auth(&self) -> &AuthResponse {
        &self.auth
    }

    /// The current access token.
    pub fn access_token(&self) -> &str {
        &self.auth.access_token
    }

    /// The current (single-use) refresh token.
    pub fn refresh_token(&self) -> &str {
        &self.auth.refresh_token
    }

    /// Rotates the tokens; on success the session's client uses the new
    /// access token. On failure the session is unchanged (and, if the
    /// server detected reuse, revoked server-side).
    pub async fn refresh(&mut self) -> Result<()> {
        let auth = self.client.refresh(&self.auth.refresh_token).await?;
        self.client = self.client.with_token(auth.access_token.clone());
        self.auth = auth;
        Ok(())
    }

    /// Ends the session on the server.
    pub async fn logout(self) -> Result<()> {
        self.client.logout(&self.auth.refresh_token).await
    }
}
