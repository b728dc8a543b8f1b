//! Group membership on a [`Device`]: creating the MLS group of an
//! encrypted chat, Commits that add or remove devices (with their Welcome
//! and GroupInfo), and what to do once the server accepted or refused
//! such a Commit. Joining a group someone else made is in `joins.rs`.
//!
//! Every Commit made here stays pending until the caller says how the
//! server answered ([`Device::commit_accepted`] or
//! [`Device::commit_refused`]); the group moves to the next epoch only
//! when the Delivery Service ordered the Commit, never before.

use super::MlsError;
use super::codec::{self, CIPHERSUITE};
use super::device::{Device, group_id};
use super::state_file::ChatCursor;
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;

/// A Commit ready for `POST /api/v1/chats/{chat_id}/mls/commits`, all
/// base64 `MLSMessage`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitBundle {
    /// The PublicMessage with the Commit.
    pub commit: String,
    /// For the devices the Commit adds, if any.
    pub welcome: Option<String>,
    /// The GroupInfo of the epoch after the Commit (with the ratchet
    /// tree), for devices that will join by external Commit.
    pub group_info: Option<String>,
    /// The epoch the Commit was made in (the server's current one if it
    /// is to be accepted).
    pub epoch: u64,
}

/// The group settings of every natter chat: Commits as PublicMessage (the
/// server checks their epoch and membership), application messages as
/// PrivateMessage (always, in openmls), the ratchet tree inside GroupInfo
/// and Welcome so that joining needs nothing else.
pub(super) fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .use_ratchet_tree_extension(true)
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(super::MAX_PAST_EPOCHS)
        .build()
}

