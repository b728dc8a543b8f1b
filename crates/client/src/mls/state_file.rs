//! The device's state on disk: one JSON file, `device.json`, in the
//! directory the caller chose, holding the device's identity, the
//! openmls key store (signature key, KeyPackage private keys, every
//! group's secrets) and per chat how far the device has read.
//!
//! Written whole after every change, to a temporary file that is synced
//! and renamed over the old one, so a crash leaves either the old state
//! or the new one, never half of each. The file holds private keys: it is
//! created readable by its owner only (on Unix), and its directory too.
//! Nothing here is encrypted at rest; protecting the directory is the
//! caller's (and the operating system's) business.

use super::MlsError;
use super::codec::{b64, unb64};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The layout version of `device.json`; a different one is refused
/// rather than misread.
const VERSION: u32 = 1;
const FILE_NAME: &str = "device.json";
/// Held (an exclusive advisory lock) by the one process using the state.
const LOCK_NAME: &str = "device.lock";

/// What one device remembers about one encrypted chat, besides the MLS
/// group itself (which lives in the key store).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatCursor {
    /// The highest `seq` of the chat this device has processed: messages
    /// at or below it are never processed again (their keys are gone).
    pub last_seq: i64,
    /// The MLS epoch at which this device joined the group: messages of
    /// earlier epochs were sent before it was a member.
    pub joined_epoch: u64,
    /// While the group exists only through this device's external Commit
    /// that the server has not been seen to accept: that Commit (base64,
    /// as posted), so that it is recognised when the stream relays it
    /// back (openmls does not: its sender is a new member, not a leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_commit: Option<String>,
}

/// The serialised form of a device.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StateFile {
    pub version: u32,
    pub user_id: String,
    pub device_id: String,
    /// The Ed25519 public key of the device's credential (base64); the
    /// private half is in `storage`.
    pub signature_public_key: String,
    pub chats: BTreeMap<String, ChatCursor>,
    /// The openmls key store: base64 key -> base64 value.
    pub storage: BTreeMap<String, String>,
}

impl StateFile {
    /// The path of the state file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Takes the directory for this process: an exclusive lock on
    /// `device.lock`, held while the returned file is open, so that a
    /// second process cannot load the same state and overwrite the
    /// first one's (whichever saved last would win, and the other's keys
    /// would be lost).
    pub fn lock(dir: &Path) -> Result<fs::File, MlsError> {
        let io = |error: std::io::Error| {
            MlsError::State(format!("cannot lock {}: {error}", dir.display()))
        };
        create_private_dir(dir).map_err(io)?;
        let file = private_file_keep(&dir.join(LOCK_NAME)).map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(MlsError::State(format!(
                "{} is in use by another process",
                dir.display()
            ))),
            Err(fs::TryLockError::Error(error)) => Err(io(error)),
        }
    }

    /// Whether `dir` holds a device.
    pub fn exists(dir: &Path) -> bool {
        Self::path(dir).is_file()
    }

    /// Reads the state in `dir`.
    pub fn read(dir: &Path) -> Result<StateFile, MlsError> {
        let path = Self::path(dir);
        let bytes = fs::read(&path)
            .map_err(|error| MlsError::State(format!("cannot read {}: {error}", path.display())))?;
        let state: StateFile = serde_json::from_slice(&bytes)
            .map_err(|error| MlsError::State(format!("{} is damaged: {error}", path.display())))?;
        if state.version != VERSION {
            return Err(MlsError::State(format!(
                "{} has layout version {}, this program reads {VERSION}",
                path.display(),
                state.version
            )));
        }
        Ok(state)
    }

    /// Writes the state to `dir` atomically (temporary file, fsync,
    /// rename, fsync of the directory).
    pub fn write(&self, dir: &Path) -> Result<(), MlsError> {
        let io = |error: std::io::Error| {
            MlsError::State(format!("cannot write to {}: {error}", dir.display()))
        };
        create_private_dir(dir).map_err(io)?;
        let bytes = serde_json::to_vec(self)
            .map_err(|error| MlsError::State(format!("cannot serialise the state: {error}")))?;
        let temporary = dir.join(format!("{FILE_NAME}.tmp"));
        let mut file = private_file(&temporary).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&temporary, Self::path(dir)).map_err(io)?;
        // The rename is durable only once the directory entry is.
        if let Ok(directory) = fs::File::open(dir) {
            let _ = directory.sync_all();
        }
        Ok(())
    }

    /// The key store's contents as the map openmls keeps.
    pub fn storage_values(&self) -> Result<HashMap<Vec<u8>, Vec<u8>>, MlsError> {
        self.storage
            .iter()
            .map(|(key, value)| Ok((unb64(key)?, unb64(value)?)))
            .collect()
    }

    /// The key store's contents in serialisable form.
    pub fn encode_storage(values: &HashMap<Vec<u8>, Vec<u8>>) -> BTreeMap<String, String> {
        values
            .iter()
            .map(|(key, value)| (b64(key), b64(value)))
            .collect()
    }

    pub fn current_version() -> u32 {
        VERSION
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

/// Opens (creating, never truncating) an owner-only file.
fn private_file_keep(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
