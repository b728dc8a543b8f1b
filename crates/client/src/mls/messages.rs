//! Application messages and the chat's stream on a [`Device`]:
//! encrypting a message for the group, and processing what the server
//! relays (Commits and application messages of every member device) in
//! `seq` order, exactly once each.
//!
//! A message's plaintext is the UTF-8 text the person typed; nothing else
//! is inside (no file keys yet).

use super::MlsError;
use super::codec;
use super::device::Device;
use openmls::prelude::*;

/// What processing one message of an encrypted chat gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// An application message, decrypted and its signature verified.
    Message {
        /// The sending device as its MLS credential names it (the caller
        /// compares `user_id` with the server's `sender_id`).
        user_id: String,
        device_id: String,
        plaintext: Vec<u8>,
    },
    /// A Commit of another device, applied: the group is at `epoch` now.
    Commit { epoch: u64 },
    /// This device's own Commit or message, relayed back to it.
    Own,
    /// A Commit that removed this device: it reads nothing after it.
    Removed,
    /// Not meant for this device: sent in an epoch before it joined, or a
    /// Commit it has already applied.
    BeforeJoin,
    /// Cannot be read: not an MLS message of this group, sent after this
    /// device was removed, damaged, or from a later epoch than this
    /// device knows (a Commit it could not process).
    Unreadable { reason: String },
    /// At or below the chat's cursor: processed before.
    AlreadyProcessed,
}

