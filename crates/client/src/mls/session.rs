//! [`EncryptedChats`]: one device taking part in encrypted chats through
//! the server. It joins a [`Device`] to a [`Client`]: KeyPackages go up
//! to the directory, messages are encrypted before they leave and
//! decrypted as they come, strictly in `seq` order per chat, from history
//! pages (so a missed WebSocket event loses nothing), and Welcomes are
//! taken from `GET /mls/welcomes` whenever the socket says one came.
//! Changing who is in a group is in `membership.rs`.

use super::{ChatEvent, Device, MlsError, Received, device_missing};
use crate::ws::RealtimeEvent;
use crate::{Client, HistoryQuery};
use natter_proto::events::ServerEvent;
use natter_proto::key_packages::{KeyPackageCount, UploadKeyPackages};
use natter_proto::messages::{Message, MessageType, SendAck, SendMessage};
use std::path::Path;

/// Below this many unclaimed KeyPackages a device uploads more...
pub const KEY_PACKAGES_LOW: u32 = 10;
/// ...up to this many (the server keeps at most 200 per device).
pub const KEY_PACKAGES_TARGET: u32 = 50;
/// History page size when catching up (the server's largest).
const PAGE_LIMIT: u32 = 200;

pub(super) type Result<T> = std::result::Result<T, MlsError>;

/// A device in encrypted chats, talking to its server.
#[derive(Debug)]
pub struct EncryptedChats {
    pub(super) client: Client,
    pub(super) device: Device,
    /// Events met while catching up inside another operation (a Commit
    /// retry), handed out by the next sync.
    pub(super) backlog: Vec<ChatEvent>,
}

impl EncryptedChats {
    /// The device of `client`'s session, kept in `dir` (created on first
    /// use): asks the server who the user is and which device this
    /// session is.
    pub async fn open(client: Client, dir: &Path) -> Result<EncryptedChats> {
        let me = client.me().await?;
        let device_id = client
            .devices()
            .await?
            .into_iter()
            .find(|device| device.current)
            .map(|device| device.device_id)
            .ok_or_else(|| MlsError::Refused("the server names no current device".into()))?;
        let device = Device::open_or_create(dir, &me.user_id, &device_id)?;
        Ok(EncryptedChats::with_device(client, device))
    }

    /// An already opened device and a client authenticated as its session.
    pub fn with_device(client: Client, device: Device) -> EncryptedChats {
        EncryptedChats {
            client,
            device,
            backlog: Vec::new(),
        }
    }

    /// The client calls go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Uses another client from now on (e.g. with a refreshed token).
    pub fn set_client(&mut self, client: Client) {
        self.client = client;
    }

    /// The device's MLS state.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Ends the use and gives the device back.
    pub fn into_device(self) -> Device {
        self.device
    }

    /// What operations other than the syncs met on the way (a send or a
    /// Commit catches up first) and nobody has been shown yet: a caller
    /// that does not sync next (a one-shot command) shows these, else
    /// they would be lost (the cursor moved past them).
    pub fn take_backlog(&mut self) -> Vec<ChatEvent> {
        std::mem::take(&mut self.backlog)
    }

    /// Tops the directory up: KeyPackages up to [`KEY_PACKAGES_TARGET`]
    /// when fewer than [`KEY_PACKAGES_LOW`] are left, and a last-resort
    /// one if the device has none. The count after.
    pub async fn publish_key_packages(&mut self) -> Result<KeyPackageCount> {
        let count = self.client.key_package_count().await?;
        let missing = if count.count < KEY_PACKAGES_LOW {
            KEY_PACKAGES_TARGET - count.count
        } else {
            0
        };
        if missing == 0 && count.last_resort {
            return Ok(count);
        }
        let upload = UploadKeyPackages {
            key_packages: self.device.key_packages(missing as usize)?,
            last_resort: if count.last_resort {
                None
            } else {
                Some(self.device.last_resort_key_package()?)
            },
        };
        Ok(self.client.upload_key_packages(&upload).await?)
    }

    /// Encrypts `text` for the chat and sends it as an `mls` message,
    /// after processing what came in (so it goes out in the newest epoch).
    /// A transport failure is retried once with the same ciphertext and
    /// `client_msg_id` (the server stores it once).
    pub async fn send(&mut self, chat_id: &str, text: &str) -> Result<SendAck> {
        self.sync_chat_into_backlog(chat_id).await?;
        let message = SendMessage {
            chat_id: chat_id.to_owned(),
            content: self.device.encrypt(chat_id, text.as_bytes())?,
            message_type: MessageType::Mls,
            client_msg_id: Some(uuid::Uuid::now_v7().to_string()),
            file_id: None,
            metadata: None,
            sender_id: None,
        };
        match self.client.send(&message).await {
            Err(crate::ClientError::Http(_)) => Ok(self.client.send(&message).await?),
            other => Ok(other?),
        }
    }

