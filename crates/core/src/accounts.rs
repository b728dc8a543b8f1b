//! Accounts and sessions: register, login, refresh with rotation and reuse
//! detection, logout, password change, and turning an access token into a
//! [`Caller`].

use super::tokens::{hash_refresh_token, new_refresh_token};
use super::{Caller, Core, CoreError, CoreResult, bounded_text, new_id, now_ms};
use natter_bus::{Envelope, Meta, Subject};
use natter_proto::auth::{AuthResponse, ChangePasswordRequest, LoginRequest, RegisterRequest};
use natter_store::{NewUser, RefreshOutcome, StoreError, UserRow};
use std::net::IpAddr;

/// Longest password accepted: argon2 hashes all of it, so unbounded input
/// would be a cheap way to burn server CPU.
const MAX_PASSWORD_LEN: usize = 1024;

/// Lower-cases and checks a username: 3 to 32 of `a-z 0-9 _ . -`.
pub fn normalize_username(username: &str) -> CoreResult<String> {
    let lower = username.trim().to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
    if !(3..=32).contains(&lower.len()) || !lower.chars().all(allowed) {
        return Err(CoreError::invalid(
            "username must be 3 to 32 characters of a-z, 0-9, '_', '.' and '-'",
        ));
    }
    Ok(lower)
}