impl Device {
    /// Encrypts `plaintext` for the group of `chat_id`: the base64
    /// `MLSMessage` (PrivateMessage) to send as an `mls` message.
    pub fn encrypt(&mut self, chat_id: &str, plaintext: &[u8]) -> Result<String, MlsError> {
        let Device {
            provider,
            signer,
            groups,
            ..
        } = self;
        let group = groups
            .get_mut(chat_id)
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))?;
        if group.pending_commit().is_some() {
            return Err(MlsError::Refused(
                "a Commit of this device is waiting for the server's answer".into(),
            ));
        }
        let message = group
            .create_message(provider, signer, plaintext)
            .map_err(|error| MlsError::protocol("cannot encrypt", error))?;
        let encoded = codec::encode(&message)?;
        // The sending ratchet moved: saved before the message leaves, so a
        // restart can never reuse its key.
        self.save()?;
        Ok(encoded)
    }

    /// Processes the message `seq` of `chat_id` (its base64 `content`).
    /// Call in ascending `seq` order for every `mls` message of the chat;
    /// the cursor moves past `seq` whatever the outcome, since MLS
    /// processing that fails once fails forever. Errors only when this
    /// device has no group for the chat (nothing is recorded then: wait
    /// for the Welcome) or its state cannot be saved.
    pub fn process(
        &mut self,
        chat_id: &str,
        seq: i64,
        content: &str,
    ) -> Result<Incoming, MlsError> {
        let cursor = self
            .chats
            .get(chat_id)
            .filter(|_| self.groups.contains_key(chat_id))
            .ok_or_else(|| MlsError::NoGroup(chat_id.to_owned()))?;
        if seq <= cursor.last_seq {
            return Ok(Incoming::AlreadyProcessed);
        }
        if let Some(posted) = cursor.external_commit.clone() {
            return self.settle_external_join(chat_id, seq, content, &posted);
        }
        let joined_epoch = cursor.joined_epoch;
        let outcome = self.unprotect(chat_id, joined_epoch, content);
        if let Some(cursor) = self.chats.get_mut(chat_id) {
            cursor.last_seq = seq;
        }
        self.save()?;
        Ok(outcome)
    }

    /// The stream of a chat this device joined by an external Commit the
    /// server has not been seen to accept: the Commit coming back means
    /// it was (the group moves on; nothing before it concerns this
    /// device), another Commit for the epoch means it lost (the
    /// provisional group goes; the device may join again).
    fn settle_external_join(
        &mut self,
        chat_id: &str,
        seq: i64,
        content: &str,
        posted: &str,
    ) -> Result<Incoming, MlsError> {
        if content == posted {
            self.commit_accepted(chat_id)?;
            self.set_last_seq(chat_id, seq)?;
            return Ok(Incoming::Own);
        }
        // The external Commit was made for the epoch before the one the
        // provisional group is in (`joined_epoch`).
        let joined_epoch = self
            .chats
            .get(chat_id)
            .map_or(0, |cursor| cursor.joined_epoch);
        let lost = codec::decode(content)
            .ok()
            .and_then(|message| message.try_into_protocol_message().ok())
            .is_some_and(|message| {
                message.content_type() == ContentType::Commit
                    && message.epoch().as_u64() + 1 >= joined_epoch
            });
        if lost {
            self.commit_refused(chat_id)?;
            return Ok(Incoming::Unreadable {
                reason: "this device's join lost its epoch to another Commit".into(),
            });
        }
        self.set_last_seq(chat_id, seq)?;
        Ok(Incoming::BeforeJoin)
    }

    fn set_last_seq(&mut self, chat_id: &str, seq: i64) -> Result<(), MlsError> {
        if let Some(cursor) = self.chats.get_mut(chat_id) {
            cursor.last_seq = seq;
        }
        self.save()
    }

    fn unprotect(&mut self, chat_id: &str, joined_epoch: u64, content: &str) -> Incoming {
        let unreadable = |reason: String| Incoming::Unreadable { reason };
        let message = match codec::decode(content).map(MlsMessageIn::try_into_protocol_message) {
            Ok(Ok(message)) => message,
            Ok(Err(_)) => return unreadable("not a group message".into()),
            Err(error) => return unreadable(error.to_string()),
        };
        if message.group_id().as_slice() != chat_id.as_bytes() {
            return unreadable("the message is for another group".into());
        }
        let Device {
            provider,
            groups,
            chats,
            ..
        } = self;
        let Some(group) = groups.get_mut(chat_id) else {
            return unreadable("no group".into());
        };
        if !group.is_active() {
            return unreadable("this device was removed from the group".into());
        }
        let epoch = message.epoch().as_u64();
        if epoch < joined_epoch {
            return Incoming::BeforeJoin;
        }
        let is_commit = message.content_type() == ContentType::Commit;
        if is_commit && epoch < group.epoch().as_u64() {
            // Already applied: this device's own Commit, merged when the
            // server accepted it.
            return Incoming::Own;
        }
        let processed = match group.process_message(provider, message) {
            Ok(processed) => processed,
            Err(error) => return unreadable(format!("{error:?}")),
        };
        let sender = processed.credential().clone();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(message) => {
                match codec::parse_identity(&sender) {
                    Some((user_id, device_id)) => Incoming::Message {
                        user_id,
                        device_id,
                        plaintext: message.into_bytes(),
                    },
                    None => unreadable("the sender is not a natter device".into()),
                }
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                if let Err(error) = group.merge_staged_commit(provider, *staged) {
                    return unreadable(format!("cannot apply the Commit: {error:?}"));
                }
                if group.is_active() {
                    Incoming::Commit {
                        epoch: group.epoch().as_u64(),
                    }
                } else {
                    Incoming::Removed
                }
            }
            ProcessedMessageContent::OwnPendingCommit => {
                if let Err(error) = group.merge_pending_commit(provider) {
                    return unreadable(format!("cannot apply the Commit: {error:?}"));
                }
                if let Some(cursor) = chats.get_mut(chat_id) {
                    cursor.external_commit = None;
                }
                Incoming::Own
            }
            ProcessedMessageContent::OwnPrivateMessage => Incoming::Own,
            // natter members send no standalone proposals: Commits carry
            // theirs by value.
            _ => unreadable("a standalone proposal".into()),
        }
    }
}
