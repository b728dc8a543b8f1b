//! Devices: each session is one, named at login. A user lists them,
//! renames them and removes them (with the password); a removed device's
//! tokens stop working at once, its sockets close (1008) on every node
//! and its push subscriptions are gone.

use super::{Caller, Core, CoreError, CoreResult, bounded_text, now_ms};
use natter_proto::Timestamp;
use natter_proto::devices::Device;
use natter_store::DeviceRow;
use std::sync::Arc;

/// Longest device name, in characters.
pub const MAX_DEVICE_NAME: usize = 64;

/// A device name as given at login: trimmed, at most
/// [`MAX_DEVICE_NAME`] characters, no control characters; empty if none.
pub(crate) fn device_name(name: Option<&str>) -> CoreResult<String> {
    match name.map(str::trim) {
        None | Some("") => Ok(String::new()),
        Some(name) => bounded_text("device_name", name, 1, MAX_DEVICE_NAME),
    }
}

impl Core {
    /// The caller's live devices, oldest first; `current` marks the
    /// caller's own.
    pub async fn devices(&self, caller: &Caller) -> CoreResult<Vec<Device>> {
        let rows = self.store.devices(&caller.user_id, now_ms()).await?;
        Ok(rows
            .into_iter()
            .map(|row| device_view(row, caller))
            .collect())
    }

    pub async fn rename_device(
        &self,
        caller: &Caller,
        device_id: &str,
        name: &str,
    ) -> CoreResult<Device> {
        let name = bounded_text("name", name, 1, MAX_DEVICE_NAME)?;
        let row = self
            .store
            .rename_device(&caller.user_id, device_id, &name, now_ms())
            .await?
            .ok_or_else(|| CoreError::not_found("device"))?;
        Ok(device_view(row, caller))
    }

    /// Ends one of the caller's devices (the caller's own too) once the
    /// password checks out: a stolen session alone cannot sign its owner
    /// out everywhere.
    pub async fn remove_device(
        &self,
        caller: &Caller,
        device_id: &str,
        password: &str,
    ) -> CoreResult<()> {
        let user = self
            .store
            .user_by_id(&caller.user_id)
            .await?
            .ok_or_else(|| CoreError::unauthorized("the account no longer exists"))?;
        // Guesses here count against the account like failed logins.
        self.limits.login_attempt(&user.username, None)?;
        if !self
            .verify_password(password.to_owned(), user.password_hash)
            .await?
        {
            return Err(CoreError::unauthorized("wrong password"));
        }
        if !self
            .store
            .revoke_device(&caller.user_id, device_id, now_ms())
            .await?
        {
            return Err(CoreError::not_found("device"));
        }
        self.session_ended(&caller.user_id, device_id);
        Ok(())
    }

    /// Notes that a socket opened with the caller's session (the
    /// device's `last_seen_at`), on a task of its own: the socket's
    /// `ready` does not wait for the write, and a failure only costs the
    /// note.
    pub fn device_used(self: &Arc<Self>, caller: &Caller) {
        let (core, session_id) = (self.clone(), caller.session_id.clone());
        tokio::spawn(async move {
            if let Err(error) = core.store.touch_session(&session_id, now_ms()).await {
                tracing::debug!(?error, "noting a device's last use failed");
            }
        });
    }
}

fn device_view(row: DeviceRow, caller: &Caller) -> Device {
    Device {
        current: row.session_id == caller.session_id,
        device_id: row.session_id,
        name: row.name,
        created_at: Timestamp(row.created_at),
        last_seen_at: Timestamp(row.last_seen_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_are_optional_trimmed_and_bounded() {
        assert_eq!(device_name(None).unwrap(), "");
        assert_eq!(device_name(Some("   ")).unwrap(), "");
        assert_eq!(device_name(Some(" Phone ")).unwrap(), "Phone");
        assert!(device_name(Some(&"x".repeat(MAX_DEVICE_NAME + 1))).is_err());
        assert!(device_name(Some("a\u{1b}b")).is_err());
    }
}
