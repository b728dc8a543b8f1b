//! The Delivery Service's group duties for encrypted chats: ordering
//! Commits (one per epoch, in the chat's `seq` order), routing Welcomes
//! to the devices they name, and keeping each chat's latest GroupInfo.
//!
//! A Commit is checked against the chat's natter membership as far as
//! its public parts allow (`groups`): each Add must add a live device of
//! a current member, the committer's own leaf (when the Commit has a
//! path) must be the calling device, every such leaf must be signed with
//! the key its device pinned in the KeyPackage directory (a credential
//! alone is only a name), and a Welcome may name only the
//! KeyPackages the Commit adds. Remove proposals name tree leaves, which
//! the server cannot map to devices (it holds no tree): they are relayed
//! unchecked. The epoch check that counts is the store's: the append of
//! the Commit sets the chat's epoch to the next one in the same
//! transaction, or stores nothing (`Appended::StaleEpoch`). A Commit's
//! Welcomes are stored just before it and count only once its message
//! exists, so an accepted Commit never lacks them; its GroupInfo is kept
//! just after it (one lost to a crash or a failed write is replaced by
//! the next Commit's: the Commit is accepted all the same).

use super::groups::{self, CommitFacts};
use super::wire;
use crate::limits::UserAction;
use crate::{Caller, Core, CoreError, CoreResult, new_id, now_ms};
use natter_bus::{Envelope, Meta};
use natter_proto::events::ServerEvent;
use natter_proto::messages::{MessageType, Metadata};
use natter_proto::mls::{
    CommitAccepted, GroupInfo, MlsRecord, PendingWelcome, PostCommit, WelcomeList,
};
use natter_store::{Appended, ChatRow, NewMessage, NewWelcome};
use openmls::prelude::{Credential, KeyPackageRef};

/// A Commit as the chat's next message: its bytes as content, what it
/// was as server-set metadata, and the epoch precondition the store
/// checks and moves in the append's transaction.
fn commit_message(
    caller: &Caller,
    chat_id: &str,
    message_id: &str,
    commit: String,
    epoch: i64,
    now: i64,
) -> NewMessage {
    NewMessage {
        id: message_id.to_owned(),
        chat_id: chat_id.to_owned(),
        sender_id: caller.user_id.clone(),
        message_type: MessageType::Mls,
        content: commit,
        file_id: None,
        metadata: Metadata {
            mls: Some(MlsRecord {
                kind: "commit".into(),
                epoch,
            }),
            ..Metadata::default()
        },
        client_msg_id: None,
        created_at: now,
        // A Commit changes the group, it says nothing to a person.
        owes_push: false,
        mls_epoch: Some(epoch),
    }
}

/// What became of a posted Commit.
#[derive(Debug)]
pub enum CommitOutcome {
    /// Stored as the chat's next message; the chat is at the new epoch.
    Accepted(CommitAccepted),
    /// Made for another epoch than the chat's (`epoch`, now): nothing
    /// was stored. The client processes the Commits it is missing and
    /// makes its own again.
    Stale { epoch: i64 },
}

