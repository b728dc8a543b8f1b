//! Group membership through the server, on [`EncryptedChats`]: creating
//! an encrypted chat, adding members' devices (claimed KeyPackages) and
//! removing devices, joining by external Commit, and the Commit loop
//! every one of them goes through: post, and on 409 drop the Commit,
//! process the winner (the Commits this device missed) and make it again.

use super::session::{EncryptedChats, Result};
use super::{CommitBundle, Device, MlsError};
use natter_proto::chats::{AddMember, Chat, ChatType, CreateChat};
use natter_proto::mls::{CommitAccepted, PostCommit};

/// How often a Commit is made again after losing its epoch to another
/// one before giving up (each loss means another member committed: a
/// busy group, not a broken one).
pub const MAX_COMMIT_ATTEMPTS: usize = 5;

/// What [`EncryptedChats::create_chat`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct CreatedChat {
    pub chat: Chat,
    /// Members none of whose devices had a KeyPackage: they are members
    /// of the chat on the server but cannot read it until someone adds
    /// their devices ([`EncryptedChats::add_devices_of`]).
    pub without_devices: Vec<String>,
}

impl EncryptedChats {
    /// Creates an encrypted chat with `member_ids` (not counting the
    /// caller), makes its MLS group and adds every device of every member
    /// that has a KeyPackage, this user's other devices included. For a
    /// direct chat that already existed, this device joins its group
    /// instead (from a pending Welcome, or by external Commit), or starts
    /// the group if no Commit was ever accepted for it.
    pub async fn create_chat(
        &mut self,
        chat_type: ChatType,
        name: Option<String>,
        member_ids: Vec<String>,
    ) -> Result<CreatedChat> {
        let request = CreateChat {
            chat_type,
            name,
            member_ids,
            e2ee: true,
        };
        let (chat, created) = self.client.create_chat_full(&request).await?;
        let chat_id = chat.summary.chat_id.clone();
        if !created {
            // The direct chat existed: a Welcome may be bringing this
            // device in already; else it joins the group, or, if no one
            // ever committed one, starts it.
            let welcomed = self.accept_welcomes().await?;
            self.backlog.extend(welcomed);
            let started = chat.summary.mls_epoch.is_some_and(|epoch| epoch > 0);
            if self.device.is_member(&chat_id) || self.device.cursor(&chat_id).is_some() {
                return Ok(CreatedChat {
                    chat,
                    without_devices: Vec::new(),
                });
            }
            if started {
                self.join_external(&chat_id).await?;
                return Ok(CreatedChat {
                    chat,
                    without_devices: Vec::new(),
                });
            }
        }
        self.device.create_group(&chat_id)?;
        let users: Vec<String> = chat.members.iter().map(|m| m.user_id.clone()).collect();
        let mut without_devices = self.add_devices_of(&chat_id, &users).await?;
        without_devices.retain(|user| *user != self.device.user_id());
        Ok(CreatedChat {
            chat,
            without_devices,
        })
    }

    /// Adds `user_ids` to the chat on the server (as members), then their
    /// devices to the group. The users none of whose devices could be
    /// added (no KeyPackage).
    pub async fn add_members(&mut self, chat_id: &str, user_ids: &[String]) -> Result<Vec<String>> {
        for user_id in user_ids {
            let request = AddMember {
                user_id: user_id.clone(),
                role: None,
            };
            self.client.add_member(chat_id, &request).await?;
        }
        self.add_devices_of(chat_id, user_ids).await
    }