fn check_password(password: &str) -> CoreResult<()> {
    if password.chars().count() < 8 {
        return Err(CoreError::invalid(
            "password must be at least 8 characters long",
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(CoreError::invalid(format!(
            "password must be at most {MAX_PASSWORD_LEN} bytes long"
        )));
    }
    Ok(())
}

impl Core {
    pub async fn register(
        &self,
        request: RegisterRequest,
        ip: Option<IpAddr>,
    ) -> CoreResult<AuthResponse> {
        self.limits.auth_attempt(ip)?;
        let username = normalize_username(&request.username)?;
        check_password(&request.password)?;
        let display_name = match &request.display_name {
            Some(name) => bounded_text("display_name", name, 1, 64)?,
            None => username.clone(),
        };
        let device_name = super::devices::device_name(request.device_name.as_deref())?;
        let password_hash = self.hash_password(request.password).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: new_id(),
                username,
                display_name,
                password_hash,
                created_at: now_ms(),
            })
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => CoreError::conflict("username is already taken"),
                other => other.into(),
            })?;
        self.start_session(user, &device_name).await
    }

    pub async fn login(
        &self,
        request: LoginRequest,
        ip: Option<IpAddr>,
    ) -> CoreResult<AuthResponse> {
        self.limits.auth_attempt(ip)?;
        let username = request.username.trim().to_ascii_lowercase();
        self.limits.login_attempt(&username, ip)?;
        let device_name = super::devices::device_name(request.device_name.as_deref())?;
        let user = self.store.user_by_username(&username).await?;
        let phc = user
            .as_ref()
            .map_or(self.decoy_hash.clone(), |user| user.password_hash.clone());
        let matches = self.verify_password(request.password, phc).await?;
        match user {
            Some(user) if matches => self.start_verified_session(user, &device_name).await,
            _ => Err(CoreError::unauthorized("wrong username or password")),
        }
    }

    /// A session for a login whose password checked out against
    /// `user.password_hash`. A password change that landed during the
    /// check (it ends every other session) must end this one too: if the
    /// stored hash is another by the time the session exists, the session
    /// is revoked again and the login refused.
    async fn start_verified_session(
        &self,
        user: UserRow,
        device_name: &str,
    ) -> CoreResult<AuthResponse> {
        let (session_id, refresh_token) = self.open_session(&user, device_name).await?;
        let still = self.store.user_by_id(&user.id).await?;
        if still.is_some_and(|stored| stored.password_hash == user.password_hash) {
            return self.auth_response(user, &session_id, refresh_token).await;
        }
        self.store
            .revoke_device(&user.id, &session_id, now_ms())
            .await?;
        Err(CoreError::unauthorized("wrong username or password"))
    }

    /// Trades a live refresh token for a new pair; a dead one presented
    /// again revokes its whole session (someone else holds a copy).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        ip: Option<IpAddr>,
    ) -> CoreResult<AuthResponse> {
        self.limits.refresh_attempt(ip)?;
        let new_token = new_refresh_token()?;
        let now = now_ms();
        let outcome = self
            .store
            .rotate_refresh(
                &hash_refresh_token(refresh_token),
                &hash_refresh_token(&new_token),
                now,
                now + self.refresh_ttl_ms,
            )
            .await?;
        match outcome {
            RefreshOutcome::Rotated {
                session_id,
                user_id,
            } => {
                let user = self
                    .store
                    .user_by_id(&user_id)
                    .await?
                    .ok_or_else(|| CoreError::unauthorized("the account no longer exists"))?;
                self.auth_response(user, &session_id, new_token).await
            }
            RefreshOutcome::Reused {
                session_id,
                user_id,
            } => {
                tracing::warn!(%session_id, "refresh token reused: session revoked");
                self.session_ended(&user_id, &session_id);
                Err(CoreError::unauthorized(
                    "refresh token was already used; the session is revoked",
                ))
            }
            RefreshOutcome::Invalid => Err(CoreError::unauthorized("refresh token is not valid")),
        }
    }

    /// Ends the session of this refresh token; its access tokens stop
    /// working. Unknown tokens are ignored (logout is idempotent).
    pub async fn logout(&self, refresh_token: &str, ip: Option<IpAddr>) -> CoreResult<()> {
        self.limits.refresh_attempt(ip)?;
        let ended = self
            .store
            .revoke_by_refresh(&hash_refresh_token(refresh_token))
            .await?;
        if let Some(ended) = ended {
            self.session_ended(&ended.user_id, &ended.session_id);
        }
        Ok(())
    }

    /// Replaces the caller's password if they know the current one, then
    /// ends every other session of theirs at once (a password is changed
    /// because it may have leaked: whoever used it must be out). The
    /// caller's own session goes on. Attempts count against the account's
    /// login limit, so this is no side door for guessing the password.
    pub async fn change_password(
        &self,
        caller: &Caller,
        request: ChangePasswordRequest,
        ip: Option<IpAddr>,
    ) -> CoreResult<()> {
        let user = self
            .store
            .user_by_id(&caller.user_id)
            .await?
            .ok_or_else(|| CoreError::unauthorized("the account no longer exists"))?;
        self.limits.login_attempt(&user.username, ip)?;
        check_password(&request.new_password)?;
        let matches = self
            .verify_password(request.current_password, user.password_hash.clone())
            .await?;
        if !matches {
            return Err(CoreError::unauthorized("the current password is wrong"));
        }
        let password_hash = self.hash_password(request.new_password).await?;
        self.store
            .set_password_hash(&user.id, &password_hash)
            .await?;
        let ended = self
            .store
            .revoke_other_sessions(&user.id, &caller.session_id)
            .await?;
        for session_id in ended {
            self.session_ended(&user.id, &session_id);
        }
        Ok(())
    }

    /// Tells every node that a session is over, so that its open sockets
    /// close at once (1008) instead of living on until they reconnect.
    /// Every way a session ends goes through here.
    pub(crate) fn session_ended(&self, user_id: &str, session_id: &str) {
        self.bus.publish(Envelope::control(
            Subject::User(user_id.to_owned()),
            Meta::SessionEnded {
                session_id: session_id.to_owned(),
            },
        ));
    }

    /// True if the caller's session is still live (for a socket that was
    /// authenticated a moment ago, once its routes are in place: a session
    /// ended in between would otherwise go unnoticed).
    pub async fn session_live(&self, caller: &Caller) -> CoreResult<bool> {
        Ok(self
            .store
            .active_session_user(&caller.session_id, now_ms())
            .await?
            .is_some_and(|user_id| user_id == caller.user_id))
    }

    /// The caller behind an access token, if it is valid and its session
    /// is still live.
    pub async fn authenticate(&self, access_token: &str) -> CoreResult<Caller> {
        let claims = self
            .tokens
            .verify(access_token)
            .ok_or_else(|| CoreError::unauthorized("access token is invalid or expired"))?;
        if claims.sub.is_empty() {
            return Err(CoreError::unauthorized(
                "access token is invalid or expired",
            ));
        }
        // The session is the authority: a token naming a live session of
        // another user (or of none) is not that user's.
        match self
            .store
            .active_session_user(&claims.sid, now_ms())
            .await?
        {
            Some(user_id) if user_id == claims.sub => {}
            Some(_) => {
                return Err(CoreError::unauthorized(
                    "access token is invalid or expired",
                ));
            }
            None => return Err(CoreError::unauthorized("the session has ended")),
        }
        Ok(Caller {
            user_id: claims.sub,
            session_id: claims.sid,
        })
    }

    async fn start_session(&self, user: UserRow, device_name: &str) -> CoreResult<AuthResponse> {
        let (session_id, refresh_token) = self.open_session(&user, device_name).await?;
        self.auth_response(user, &session_id, refresh_token).await
    }

    /// Stores a new session of `user`; its id and refresh token.
    async fn open_session(
        &self,
        user: &UserRow,
        device_name: &str,
    ) -> CoreResult<(String, String)> {
        let session_id = new_id();
        let refresh_token = new_refresh_token()?;
        let now = now_ms();
        self.store
            .create_session(
                &session_id,
                &user.id,
                device_name,
                &hash_refresh_token(&refresh_token),
                now,
                now + self.refresh_ttl_ms,
            )
            .await?;
        Ok((session_id, refresh_token))
    }

    async fn auth_response(
        &self,
        user: UserRow,
        session_id: &str,
        refresh_token: String,
    ) -> CoreResult<AuthResponse> {
        let access_token = self.tokens.issue(&user.id, session_id, now_ms() / 1000)?;
        Ok(AuthResponse {
            user: self.user_view(&user).await,
            access_token,
            refresh_token,
            expires_in: self.tokens.ttl_secs(),
        })
    }

    async fn hash_password(&self, password: String) -> CoreResult<String> {
        let passwords = self.passwords.clone();
        let hashed = tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(anyhow::Error::from)??;
        Ok(hashed)
    }

    pub(crate) async fn verify_password(&self, password: String, phc: String) -> CoreResult<bool> {
        let passwords = self.passwords.clone();
        Ok(
            tokio::task::spawn_blocking(move || passwords.verify(&password, &phc))
                .await
                .map_err(anyhow::Error::from)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_restricted() {
        assert_eq!(normalize_username("Alice_01").unwrap(), "alice_01");
        assert!(normalize_username("al").is_err());
        assert!(normalize_username(&"a".repeat(33)).is_err());
        assert!(normalize_username("al ice").is_err());
        assert!(normalize_username("alïce").is_err());
        assert!(normalize_username("a.b-c_d").is_ok());
    }

    #[test]
    fn passwords_need_eight_characters_and_a_sane_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(2000)).is_err());
    }
}