    /// Everything new in every encrypted chat of this device: Welcomes
    /// first, then each chat's messages in `seq` order. On an error, what
    /// was decrypted before it stays for the next call (the cursors moved
    /// past it already).
    pub async fn sync(&mut self) -> Result<Vec<ChatEvent>> {
        let mut events = std::mem::take(&mut self.backlog);
        let result = self.sync_into(&mut events).await;
        self.hand_out(events, result)
    }

    async fn sync_into(&mut self, events: &mut Vec<ChatEvent>) -> Result<()> {
        self.accept_welcomes_into(events).await?;
        let own_devices: Vec<String> = self
            .client
            .devices()
            .await?
            .into_iter()
            .map(|device| device.device_id)
            .collect();
        let chat_ids: Vec<String> = self.device.chat_ids().map(str::to_owned).collect();
        for chat_id in chat_ids {
            if self.device.is_member(&chat_id) {
                self.catch_up(&chat_id, events).await?;
                let removal = self.remove_stale_devices(&chat_id, &own_devices).await;
                // What the removal's catch-up met.
                events.append(&mut self.backlog);
                match removal {
                    // The chat is gone, or this user left it: nothing to
                    // remove here.
                    Err(MlsError::Api(error)) if matches!(error.status(), Some(403 | 404)) => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything new in one chat, in `seq` order (kept on an error, as
    /// in [`Self::sync`]).
    pub async fn sync_chat(&mut self, chat_id: &str) -> Result<Vec<ChatEvent>> {
        let mut events = std::mem::take(&mut self.backlog);
        let result = self.catch_up(chat_id, &mut events).await;
        self.hand_out(events, result)
    }

    /// Joins the groups of the Welcomes waiting for this device, reads
    /// what was sent in each since, and tops KeyPackages up (each Welcome
    /// used one). Kept on an error, as in [`Self::sync`].
    pub async fn accept_welcomes(&mut self) -> Result<Vec<ChatEvent>> {
        let mut events = Vec::new();
        let result = self.accept_welcomes_into(&mut events).await;
        self.hand_out(events, result)
    }

    /// `events` if all went well; else they wait in the backlog for the
    /// next call and the error is returned.
    fn hand_out(&mut self, events: Vec<ChatEvent>, result: Result<()>) -> Result<Vec<ChatEvent>> {
        match result {
            Ok(()) => Ok(events),
            Err(error) => {
                self.backlog.splice(0..0, events);
                Err(error)
            }
        }
    }

    async fn accept_welcomes_into(&mut self, events: &mut Vec<ChatEvent>) -> Result<()> {
        let welcomes = self.client.welcomes().await?.welcomes;
        for welcome in &welcomes {
            // The device checks the Welcome's own group id and epoch: one
            // for another chat, or older than the group it has, is refused.
            match self.device.join_welcome(&welcome.chat_id, &welcome.welcome) {
                Ok(joined) => {
                    events.push(ChatEvent::Joined {
                        chat_id: joined.chat_id.clone(),
                        epoch: joined.epoch,
                    });
                    self.catch_up_group(&joined.chat_id, events).await?;
                }
                Err(error @ MlsError::State(_)) => return Err(error),
                // Already in the group at that epoch or later: nothing to say.
                Err(MlsError::Refused(_)) if self.device.is_member(&welcome.chat_id) => {}
                Err(error) => events.push(ChatEvent::Unreadable {
                    chat_id: welcome.chat_id.clone(),
                    seq: None,
                    reason: format!("a Welcome: {error}"),
                }),
            }
            // Processed (used, or useless for good): the server may drop it.
            self.client.delete_welcome(&welcome.welcome_id).await?;
        }
        if !welcomes.is_empty() {
            self.publish_key_packages().await?;
        }
        Ok(())
    }

    /// What one realtime event means for the encrypted chats: a Welcome
    /// is taken, an `mls` message read (with whatever came before it that
    /// this device has not processed), a member's departure committed
    /// (their devices removed), a (re)connection catches up on everything.
    /// Other events give nothing.
    pub async fn handle(&mut self, event: &RealtimeEvent) -> Result<Vec<ChatEvent>> {
        match event {
            RealtimeEvent::Connected { .. } => self.sync().await,
            RealtimeEvent::Event(ServerEvent::ChatMemberRemoved { chat_id, user_id })
                if self.device.is_member(chat_id) && *user_id != self.device.user_id() =>
            {
                self.remove_departed(chat_id).await?;
                self.sync_chat(chat_id).await
            }
            RealtimeEvent::Event(ServerEvent::MlsWelcome { .. }) => {
                let mut events = std::mem::take(&mut self.backlog);
                let result = self.accept_welcomes_into(&mut events).await;
                self.hand_out(events, result)
            }
            RealtimeEvent::Message(message) if message.message_type == MessageType::Mls => {
                if !self.device.is_member(&message.chat_id) {
                    return Ok(Vec::new());
                }
                let next = self
                    .device
                    .cursor(&message.chat_id)
                    .map_or(1, |cursor| cursor.last_seq + 1);
                if message.seq == next {
                    let mut events = std::mem::take(&mut self.backlog);
                    let result = self.process(message).map(|event| events.extend(event));
                    self.hand_out(events, result)
                } else {
                    self.sync_chat(&message.chat_id).await
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Catches up with one chat; what it gives waits in the backlog (also
    /// on an error: whatever was decrypted before it).
    pub(super) async fn sync_chat_into_backlog(&mut self, chat_id: &str) -> Result<()> {
        let mut events = Vec::new();
        let result = self.catch_up(chat_id, &mut events).await;
        self.backlog.extend(events);
        result
    }

    /// Pages the chat's history from the device's cursor on and processes
    /// every `mls` message in it into `events`; a chat this device has no
    /// group for yet is looked for among its pending Welcomes first.
    async fn catch_up(&mut self, chat_id: &str, events: &mut Vec<ChatEvent>) -> Result<()> {
        if self.device.cursor(chat_id).is_some() {
            return self.catch_up_group(chat_id, events).await;
        }
        self.accept_welcomes_into(events).await?;
        match self.device.cursor(chat_id) {
            Some(_) => Ok(()),
            None => Err(device_missing(chat_id)),
        }
    }

    /// [`Self::catch_up`] for a chat this device has the group of. Every
    /// event goes into `events` as soon as it is processed, so an error
    /// later loses none of them.
    async fn catch_up_group(&mut self, chat_id: &str, events: &mut Vec<ChatEvent>) -> Result<()> {
        let Some(cursor) = self.device.cursor(chat_id) else {
            return Err(device_missing(chat_id));
        };
        let mut after = cursor.last_seq;
        loop {
            let query = HistoryQuery::new().after_seq(after).limit(PAGE_LIMIT);
            let page = self.client.messages(chat_id, &query).await?;
            for message in &page.messages {
                after = after.max(message.seq);
                if message.message_type == MessageType::Mls {
                    events.extend(self.process(message)?);
                    if self.device.cursor(chat_id).is_none() {
                        // A provisional group from an external join that
                        // lost: nothing more to read.
                        return Ok(());
                    }
                }
            }
            if !page.has_more || page.messages.is_empty() {
                return self.drop_unanswered_commit(chat_id).await;
            }
        }
    }

    /// After catching up: a Commit of this device still pending (its
    /// answer was lost and it did not come back in the stream) while the
    /// server's chat is still at the epoch it was made in was never
    /// accepted; dropped, else it would block sending for good.
    async fn drop_unanswered_commit(&mut self, chat_id: &str) -> Result<()> {
        let Some(epoch) = self.device.pending_commit_epoch(chat_id) else {
            return Ok(());
        };
        let server_epoch = self.client.chat(chat_id).await?.summary.mls_epoch;
        if server_epoch == Some(epoch as i64) {
            self.device.commit_refused(chat_id)?;
        }
        Ok(())
    }

    /// One `mls` message through the device; what the person should know.
    fn process(&mut self, message: &Message) -> Result<Option<ChatEvent>> {
        use super::Incoming;
        let chat_id = message.chat_id.clone();
        let seq = message.seq;
        let incoming = self.device.process(&chat_id, seq, &message.content)?;
        let unreadable = |reason: String| {
            Some(ChatEvent::Unreadable {
                chat_id: chat_id.clone(),
                seq: Some(seq),
                reason,
            })
        };
        Ok(match incoming {
            Incoming::Message {
                user_id,
                device_id,
                plaintext,
            } if user_id == message.sender_id => Some(ChatEvent::Message(Received {
                chat_id: chat_id.clone(),
                message_id: message.message_id.clone(),
                seq,
                sender_id: user_id,
                device_id,
                text: String::from_utf8_lossy(&plaintext).into_owned(),
                created_at: message.created_at,
            })),
            Incoming::Message { user_id, .. } => unreadable(format!(
                "signed by {user_id} but sent as {}: dropped",
                message.sender_id
            )),
            Incoming::Commit { epoch } => Some(ChatEvent::Epoch {
                chat_id: chat_id.clone(),
                epoch,
            }),
            Incoming::Removed => Some(ChatEvent::Removed {
                chat_id: chat_id.clone(),
            }),
            // The Commits before the join (the one that added this device
            // among them) concern no one reading now.
            Incoming::BeforeJoin if message.metadata.mls.is_some() => None,
            Incoming::BeforeJoin => unreadable("sent before this device joined".into()),
            Incoming::Unreadable { reason } => unreadable(reason),
            Incoming::Own | Incoming::AlreadyProcessed => None,
        })
    }
}
