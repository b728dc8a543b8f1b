//! [`Device`]: the MLS client of one natter device (one session), its
//! signature key and credential, its openmls key store, and saving and
//! loading all of it under a directory the caller gives.
//!
//! Group operations live in `groups.rs`, message encryption and
//! processing in `messages.rs`; this module owns identity, KeyPackages
//! and persistence.

use super::MlsError;
use super::codec::{self, CIPHERSUITE};
use super::state_file::{ChatCursor, StateFile};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One natter device's MLS client.
///
/// Every method that changes MLS state saves the whole state to the
/// device's directory before it returns, so a process may stop at any
/// moment and [`Device::open`] continues where it was. A device holds its
/// directory exclusively (a lock file) until it is dropped: a second
/// open of the same directory fails rather than fork the state.
pub struct Device {
    pub(super) dir: PathBuf,
    pub(super) user_id: String,
    pub(super) device_id: String,
    pub(super) provider: OpenMlsRustCrypto,
    pub(super) signer: SignatureKeyPair,
    pub(super) chats: BTreeMap<String, ChatCursor>,
    pub(super) groups: HashMap<String, MlsGroup>,
    /// The directory's lock, released when the device is dropped.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Device {
    /// Names the device, never a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .field("identity", &self.identity())
            .field("chats", &self.chats.len())
            .finish()
    }
}

impl Device {
    /// A new device with a fresh signature key, saved to `dir` (created
    /// if missing). Fails if `dir` already holds a device.
    pub fn create(dir: &Path, user_id: &str, device_id: &str) -> Result<Device, MlsError> {
        let lock = StateFile::lock(dir)?;
        if StateFile::exists(dir) {
            return Err(MlsError::State(format!(
                "{} already holds a device",
                dir.display()
            )));
        }
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|error| MlsError::protocol("cannot make a signature key", error))?;
        let provider = OpenMlsRustCrypto::default();
        signer
            .store(provider.storage())
            .map_err(|error| MlsError::protocol("cannot store the signature key", error))?;
        let device = Device {
            dir: dir.to_owned(),
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            provider,
            signer,
            chats: BTreeMap::new(),
            groups: HashMap::new(),
            _lock: lock,
        };
        device.save()?;
        Ok(device)
    }

    /// The device saved in `dir`, with all its groups.
    pub fn open(dir: &Path) -> Result<Device, MlsError> {
        let lock = StateFile::lock(dir)?;
        let state = StateFile::read(dir)?;
        let provider = OpenMlsRustCrypto::default();
        *provider
            .storage()
            .values
            .write()
            .map_err(|_| MlsError::State("the key store lock is poisoned".into()))? =
            state.storage_values()?;
        let public_key = codec::unb64(&state.signature_public_key)?;
        let signer = SignatureKeyPair::read(
            provider.storage(),
            &public_key,
            CIPHERSUITE.signature_algorithm(),
        )
        .ok_or_else(|| MlsError::State("the signature key is missing from the state".into()))?;
        let mut groups = HashMap::new();
        for chat_id in state.chats.keys() {
            let group = MlsGroup::load(provider.storage(), &group_id(chat_id))
                .map_err(|error| MlsError::protocol("cannot load a group", error))?;
            if let Some(group) = group {
                groups.insert(chat_id.clone(), group);
            }
        }
        Ok(Device {
            dir: dir.to_owned(),
            user_id: state.user_id,
            device_id: state.device_id,
            provider,
            signer,
            chats: state.chats,
            groups,
            _lock: lock,
        })
    }

    /// The device in `dir` if there is one (it must be this user's
    /// device `device_id`), else a new one.
    pub fn open_or_create(dir: &Path, user_id: &str, device_id: &str) -> Result<Device, MlsError> {
        if !StateFile::exists(dir) {
            return Device::create(dir, user_id, device_id);
        }
        let device = Device::open(dir)?;
        if device.user_id != user_id || device.device_id != device_id {
            return Err(MlsError::State(format!(
                "{} holds device {}, not {}",
                dir.display(),
                device.identity(),
                codec::identity(user_id, device_id)
            )));
        }
        Ok(device)
    }

    /// Writes the whole state to the device's directory.
    pub fn save(&self) -> Result<(), MlsError> {
        let values = self
            .provider
            .storage()
            .values
            .read()
            .map_err(|_| MlsError::State("the key store lock is poisoned".into()))?;
        let state = StateFile {
            version: StateFile::current_version(),
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            signature_public_key: codec::b64(self.signer.public()),
            chats: self.chats.clone(),
            storage: StateFile::encode_storage(&values),
        };
        drop(values);
        state.write(&self.dir)
    }

    /// The natter user this device belongs to.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The natter device (session) id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// `"<user_id>:<device_id>"`, the identity of this device's credential.
    pub fn identity(&self) -> String {
        codec::identity(&self.user_id, &self.device_id)
    }

    /// The directory the state is saved in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `count` fresh one-time KeyPackages (base64 `MLSMessage`s) for the
    /// KeyPackage directory; their private keys stay in the key store
    /// until a Welcome uses them.
    pub fn key_packages(&mut self, count: usize) -> Result<Vec<String>, MlsError> {
        let packages = (0..count)
            .map(|_| self.key_package(false))
            .collect::<Result<Vec<_>, _>>()?;
        self.save()?;
        Ok(packages)
    }

    /// A last-resort KeyPackage: the directory hands it out when the
    /// one-time ones are gone, possibly more than once, so its private
    /// key stays after a Welcome used it.
    pub fn last_resort_key_package(&mut self) -> Result<String, MlsError> {
        let package = self.key_package(true)?;
        self.save()?;
        Ok(package)
    }

    fn key_package(&self, last_resort: bool) -> Result<String, MlsError> {
        // Every KeyPackage says its leaf understands the last_resort
        // extension: a KeyPackage may carry only extensions its leaf
        // supports, and one leaf node serves both kinds.
        let capabilities =
            Capabilities::new(None, None, Some(&[ExtensionType::LastResort]), None, None);
        let mut builder = KeyPackage::builder().leaf_node_capabilities(capabilities);
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(
                CIPHERSUITE,
                &self.provider,
                &self.signer,
                self.credential_with_key(),
            )
            .map_err(|error| MlsError::protocol("cannot build a KeyPackage", error))?;
        codec::encode(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    pub(super) fn credential_with_key(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(self.identity().into_bytes()).into(),
            signature_key: self.signer.to_public_vec().into(),
        }
    }

    /// What this device remembers of `chat_id`, if it is in its group.
    pub fn cursor(&self, chat_id: &str) -> Option<&ChatCursor> {
        self.chats.get(chat_id)
    }

    /// The encrypted chats this device has a group for, active or not.
    pub fn chat_ids(&self) -> impl Iterator<Item = &str> {
        self.chats.keys().map(String::as_str)
    }
}

/// The MLS group id of a chat: the UTF-8 bytes of its `chat_id`.
pub(super) fn group_id(chat_id: &str) -> GroupId {
    GroupId::from_slice(chat_id.as_bytes())
}
