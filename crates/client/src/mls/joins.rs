//! Joining a group someone else made, on a [`Device`]: from a Welcome
//! (another member added this device with one of its KeyPackages), or by
//! external Commit from the group's GroupInfo (no one added it: a user's
//! new device). Either way the device reads nothing sent before.

use super::codec;
use super::device::Device;
use super::groups::CommitBundle;
use super::state_file::ChatCursor;
use super::{MlsError, join_config};
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;

/// A group joined from a Welcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub chat_id: String,
    /// The epoch the device joined at: it can read nothing sent earlier.
    pub epoch: u64,
}

impl Device {
    /// Joins `chat_id`'s group from a Welcome (base64 `MLSMessage`) meant
    /// for one of this device's KeyPackages. The Welcome must be for that
    /// chat's group (the server routes by what the sender claims; the
    /// group id inside is what counts), and the epoch is the one inside
    /// it. A group this device has for the chat is replaced only when it
    /// is no longer active (the device was removed and is added again) or
    /// the Welcome's epoch is later: an old or replayed Welcome never
    /// rolls a live group back.
    pub fn join_welcome(&mut self, chat_id: &str, welcome: &str) -> Result<Joined, MlsError> {
        let welcome = match codec::decode(welcome)?.extract() {
            MlsMessageBodyIn::Welcome(welcome) => welcome,
            _ => return Err(MlsError::Codec("not a Welcome".into())),
        };
        // Leaves that never updated keep their KeyPackage's lifetime, which
        // ends while the group goes on (openmls issue #1810): a member's
        // expired leaf must not keep new devices out, so joining does not
        // check those lifetimes (RFC 9420 §7.3 lets a joiner skip it).
        let staged = StagedWelcome::build_from_welcome(&self.provider, &join_config(), welcome)
            .map_err(|error| MlsError::protocol("cannot open the Welcome", error))?
            .replace_old_group()
            .skip_lifetime_validation()
            .build()
            .map_err(|error| MlsError::protocol("cannot use the Welcome", error))?;
        let context = staged.group_context();
        if context.group_id().as_slice() != chat_id.as_bytes() {
            return Err(MlsError::Refused(format!(
                "the Welcome is not for chat {chat_id}"
            )));
        }
        let epoch = context.epoch().as_u64();
        if let Some(current) = self.groups.get(chat_id)
            && current.is_active()
            && current.epoch().as_u64() >= epoch
        {
            return Err(MlsError::Refused(format!(
                "the Welcome is for epoch {epoch}; this device is in chat {chat_id} at epoch {} already",
                current.epoch().as_u64()
            )));
        }
        let group = staged
            .into_group(&self.provider)
            .map_err(|error| MlsError::protocol("cannot join the group", error))?;
        self.groups.insert(chat_id.to_owned(), group);
        self.chats.insert(
            chat_id.to_owned(),
            ChatCursor {
                last_seq: 0,
                joined_epoch: epoch,
                external_commit: None,
            },
        );
        self.save()?;
        Ok(Joined {
            chat_id: chat_id.to_owned(),
            epoch,
        })
    }

    /// An external Commit joining `chat_id`'s group from its GroupInfo
    /// (base64 `MLSMessage`, as `GET .../mls/group-info` gives it): how a
    /// member's new device gets in without anyone online to add it. Until
    /// [`Device::commit_accepted`], the group is provisional.
    pub fn join_external(
        &mut self,
        chat_id: &str,
        group_info: &str,
    ) -> Result<CommitBundle, MlsError> {
        let info = match codec::decode(group_info)?.extract() {
            MlsMessageBodyIn::GroupInfo(info) => info,
            _ => return Err(MlsError::Codec("not a GroupInfo".into())),
        };
        if info.group_id().as_slice() != chat_id.as_bytes() {
            return Err(MlsError::Refused(format!(
                "the GroupInfo is not for chat {chat_id}"
            )));
        }
        if self.is_member(chat_id) {
            return Err(MlsError::Refused(format!(
                "this device is already in chat {chat_id}"
            )));
        }
        if let Some(mut old) = self.groups.remove(chat_id) {
            old.delete(self.provider.storage())
                .map_err(|error| MlsError::protocol("cannot drop the old group", error))?;
        }
        let epoch = info.epoch().as_u64();
        // Old members' expired leaf lifetimes are no reason to stay out,
        // as for a Welcome (openmls issue #1810).
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_config(join_config())
            .skip_lifetime_validation()
            .build_group(&self.provider, info, self.credential_with_key())
            .map_err(|error| MlsError::protocol("cannot use the GroupInfo", error))?
            .load_psks(self.provider.storage())
            .map_err(|error| MlsError::protocol("cannot load PSKs", error))?
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(|error| MlsError::protocol("cannot build the external commit", error))?
            .finalize(&self.provider)
            .map_err(|error| MlsError::protocol("cannot finish the external commit", error))?;
        let (commit, _, group_info) = bundle.into_contents();
        let bundle = CommitBundle {
            commit: codec::encode(&commit)?,
            welcome: None,
            group_info: group_info
                .map(|info| codec::encode(&MlsMessageOut::from(info)))
                .transpose()?,
            epoch,
        };
        self.groups.insert(chat_id.to_owned(), group);
        self.chats.insert(
            chat_id.to_owned(),
            ChatCursor {
                last_seq: 0,
                joined_epoch: epoch + 1,
                external_commit: Some(bundle.commit.clone()),
            },
        );
        self.save()?;
        Ok(bundle)
    }
}