impl Core {
    /// Takes a Commit (with the Welcome and GroupInfo it produced) for the
    /// chat's current epoch. 404 unless the caller is a member; 400 for
    /// anything that is not a well-formed Commit of this chat's group or
    /// that adds someone who is not a device of a member.
    pub async fn post_commit(
        &self,
        caller: &Caller,
        chat_id: &str,
        request: PostCommit,
    ) -> CoreResult<CommitOutcome> {
        self.limits.user_action(&caller.user_id, UserAction::Send)?;
        let (chat, _) = self.membership(chat_id, &caller.user_id).await?;
        if !chat.e2ee {
            return Err(crate::messages::not_encrypted());
        }
        let facts = groups::commit_facts(&request.commit, chat_id)?;
        if facts.epoch != chat.mls_epoch {
            return Ok(CommitOutcome::Stale {
                epoch: chat.mls_epoch,
            });
        }
        self.check_committer(caller, &facts)?;
        let now = now_ms();
        let mut added = Vec::with_capacity(facts.adds.len());
        for (key_ref, leaf) in &facts.adds {
            added.push((
                key_ref,
                self.member_device(&chat, &leaf.credential, now).await?,
            ));
        }
        self.check_signers(caller, &facts, &added).await?;
        let new_epoch = facts.epoch + 1;
        let message_id = new_id();
        let welcomes = match &request.welcome {
            Some(welcome) => {
                self.welcome_targets(&chat, welcome, &added, &message_id, new_epoch, now)?
            }
            None => Vec::new(),
        };
        if let Some(info) = &request.group_info {
            groups::check_group_info(info, chat_id, new_epoch)?;
        }
        // Before the Commit: they count once its message exists, so an
        // accepted Commit never lacks them.
        self.store.add_welcomes(&welcomes).await?;
        let appended = self
            .store
            .append_message(commit_message(
                caller,
                chat_id,
                &message_id,
                request.commit,
                facts.epoch,
                now,
            ))
            .await;
        let row = match appended {
            Ok(Appended::New(row)) => row,
            refused => {
                // Never read without their Commit, this only tidies; not
                // after an error, when the Commit may be stored after all.
                if refused.is_ok()
                    && !welcomes.is_empty()
                    && let Err(error) = self.store.discard_welcomes(&message_id).await
                {
                    tracing::warn!(%error, "dropping the Welcomes of a refused Commit");
                }
                return match refused {
                    Ok(Appended::StaleEpoch { current }) => {
                        Ok(CommitOutcome::Stale { epoch: current })
                    }
                    Ok(Appended::NotMember) => Err(CoreError::not_found("chat")),
                    Ok(Appended::Encryption { .. }) => Err(crate::messages::not_encrypted()),
                    Ok(other) => Err(CoreError::Internal(anyhow::anyhow!(
                        "a Commit's append answered {other:?}"
                    ))),
                    Err(error) => Err(error.into()),
                };
            }
        };
        for welcome in welcomes {
            self.announce_welcome(welcome);
        }
        // The Commit is stored: failing it now would make its client
        // retry a Commit that was accepted. A lost GroupInfo is replaced
        // by the next Commit's.
        if let Some(info) = &request.group_info
            && let Err(error) = self
                .store
                .put_group_info(chat_id, new_epoch, info, now)
                .await
        {
            tracing::warn!(%error, chat_id, "keeping the GroupInfo of an accepted Commit");
        }
        Ok(CommitOutcome::Accepted(CommitAccepted {
            message_id: row.id,
            seq: row.seq,
            epoch: new_epoch,
        }))
    }

    /// The Welcomes waiting for the calling device.
    pub async fn pending_welcomes(&self, caller: &Caller) -> CoreResult<WelcomeList> {
        let rows = self.store.welcomes_for(&caller.session_id).await?;
        Ok(WelcomeList {
            welcomes: rows
                .into_iter()
                .map(|row| PendingWelcome {
                    welcome_id: row.id,
                    chat_id: row.chat_id,
                    epoch: row.epoch,
                    welcome: row.welcome,
                })
                .collect(),
        })
    }

