//! What the encrypted-chat tests share: a signed-in device with a real
//! openmls client (its own provider, signature key and credential
//! `"<user_id>:<device_id>"`), the groups it makes or joins, and the
//! requests of the Delivery Service routes. Commits go as PublicMessage
//! (the server must read their epoch), application messages as
//! PrivateMessage. Owns no test of its own.

use crate::helpers::{PASSWORD, TestServer, raw_get, raw_json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use natter_client::{Client, Method, RawResponse};
use natter_proto::auth::LoginRequest;
use natter_proto::chats::{Chat, ChatType, CreateChat};
use natter_proto::key_packages::UploadKeyPackages;
use natter_proto::messages::{MessageType, SendMessage};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use serde_json::json;

pub const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).expect("standard base64")
}

/// The base64 of an outgoing MLS message, as the API carries it.
pub fn wire(message: &MlsMessageOut) -> String {
    b64(&message.tls_serialize_detached().unwrap())
}

/// A signed-in device with its MLS client.
pub struct Device {
    pub client: Client,
    pub token: String,
    pub user_id: String,
    pub device_id: String,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

impl Device {
    /// Registers `username`: its first device.
    pub async fn register(server: &TestServer, username: &str) -> Device {
        let (client, auth) = server.user(username).await;
        Device::new(client, auth.access_token, auth.user.user_id).await
    }

    /// Another device of `username` (a new login named `name`).
    pub async fn login(server: &TestServer, username: &str, name: &str) -> Device {
        let auth = server
            .client()
            .login_with(&LoginRequest {
                username: username.into(),
                password: PASSWORD.into(),
                device_name: Some(name.into()),
            })
            .await
            .unwrap();
        let client = server.client().with_token(auth.access_token.clone());
        Device::new(client, auth.access_token, auth.user.user_id).await
    }

    async fn new(client: Client, token: String, user_id: String) -> Device {
        let devices = client.devices().await.unwrap();
        let device_id = devices.into_iter().find(|d| d.current).unwrap().device_id;
        let device = Device::with_identity(
            client,
            token,
            user_id.clone(),
            device_id.clone(),
            &format!("{user_id}:{device_id}"),
        );
        device.pin_signature_key().await;
        device
    }

    /// Uploads one KeyPackage, which pins this device's signature key in
    /// the directory: the server accepts only leaves signed with it.
    pub async fn pin_signature_key(&self) {
        let upload = UploadKeyPackages {
            key_packages: vec![wire(&MlsMessageOut::from(self.key_package()))],
            last_resort: None,
        };
        self.client.upload_key_packages(&upload).await.unwrap();
    }

    /// A device whose MLS credential says `identity` (a liar, when it is
    /// not `"<user_id>:<device_id>"`).
    pub fn with_identity(
        client: Client,
        token: String,
        user_id: String,
        device_id: String,
        identity: &str,
    ) -> Device {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Device {
            client,
            token,
            user_id,
            device_id,
            provider,
            signer,
            credential,
        }
    }

    /// A fresh KeyPackage of this device (its private part kept here, for
    /// the Welcome that names it).
    pub fn key_package(&self) -> KeyPackage {
        KeyPackage::builder()
            .build(SUITE, &self.provider, &self.signer, self.credential.clone())
            .unwrap()
            .key_package()
            .clone()
    }

    /// The chat's MLS group, made by this device at epoch 0.
    pub fn create_group(&self, chat_id: &str) -> MlsGroup {
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(SUITE)
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &config,
            GroupId::from_slice(chat_id.as_bytes()),
            self.credential.clone(),
        )
        .unwrap()
    }

    /// A Commit adding `key_packages`: `(commit, welcome, group_info)` as
    /// the API takes them. The group waits for the server's answer.
    pub fn add(&self, group: &mut MlsGroup, key_packages: &[KeyPackage]) -> Commit {
        let (commit, welcome, info) = group
            .add_members(&self.provider, &self.signer, key_packages)
            .unwrap();
        Commit {
            commit: wire(&commit),
            welcome: Some(wire(&welcome)),
            group_info: info.map(|info| wire(&MlsMessageOut::from(info))),
        }
    }

    /// A Commit that only renews this device's own keys.
    pub fn self_update(&self, group: &mut MlsGroup) -> Commit {
        let bundle = group
            .self_update(&self.provider, &self.signer, LeafNodeParameters::default())
            .unwrap();
        Commit {
            commit: wire(bundle.commit()),
            welcome: None,
            group_info: None,
        }
    }

    /// The server took this device's pending Commit.
    pub fn merge(&self, group: &mut MlsGroup) {
        group.merge_pending_commit(&self.provider).unwrap();
    }

