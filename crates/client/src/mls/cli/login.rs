//! The login `natter-chat` keeps in a device's state directory:
//! `session.json` (server, user, the current single-use refresh token),
//! written owner-only and atomically, refreshed at the start of every
//! run, and the lock that keeps two runs off one directory.

use super::super::EncryptedChats;
use crate::{Client, Session};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The login kept in the state directory.
#[derive(Serialize, Deserialize)]
struct SavedLogin {
    server: String,
    username: String,
    refresh_token: String,
}

/// An exclusive lock on `session.lock` in the state directory, held
/// while the returned file is open.
pub(super) fn lock_state(state: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(state)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(state.join("session.lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("{} is in use by another natter-chat", state.display())
        }
        Err(std::fs::TryLockError::Error(error)) => Err(error.into()),
    }
}

/// A login is a new device: it needs a directory of its own (the keys
/// in an existing one belong to another device).
pub(super) fn refuse_used_state(state: &Path) -> Result<()> {
    if state.join("device.json").exists() {
        bail!(
            "{} already holds a device; give each login its own --state directory",
            state.display()
        );
    }
    Ok(())
}

/// The saved login, refreshed (the new refresh token saved at once).
pub(super) async fn open(state: &Path) -> Result<(Session, EncryptedChats)> {
    let path = state.join("session.json");
    let saved: SavedLogin = serde_json::from_slice(
        &std::fs::read(&path)
            .with_context(|| format!("no login in {}: run login", path.display()))?,
    )?;
    let anonymous = Client::new(saved.server.clone());
    let auth = anonymous
        .refresh(&saved.refresh_token)
        .await
        .context("the login has expired or was revoked: run login again")?;
    let session = Session::from_auth(&anonymous, auth);
    save_login(state, &saved.server, &session)?;
    let chats = EncryptedChats::open(session.client().clone(), state).await?;
    Ok((session, chats))
}

pub(super) fn save_login(state: &Path, server: &str, session: &Session) -> Result<()> {
    let saved = SavedLogin {
        server: server.to_owned(),
        username: session.user().username.clone(),
        refresh_token: session.refresh_token().to_owned(),
    };
    std::fs::create_dir_all(state)?;
    let temporary = state.join("session.json.tmp");
    write_private(&temporary, &serde_json::to_vec_pretty(&saved)?)?;
    std::fs::rename(&temporary, state.join("session.json"))?;
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