    /// Adds every device of `user_ids` that is not in the group yet and
    /// has a usable KeyPackage in the directory (a bad one, e.g. expired,
    /// is skipped), in one Commit. The users none of whose devices could
    /// be added.
    pub async fn add_devices_of(
        &mut self,
        chat_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<String>> {
        self.sync_chat_into_backlog(chat_id).await?;
        let present = self.device.members(chat_id);
        let mut packages = Vec::new();
        let mut without_devices = Vec::new();
        for user_id in user_ids {
            let claimed = self.client.claim_key_packages(user_id).await?.key_packages;
            let before = packages.len();
            for claimed in claimed {
                let device = (user_id.clone(), claimed.device_id.clone());
                if device.1 != self.device.device_id()
                    && !present.contains(&device)
                    && self
                        .device
                        .usable_key_package(&claimed.key_package, &device)
                {
                    packages.push((device, claimed.key_package));
                }
            }
            let has_any = present.iter().any(|(user, _)| user == user_id);
            if packages.len() == before && !has_any {
                without_devices.push(user_id.clone());
            }
        }
        self.commit(chat_id, |device| {
            // After a lost race, the winner may have added some already.
            let present = device.members(chat_id);
            let fresh: Vec<String> = packages
                .iter()
                .filter(|(owner, _)| !present.contains(owner))
                .map(|(_, package)| package.clone())
                .collect();
            if fresh.is_empty() {
                return Ok(None);
            }
            device.add_devices(chat_id, &fresh).map(Some)
        })
        .await?;
        Ok(without_devices)
    }

    /// Removes the group's devices for which `remove` says yes (given
    /// `user_id`, `device_id`), in one Commit; none matching is no
    /// Commit.
    pub async fn remove_devices(
        &mut self,
        chat_id: &str,
        remove: impl Fn(&str, &str) -> bool,
    ) -> Result<Option<CommitAccepted>> {
        self.sync_chat_into_backlog(chat_id).await?;
        self.commit(chat_id, |device| {
            let own = device.identity();
            let any = device
                .members(chat_id)
                .iter()
                .any(|(user, dev)| super::identity(user, dev) != own && remove(user, dev));
            if !any {
                return Ok(None);
            }
            device.remove_devices(chat_id, &remove).map(Some)
        })
        .await
    }

    /// Removes `user_id`'s devices from the group, then the user from the
    /// chat on the server: from the Commit on, they can read nothing new.
    pub async fn remove_member(&mut self, chat_id: &str, user_id: &str) -> Result<()> {
        self.remove_devices(chat_id, |user, _| user == user_id)
            .await?;
        self.client.remove_member(chat_id, user_id).await?;
        Ok(())
    }

    /// Removes from the group the devices of users who are no longer
    /// members of the chat on the server (they left, or were removed by a
    /// client that did not commit it): until then they could still
    /// decrypt what is sent, if they got hold of it. Any member device may
    /// do it; when several do at once, the losers find nothing left.
    pub async fn remove_departed(&mut self, chat_id: &str) -> Result<Option<CommitAccepted>> {
        let members: Vec<String> = self
            .client
            .chat(chat_id)
            .await?
            .members
            .into_iter()
            .map(|member| member.user_id)
            .collect();
        self.remove_devices(chat_id, |user, _| !members.iter().any(|m| m == user))
            .await
    }

    /// [`Self::remove_departed`], and also this user's own devices that
    /// are no longer among `own_devices` (`GET /devices`: they logged out
    /// or were signed out, so their keys must read nothing new). What
    /// every sync does.
    pub async fn remove_stale_devices(
        &mut self,
        chat_id: &str,
        own_devices: &[String],
    ) -> Result<Option<CommitAccepted>> {
        let members: Vec<String> = self
            .client
            .chat(chat_id)
            .await?
            .members
            .into_iter()
            .map(|member| member.user_id)
            .collect();
        let me = self.device.user_id().to_owned();
        self.remove_devices(chat_id, |user, device| {
            !members.iter().any(|m| m == user)
                || (user == me && !own_devices.iter().any(|own| own == device))
        })
        .await
    }

    /// Joins, by external Commit, every encrypted chat of this user that
    /// this device has never been in and no Welcome is bringing it into:
    /// what a user's new device does to take part in chats that started
    /// before it existed (it reads only what follows). A device that was
    /// in a group and was removed is not put back this way. The chats
    /// joined.
    pub async fn join_missing_chats(&mut self) -> Result<Vec<String>> {
        let welcomed = self.accept_welcomes().await?;
        self.backlog.extend(welcomed);
        let mut joined = Vec::new();
        for chat in self.client.chats().await?.chats {
            let started = chat.mls_epoch.is_some_and(|epoch| epoch > 0);
            if chat.e2ee && started && self.device.cursor(&chat.chat_id).is_none() {
                self.join_external(&chat.chat_id).await?;
                joined.push(chat.chat_id);
            }
        }
        Ok(joined)
    }

    /// Joins an encrypted chat this user is a member of from its latest
    /// GroupInfo, by external Commit (how a user's new device gets into
    /// chats that started before it existed). Reads nothing from before.
    pub async fn join_external(&mut self, chat_id: &str) -> Result<()> {
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let info = self.client.group_info(chat_id).await?;
            let bundle = self.device.join_external(chat_id, &info.group_info)?;
            match self.post(chat_id, &bundle).await {
                Ok(_) => {
                    self.device.commit_accepted(chat_id)?;
                    return Ok(());
                }
                Err(error) if is_conflict(&error) => self.device.commit_refused(chat_id)?,
                Err(error) => {
                    // Unknown whether the server took it: the chat's
                    // stream tells (the Commit coming back settles the
                    // join; if catching up fails too, the group stays
                    // provisional and the next sync settles it).
                    self.sync_chat_into_backlog(chat_id).await?;
                    if self.device.is_member(chat_id)
                        && self
                            .device
                            .cursor(chat_id)
                            .is_some_and(|cursor| cursor.external_commit.is_none())
                    {
                        return Ok(());
                    }
                    if self.device.cursor(chat_id).is_some() {
                        // Not in the stream: the server never took it.
                        self.device.commit_refused(chat_id)?;
                    }
                    return Err(error);
                }
            }
        }
        Err(MlsError::Refused(format!(
            "chat {chat_id}: lost the epoch {MAX_COMMIT_ATTEMPTS} times"
        )))
    }