    /// The server refused this device's pending Commit.
    pub fn drop_pending(&self, group: &mut MlsGroup) {
        group.clear_pending_commit(self.provider.storage()).unwrap();
    }

    /// Joins a group by a Welcome (base64).
    pub fn join(&self, welcome: &str) -> MlsGroup {
        let message = MlsMessageIn::tls_deserialize_exact(unb64(welcome).as_slice()).unwrap();
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            panic!("not a Welcome");
        };
        let config = MlsGroupJoinConfig::builder()
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        StagedWelcome::new_from_welcome(&self.provider, &config, welcome, None)
            .unwrap()
            .into_group(&self.provider)
            .unwrap()
    }

    /// Joins a group by external Commit from its GroupInfo (base64, with
    /// the ratchet tree): the group, and the Commit to post.
    pub fn join_externally(&self, group_info: &str) -> (MlsGroup, String) {
        let message = MlsMessageIn::tls_deserialize_exact(unb64(group_info).as_slice()).unwrap();
        let MlsMessageBodyIn::GroupInfo(info) = message.extract() else {
            panic!("not a GroupInfo");
        };
        let config = MlsGroupJoinConfig::builder()
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_config(config)
            .build_group(&self.provider, info, self.credential.clone())
            .unwrap()
            .load_psks(self.provider.storage())
            .unwrap()
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .unwrap()
            .finalize(&self.provider)
            .unwrap();
        (group, wire(bundle.commit()))
    }

    /// An application message for the group, base64.
    pub fn encrypt(&self, group: &mut MlsGroup, plaintext: &str) -> String {
        let message = group
            .create_message(&self.provider, &self.signer, plaintext.as_bytes())
            .unwrap();
        wire(&message)
    }

    /// Processes a message of the group (base64): the plaintext of an
    /// application message, `None` for a Commit (merged).
    pub fn process(&self, group: &mut MlsGroup, content: &str) -> Option<String> {
        let message = MlsMessageIn::tls_deserialize_exact(unb64(content).as_slice()).unwrap();
        let protocol = message.try_into_protocol_message().unwrap();
        let processed = group.process_message(&self.provider, protocol).unwrap();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                Some(String::from_utf8(app.into_bytes()).unwrap())
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                group.merge_staged_commit(&self.provider, *staged).unwrap();
                None
            }
            other => panic!("unexpected MLS content: {other:?}"),
        }
    }

    /// Sends an `mls` message with `content` (raw: any status).
    pub async fn send_mls(&self, chat_id: &str, content: &str) -> RawResponse {
        let message = SendMessage {
            chat_id: chat_id.into(),
            content: content.into(),
            message_type: MessageType::Mls,
            client_msg_id: None,
            file_id: None,
            metadata: None,
            sender_id: None,
        };
        let body = serde_json::to_value(&message).unwrap();
        raw_json(&self.client, Method::POST, "/api/v1/messages", &body).await
    }

    /// Posts a Commit (raw: any status).
    pub async fn post_commit(&self, chat_id: &str, commit: &Commit) -> RawResponse {
        let mut body = json!({ "commit": commit.commit });
        if let Some(welcome) = &commit.welcome {
            body["welcome"] = welcome.clone().into();
        }
        if let Some(info) = &commit.group_info {
            body["group_info"] = info.clone().into();
        }
        let path = format!("/api/v1/chats/{chat_id}/mls/commits");
        raw_json(&self.client, Method::POST, &path, &body).await
    }

    /// `GET /api/v1/mls/welcomes` as JSON.
    pub async fn welcomes(&self) -> serde_json::Value {
        let response = raw_get(&self.client, Method::GET, "/api/v1/mls/welcomes").await;
        assert_eq!(response.status, 200, "{}", response.text());
        response.json().unwrap()
    }
}

/// A Commit as `POST /chats/{id}/mls/commits` takes it.
#[derive(Clone, Debug)]
pub struct Commit {
    pub commit: String,
    pub welcome: Option<String>,
    pub group_info: Option<String>,
}

/// Creates an encrypted chat of `owner` with `members` (user ids).
pub async fn e2ee_chat(owner: &Client, chat_type: ChatType, members: &[&str]) -> Chat {
    let request = CreateChat {
        chat_type,
        name: (chat_type != ChatType::Direct).then(|| "secrets".to_string()),
        member_ids: members.iter().map(|id| id.to_string()).collect(),
        e2ee: true,
    };
    owner.create_chat(&request).await.unwrap()
}

/// The plain direct chat of the caller and `other`.
pub async fn plain_direct(caller: &Client, other: &str) -> Chat {
    let request = CreateChat {
        chat_type: ChatType::Direct,
        name: None,
        member_ids: vec![other.to_string()],
        e2ee: false,
    };
    caller.create_chat(&request).await.unwrap()
}