impl Device {
    /// Makes the MLS group of `chat_id` at epoch 0 with this device as its
    /// only member (the server learns of it with the first Commit).
    pub fn create_group(&mut self, chat_id: &str) -> Result<(), MlsError> {
        if self.groups.contains_key(chat_id) {
            return Err(MlsError::Refused(format!(
                "this device already has a group for chat {chat_id}"
            )));
        }
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &create_config(),
            group_id(chat_id),
            self.credential_with_key(),
        )
        .map_err(|error| MlsError::protocol("cannot create the group", error))?;
        self.groups.insert(chat_id.to_owned(), group);
        self.chats.insert(chat_id.to_owned(), ChatCursor::default());
        self.save()
    }

    /// Whether this device has the group of `chat_id` and is still in it.
    pub fn is_member(&self, chat_id: &str) -> bool {
        self.groups.get(chat_id).is_some_and(MlsGroup::is_active)
    }

    /// The group's current epoch, if this device has the group.
    pub fn epoch(&self, chat_id: &str) -> Option<u64> {
        self.groups.get(chat_id).map(|group| group.epoch().as_u64())
    }

    /// The epoch this device's Commit for the chat that awaits the
    /// server's answer was made in, if one does (an external join's too).
    pub fn pending_commit_epoch(&self, chat_id: &str) -> Option<u64> {
        let cursor = self.chats.get(chat_id)?;
        if cursor.external_commit.is_some() {
            return Some(cursor.joined_epoch.saturating_sub(1));
        }
        let group = self.groups.get(chat_id)?;
        group.pending_commit().map(|_| group.epoch().as_u64())
    }

    /// The devices in the group as `(user_id, device_id)`, in leaf order.
    pub fn members(&self, chat_id: &str) -> Vec<(String, String)> {
        self.groups
            .get(chat_id)
            .map(|group| {
                group
                    .members()
                    .filter_map(|member| codec::parse_identity(&member.credential))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A Commit adding the devices whose KeyPackages (base64, as claimed
    /// from the directory) are given. Each KeyPackage is verified
    /// (signature, ciphersuite, lifetime) and must name a natter device;
    /// devices already in the group are refused.
    pub fn add_devices(
        &mut self,
        chat_id: &str,
        key_packages: &[String],
    ) -> Result<CommitBundle, MlsError> {
        let present = self.members(chat_id);
        let mut packages = Vec::with_capacity(key_packages.len());
        for (index, b64) in key_packages.iter().enumerate() {
            let package = self
                .verify_key_package(b64)
                .map_err(|error| MlsError::Refused(format!("key package {index}: {error}")))?;
            let owner =
                codec::parse_identity(package.leaf_node().credential()).ok_or_else(|| {
                    MlsError::Refused(format!("key package {index}: not a natter device"))
                })?;
            if present.contains(&owner) {
                return Err(MlsError::Refused(format!(
                    "device {}:{} is already in the group",
                    owner.0, owner.1
                )));
            }
            packages.push(package);
        }
        let group = self.group_mut(chat_id)?;
        let epoch = group.epoch().as_u64();
        let (commit, welcome, group_info) = {
            let Device {
                provider,
                signer,
                groups,
                ..
            } = self;
            let group = groups.get_mut(chat_id).expect("checked above");
            group
                .add_members(provider, signer, &packages)
                .map_err(|error| MlsError::protocol("cannot add the devices", error))?
        };
        let bundle = CommitBundle {
            commit: codec::encode(&commit)?,
            welcome: Some(codec::encode(&welcome)?),
            group_info: group_info
                .map(|info| codec::encode(&MlsMessageOut::from(info)))
                .transpose()?,
            epoch,
        };
        self.save()?;
        Ok(bundle)
    }

    /// A Commit removing every device of the group for which `remove`
    /// says yes (given `(user_id, device_id)`); this device itself is
    /// never removed this way. Fails if none matches.
    pub fn remove_devices(
        &mut self,
        chat_id: &str,
        remove: impl Fn(&str, &str) -> bool,
    ) -> Result<CommitBundle, MlsError> {
        let own = self.identity();
        let group = self.group_mut(chat_id)?;
        let epoch = group.epoch().as_u64();
        let leaves: Vec<LeafNodeIndex> = group
            .members()
            .filter(|member| {
                codec::parse_identity(&member.credential).is_some_and(|(user, device)| {
                    codec::identity(&user, &device) != own && remove(&user, &device)
                })
            })
            .map(|member| member.index)
            .collect();
        if leaves.is_empty() {
            return Err(MlsError::Refused(
                "no device of the group matches the removal".into(),
            ));
        }
        let Device {
            provider,
            signer,
            groups,
            ..
        } = self;
        let group = groups.get_mut(chat_id).expect("checked above");
        let (commit, welcome, group_info) = group
            .remove_members(provider, signer, &leaves)
            .map_err(|error| MlsError::protocol("cannot remove the devices", error))?;
        let bundle = CommitBundle {
            commit: codec::encode(&commit)?,
            welcome: welcome.map(|welcome| codec::encode(&welcome)).transpose()?,
            group_info: group_info
                .map(|info| codec::encode(&MlsMessageOut::from(info)))
                .transpose()?,
            epoch,
        };
        self.save()?;
        Ok(bundle)
    }

    /// The server ordered this device's pending Commit: the group moves to
    /// the next epoch.
    pub fn commit_accepted(&mut self, chat_id: &str) -> Result<(), MlsError> {
        let Device {
            provider, groups, ..
        } = self;
        let group = groups
            .get_mut(chat_id)
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))?;
        group
            .merge_pending_commit(provider)
            .map_err(|error| MlsError::protocol("cannot merge the commit", error))?;
        if let Some(cursor) = self.chats.get_mut(chat_id) {
            cursor.external_commit = None;
        }
        self.save()
    }

    /// The server refused this device's pending Commit (another one won
    /// the epoch): it is dropped, and the group stays where it was until
    /// the winner is processed. A group that only existed through an
    /// external Commit is dropped with it.
    pub fn commit_refused(&mut self, chat_id: &str) -> Result<(), MlsError> {
        let Device {
            provider,
            groups,
            chats,
            ..
        } = self;
        let group = groups
            .get_mut(chat_id)
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))?;
        if chats
            .get(chat_id)
            .is_some_and(|cursor| cursor.external_commit.is_some())
        {
            group
                .delete(provider.storage())
                .map_err(|error| MlsError::protocol("cannot drop the group", error))?;
            groups.remove(chat_id);
            chats.remove(chat_id);
        } else {
            group
                .clear_pending_commit(provider.storage())
                .map_err(|error| MlsError::protocol("cannot drop the commit", error))?;
        }
        self.save()
    }

    /// A GroupInfo of the current epoch (base64), e.g. to publish again.
    pub fn group_info(&self, chat_id: &str) -> Result<String, MlsError> {
        let group = self
            .groups
            .get(chat_id)
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))?;
        let info = group
            .export_group_info(self.provider.crypto(), &self.signer, true)
            .map_err(|error| MlsError::protocol("cannot export the GroupInfo", error))?;
        codec::encode(&info)
    }

    /// Whether a KeyPackage claimed from the directory for `owner`
    /// (`(user_id, device_id)`) can go into a Commit: it verifies (also
    /// its lifetime: one may expire while it waits in the directory) and
    /// names that device. A caller skips the bad ones rather than fail
    /// the Commit for every other device.
    pub fn usable_key_package(&self, b64: &str, owner: &(String, String)) -> bool {
        self.verify_key_package(b64).is_ok_and(|package| {
            codec::parse_identity(package.leaf_node().credential()).as_ref() == Some(owner)
        })
    }

    fn verify_key_package(&self, b64: &str) -> Result<KeyPackage, MlsError> {
        let package = match codec::decode(b64)?.extract() {
            MlsMessageBodyIn::KeyPackage(package) => package,
            _ => return Err(MlsError::Codec("not a KeyPackage".into())),
        };
        let package = package
            .validate(self.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|error| MlsError::protocol("invalid", error))?;
        if package.ciphersuite() != CIPHERSUITE {
            return Err(MlsError::Refused("not ciphersuite 0x0001".into()));
        }
        Ok(package)
    }

    pub(super) fn group_mut(&mut self, chat_id: &str) -> Result<&mut MlsGroup, MlsError> {
        self.groups
            .get_mut(chat_id)
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))
    }
}