    /// Makes a Commit with `make` and posts it; on 409 drops it, catches
    /// up with the chat (the winning Commit) and makes it again. `make`
    /// may decide there is nothing left to commit (`None`).
    async fn commit(
        &mut self,
        chat_id: &str,
        mut make: impl FnMut(&mut Device) -> Result<Option<CommitBundle>>,
    ) -> Result<Option<CommitAccepted>> {
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let Some(bundle) = make(&mut self.device)? else {
                return Ok(None);
            };
            match self.post(chat_id, &bundle).await {
                Ok(accepted) => {
                    self.device.commit_accepted(chat_id)?;
                    return Ok(Some(accepted));
                }
                Err(error) if is_conflict(&error) => {
                    self.device.commit_refused(chat_id)?;
                    self.sync_chat_into_backlog(chat_id).await?;
                }
                Err(error) => {
                    // Unknown whether the server took it: the chat's
                    // stream tells (this device's Commit coming back is
                    // merged when processed, another one replaces it).
                    self.sync_chat_into_backlog(chat_id).await?;
                    if self.device.epoch(chat_id) == Some(bundle.epoch) {
                        self.device.commit_refused(chat_id)?;
                    }
                    return Err(error);
                }
            }
        }
        Err(MlsError::Refused(format!(
            "chat {chat_id}: lost the epoch {MAX_COMMIT_ATTEMPTS} times"
        )))
    }

    async fn post(&self, chat_id: &str, bundle: &CommitBundle) -> Result<CommitAccepted> {
        let body = PostCommit {
            commit: bundle.commit.clone(),
            welcome: bundle.welcome.clone(),
            group_info: bundle.group_info.clone(),
        };
        Ok(self.client.post_commit(chat_id, &body).await?)
    }
}

fn is_conflict(error: &MlsError) -> bool {
    matches!(error, MlsError::Api(api) if api.status() == Some(409))
}