    /// The calling device has processed a Welcome; 404 if it has none
    /// with this id.
    pub async fn ack_welcome(&self, caller: &Caller, welcome_id: &str) -> CoreResult<()> {
        if self
            .store
            .delete_welcome(&caller.session_id, welcome_id)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::not_found("welcome"))
        }
    }

    /// The chat's latest GroupInfo, for members; 404 if there is none.
    pub async fn group_info(&self, caller: &Caller, chat_id: &str) -> CoreResult<GroupInfo> {
        self.membership(chat_id, &caller.user_id).await?;
        let (epoch, group_info) = self
            .store
            .group_info(chat_id)
            .await?
            .ok_or_else(|| CoreError::not_found("group info"))?;
        Ok(GroupInfo { epoch, group_info })
    }

    /// A Commit's own leaf (in its path) is the device that posts it: an
    /// external Commit always has one; a member's Commit without a path
    /// (only Adds) says nothing of its committer.
    fn check_committer(&self, caller: &Caller, facts: &CommitFacts) -> CoreResult<()> {
        let own = facts
            .committer
            .as_ref()
            .and_then(|leaf| wire::credential_device(&leaf.credential));
        match (&facts.committer, own) {
            (None, _) if facts.external => Err(wire::invalid(
                "commit",
                "an external Commit carries the joining device's path",
            )),
            (None, _) => Ok(()),
            (Some(_), Some((user_id, device_id)))
                if user_id == caller.user_id && device_id == caller.session_id =>
            {
                Ok(())
            }
            (Some(_), _) => Err(wire::invalid(
                "commit",
                "the committer's credential is not the device posting it",
            )),
        }
    }

    /// Every leaf the Commit brings (each Add's KeyPackage, the
    /// committer's path leaf) is signed with the key its device pinned by
    /// uploading KeyPackages: a credential is only a name, and without
    /// this anyone could forge a KeyPackage naming a member's device and
    /// read the chat from then on. A device that never uploaded one has
    /// no pin and cannot be added nor commit a path. 400 naming the leaf.
    async fn check_signers(
        &self,
        caller: &Caller,
        facts: &CommitFacts,
        added: &[(&KeyPackageRef, (String, String))],
    ) -> CoreResult<()> {
        let mut devices: Vec<String> = added.iter().map(|(_, (_, d))| d.clone()).collect();
        if facts.committer.is_some() {
            devices.push(caller.session_id.clone());
        }
        if devices.is_empty() {
            return Ok(());
        }
        let pinned = self.store.key_package_signers(&devices).await?;
        let signed_by_its_device = |device_id: &str, key: &[u8]| {
            pinned
                .iter()
                .any(|(device, pin)| device == device_id && pin.as_slice() == key)
        };
        for (index, ((_, leaf), (_, (_, device_id)))) in facts.adds.iter().zip(added).enumerate() {
            if !signed_by_its_device(device_id, &leaf.signature_key) {
                return Err(wire::invalid(
                    "commit",
                    format!(
                        "Add {index}: the KeyPackage is not signed with the key its \
                         device uploads KeyPackages with"
                    ),
                ));
            }
        }
        if let Some(leaf) = &facts.committer
            && !signed_by_its_device(&caller.session_id, &leaf.signature_key)
        {
            return Err(wire::invalid(
                "commit",
                "the committer's leaf is not signed with the key this device uploads \
                 KeyPackages with (upload KeyPackages first)",
            ));
        }
        Ok(())
    }

    /// The `(user_id, device_id)` of an added KeyPackage's credential, if
    /// it is a live device of a current member of the chat; 400 if not.
    async fn member_device(
        &self,
        chat: &ChatRow,
        credential: &Credential,
        now: i64,
    ) -> CoreResult<(String, String)> {
        let refused = || {
            wire::invalid(
                "commit",
                "an Add is for a KeyPackage that is not a device of a member of this chat",
            )
        };
        let (user_id, device_id) = wire::credential_device(credential).ok_or_else(refused)?;
        if self.store.member(&chat.id, &user_id).await?.is_none() {
            return Err(refused());
        }
        match self.store.active_session_user(&device_id, now).await? {
            Some(owner) if owner == user_id => Ok((user_id, device_id)),
            _ => Err(refused()),
        }
    }

    /// One stored Welcome per device the Welcome names. Each must be a
    /// KeyPackage this Commit adds. Which device it goes to needs no
    /// directory lookup: a KeyPackageRef is the hash of the whole
    /// KeyPackage, credential included, and the directory only ever
    /// stored KeyPackages whose credential names the uploading device, so
    /// its owner of a ref is always the device the Add's credential names
    /// (and that device's pinned key signed it: `check_signers`).
    fn welcome_targets(
        &self,
        chat: &ChatRow,
        welcome: &str,
        added: &[(&KeyPackageRef, (String, String))],
        message_id: &str,
        epoch: i64,
        now: i64,
    ) -> CoreResult<Vec<NewWelcome>> {
        let recipients = groups::welcome_recipients(welcome)?;
        let mut targets = Vec::with_capacity(recipients.len());
        for key_ref in &recipients {
            let Some((_, (user_id, device_id))) = added.iter().find(|(r, _)| *r == key_ref) else {
                return Err(wire::invalid(
                    "welcome",
                    "names a KeyPackage the Commit does not add",
                ));
            };
            if targets
                .iter()
                .any(|target: &NewWelcome| target.session_id == *device_id)
            {
                continue;
            }
            targets.push(NewWelcome {
                id: new_id(),
                chat_id: chat.id.clone(),
                message_id: message_id.to_owned(),
                user_id: user_id.clone(),
                session_id: device_id.clone(),
                epoch,
                welcome: welcome.to_owned(),
                created_at: now,
            });
        }
        Ok(targets)
    }

    /// `mls.welcome` to the connections of the one device it is for.
    fn announce_welcome(&self, welcome: NewWelcome) {
        let event = ServerEvent::MlsWelcome {
            welcome_id: welcome.id,
            chat_id: welcome.chat_id,
            epoch: welcome.epoch,
            welcome: welcome.welcome,
        };
        let envelope = Envelope::to_user(&welcome.user_id, &event);
        self.bus.publish(Envelope {
            meta: Meta::ToSession {
                session_id: welcome.session_id,
            },
            ..envelope
        });
    }
}
