//! The public parts of an encrypted chat's MLS traffic, read without any
//! key: an application message's frame (group and epoch), a Commit's
//! epoch, sender and proposals, a Welcome's recipients, a GroupInfo's
//! group and epoch. Pure parsing and checking, no store: the use cases
//! (`commits`) decide what the facts mean for the chat's membership.
//!
//! openmls keeps a Commit's body private (the server is not meant to
//! process it as a group member would), so [`commit_facts`] reads the
//! PublicMessage's framing field by field with openmls's own TLS types
//! (RFC 9420 §6: `FramedContent`, then the `Commit`), and each Add's
//! KeyPackage with [`KeyPackageIn`], whose signatures it verifies.

use super::wire::{self, CIPHERSUITE, invalid};
use crate::CoreResult;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _, VLBytes};
use openmls::prelude::{
    ContentType, Credential, KeyPackageIn, KeyPackageRef, MlsMessageBodyIn, ProposalIn,
    ProposalOrRefIn, ProtocolMessage, Sender, WireFormat,
};

/// Largest `mls` message content, in characters of base64 (96 KiB): an
/// application message is a chat message's ciphertext, plus framing.
pub const MAX_MLS_CONTENT_CHARS: usize = 96 * 1024;
/// Largest Commit, Welcome and GroupInfo, decoded: a Commit adding the
/// devices of a 100-member group carries 100 KeyPackages and a path.
pub const MAX_HANDSHAKE_BYTES: usize = 512 * 1024;
/// Most new members one Welcome may name: each is a stored pending row
/// and an event to route, and no natter group adds more devices at once.
pub const MAX_WELCOME_RECIPIENTS: usize = 1000;

/// Checks the `content` of an `mls` message a client sends: an
/// `MLSMessage` holding a PrivateMessage of the chat's group, for an
/// epoch the chat has reached.
pub(crate) fn check_application(content: &str, chat_id: &str, chat_epoch: i64) -> CoreResult<()> {
    let max_bytes = MAX_MLS_CONTENT_CHARS / 4 * 3;
    let (message, _) = wire::decode_message("content", content, max_bytes)?;
    match message.wire_format() {
        WireFormat::PrivateMessage => {}
        WireFormat::PublicMessage => {
            return Err(invalid(
                "content",
                format!("commits go to POST /api/v1/chats/{chat_id}/mls/commits"),
            ));
        }
        _ => return Err(invalid("content", "an mls message holds a PrivateMessage")),
    }
    let protocol = protocol_message("content", message)?;
    check_group("content", protocol.group_id().as_slice(), chat_id)?;
    let epoch = protocol.epoch().as_u64();
    if epoch > chat_epoch as u64 {
        return Err(invalid(
            "content",
            format!("epoch {epoch} is after the chat's epoch {chat_epoch}"),
        ));
    }
    Ok(())
}

/// A leaf node's identity as the server checks it: the credential names
/// the device, the signature key must be the one pinned for that device
/// by its KeyPackage uploads (else anyone could sign a leaf naming it).
#[derive(Debug)]
pub(crate) struct Leaf {
    pub(crate) credential: Credential,
    pub(crate) signature_key: Vec<u8>,
}

/// What the server can see of a Commit.
#[derive(Debug)]
pub(crate) struct CommitFacts {
    /// The epoch the Commit was made for.
    pub(crate) epoch: i64,
    /// An external Commit (a new device joining by GroupInfo).
    pub(crate) external: bool,
    /// The committer's leaf, when the Commit has a path.
    pub(crate) committer: Option<Leaf>,
    /// Each Add's KeyPackage (verified) as `(its ref, its leaf)`. Remove
    /// proposals are not kept: they name tree leaves, which the server
    /// cannot map to devices (it holds no tree).
    pub(crate) adds: Vec<(KeyPackageRef, Leaf)>,
}

/// Reads a Commit: an `MLSMessage` with a PublicMessage of the chat's
/// group whose content is a Commit, proposals by value only.
pub(crate) fn commit_facts(encoded: &str, chat_id: &str) -> CoreResult<CommitFacts> {
    let field = "commit";
    let (message, bytes) = wire::decode_message(field, encoded, MAX_HANDSHAKE_BYTES)?;
    if message.wire_format() != WireFormat::PublicMessage {
        return Err(invalid(field, "a Commit goes as a PublicMessage"));
    }
    let protocol = protocol_message(field, message)?;
    check_group(field, protocol.group_id().as_slice(), chat_id)?;
    if protocol.content_type() != ContentType::Commit {
        return Err(invalid(field, "the PublicMessage holds no Commit"));
    }
    let malformed = |_| invalid(field, "a malformed Commit");
    // MLSMessage: version and wire format (2 bytes each), then the
    // FramedContent: group_id, epoch, sender, authenticated_data,
    // content_type, and the Commit.
    let mut reader = bytes.get(4..).ok_or_else(|| invalid(field, "too short"))?;
    VLBytes::tls_deserialize(&mut reader).map_err(malformed)?;
    let epoch = u64::tls_deserialize(&mut reader).map_err(malformed)?;
    let sender = Sender::tls_deserialize(&mut reader).map_err(malformed)?;
    VLBytes::tls_deserialize(&mut reader).map_err(malformed)?;
    u8::tls_deserialize(&mut reader).map_err(malformed)?;
    let proposals = Vec::<ProposalOrRefIn>::tls_deserialize(&mut reader).map_err(malformed)?;
    let committer = match u8::tls_deserialize(&mut reader).map_err(malformed)? {
        0 => None,
        // An UpdatePath starts with the committer's LeafNode, whose
        // encryption and signature keys precede its credential.
        1 => {
            VLBytes::tls_deserialize(&mut reader).map_err(malformed)?;
            let signature_key = VLBytes::tls_deserialize(&mut reader).map_err(malformed)?;
            Some(Leaf {
                credential: Credential::tls_deserialize(&mut reader).map_err(malformed)?,
                signature_key: signature_key.as_slice().to_vec(),
            })
        }
        _ => return Err(invalid(field, "a malformed Commit")),
    };
    let external = match sender {
        Sender::Member(_) => false,
        Sender::NewMemberCommit => true,
        Sender::External(_) | Sender::NewMemberProposal => {
            return Err(invalid(
                field,
                "a Commit comes from a member or a joining device (external Commit)",
            ));
        }
    };
    let mut facts = CommitFacts {
        epoch: i64::try_from(epoch).map_err(|_| invalid(field, "epoch out of range"))?,
        external,
        committer,
        adds: Vec::new(),
    };
    for proposal in proposals {
        match proposal {
            ProposalOrRefIn::Reference(_) => {
                return Err(invalid(
                    field,
                    "proposals by reference are not accepted: put them in the Commit",
                ));
            }
            // Removes name tree leaves, which the server cannot map to
            // devices (it holds no tree): relayed unchecked.
            ProposalOrRefIn::Proposal(proposal) => {
                if let ProposalIn::Add(add) = *proposal {
                    facts.adds.push(added_key_package(&add)?);
                }
            }
        }
    }
    Ok(facts)
}

/// The ref and leaf of an Add's KeyPackage, once its signatures,
/// lifetime and ciphersuite check out (in the directory's words).
fn added_key_package(add: &openmls::prelude::AddProposalIn) -> CoreResult<(KeyPackageRef, Leaf)> {
    let field = "commit: an added KeyPackage";
    // An Add is exactly its KeyPackage on the wire.
    let bytes = add
        .tls_serialize_detached()
        .map_err(|_| invalid("commit", "a malformed Add"))?;
    let key_package = KeyPackageIn::tls_deserialize_exact(bytes.as_slice())
        .map_err(|_| invalid("commit", "a malformed Add"))?;
    let (key_package, key_ref) = wire::verified_key_package(field, key_package)?;
    let leaf = key_package.leaf_node();
    Ok((
        key_ref,
        Leaf {
            credential: leaf.credential().clone(),
            signature_key: leaf.signature_key().as_slice().to_vec(),
        },
    ))
}

/// The KeyPackageRefs a Welcome is for, one per new member.
pub(crate) fn welcome_recipients(encoded: &str) -> CoreResult<Vec<KeyPackageRef>> {
    let field = "welcome";
    let (message, _) = wire::decode_message(field, encoded, MAX_HANDSHAKE_BYTES)?;
    let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
        return Err(invalid(field, "not a Welcome"));
    };
    if welcome.ciphersuite() != CIPHERSUITE {
        return Err(invalid(field, "another ciphersuite than natter's"));
    }
    let recipients: Vec<KeyPackageRef> = welcome
        .secrets()
        .iter()
        .map(|secrets| secrets.new_member())
        .collect();
    if recipients.is_empty() {
        return Err(invalid(field, "names no new member"));
    }
    if recipients.len() > MAX_WELCOME_RECIPIENTS {
        return Err(invalid(
            field,
            format!("names more than {MAX_WELCOME_RECIPIENTS} new members"),
        ));
    }
    Ok(recipients)
}

/// Checks a GroupInfo: the chat's group, at `epoch`.
pub(crate) fn check_group_info(encoded: &str, chat_id: &str, epoch: i64) -> CoreResult<()> {
    let field = "group_info";
    let (message, _) = wire::decode_message(field, encoded, MAX_HANDSHAKE_BYTES)?;
    let MlsMessageBodyIn::GroupInfo(info) = message.extract() else {
        return Err(invalid(field, "not a GroupInfo"));
    };
    if info.ciphersuite() != CIPHERSUITE {
        return Err(invalid(field, "another ciphersuite than natter's"));
    }
    check_group(field, info.group_id().as_slice(), chat_id)?;
    let found = info.epoch().as_u64();
    if found != epoch as u64 {
        return Err(invalid(
            field,
            format!("for epoch {found}, not the Commit's new epoch {epoch}"),
        ));
    }
    Ok(())
}

fn protocol_message(
    field: &str,
    message: openmls::prelude::MlsMessageIn,
) -> CoreResult<ProtocolMessage> {
    message
        .try_into_protocol_message()
        .map_err(|_| invalid(field, "not a PublicMessage or PrivateMessage"))
}

/// The MLS group of a chat is the UTF-8 bytes of its id.
fn check_group(field: &str, group_id: &[u8], chat_id: &str) -> CoreResult<()> {
    if group_id == chat_id.as_bytes() {
        Ok(())
    } else {
        Err(invalid(field, "the group id is not this chat's id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmls::prelude::*;
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    /// A device's MLS client, as a test makes one.
    struct Client {
        provider: OpenMlsRustCrypto,
        signer: SignatureKeyPair,
        credential: CredentialWithKey,
    }

    fn client(identity: &str) -> Client {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Client {
            provider,
            signer,
            credential,
        }
    }

    fn group(owner: &Client, chat_id: &str) -> MlsGroup {
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        MlsGroup::new_with_group_id(
            &owner.provider,
            &owner.signer,
            &config,
            GroupId::from_slice(chat_id.as_bytes()),
            owner.credential.clone(),
        )
        .unwrap()
    }

    fn encoded(message: &MlsMessageOut) -> String {
        wire::encode_base64(&message.tls_serialize_detached().unwrap())
    }

    #[test]
    fn a_commit_shows_its_epoch_committer_and_added_key_packages() {
        let ann = client("ann:a1");
        let bob = client("bob:b1");
        let key_package = KeyPackage::builder()
            .build(
                CIPHERSUITE,
                &bob.provider,
                &bob.signer,
                bob.credential.clone(),
            )
            .unwrap()
            .key_package()
            .clone();
        let mut chat = group(&ann, "chat-1");
        let (commit, welcome, info) = chat
            .add_members(
                &ann.provider,
                &ann.signer,
                std::slice::from_ref(&key_package),
            )
            .unwrap();
        let facts = commit_facts(&encoded(&commit), "chat-1").unwrap();
        assert_eq!((facts.epoch, facts.external), (0, false));
        let committer = facts.committer.as_ref().unwrap();
        assert_eq!(
            wire::credential_device(&committer.credential),
            Some(("ann".into(), "a1".into()))
        );
        assert_eq!(committer.signature_key, ann.signer.public());
        let key_ref = key_package.hash_ref(wire::crypto()).unwrap();
        assert_eq!(facts.adds.len(), 1);
        assert_eq!(facts.adds[0].0, key_ref);
        assert_eq!(
            wire::credential_device(&facts.adds[0].1.credential),
            Some(("bob".into(), "b1".into()))
        );
        assert_eq!(facts.adds[0].1.signature_key, bob.signer.public());
        assert_eq!(welcome_recipients(&encoded(&welcome)).unwrap(), [key_ref]);
        let info = encoded(&MlsMessageOut::from(info.unwrap()));
        check_group_info(&info, "chat-1", 1).unwrap();
        assert!(check_group_info(&info, "chat-1", 0).is_err());
        assert!(check_group_info(&info, "chat-2", 1).is_err());

        let other_chat = commit_facts(&encoded(&commit), "chat-2").unwrap_err();
        assert_eq!(
            other_chat.to_string(),
            "commit: the group id is not this chat's id"
        );
        assert!(welcome_recipients(&encoded(&commit)).is_err());
    }

    #[test]
    fn application_messages_must_be_private_and_not_from_a_later_epoch() {
        let ann = client("ann:a1");
        let mut chat = group(&ann, "chat-1");
        let early = chat
            .create_message(&ann.provider, &ann.signer, b"at epoch 0")
            .unwrap();
        check_application(&encoded(&early), "chat-1", 0).unwrap();
        assert!(check_application(&encoded(&early), "chat-2", 0).is_err());
        let update = chat
            .self_update(&ann.provider, &ann.signer, LeafNodeParameters::default())
            .unwrap();
        let commit = encoded(update.commit());
        let refused = check_application(&commit, "chat-1", 0).unwrap_err();
        assert!(refused.to_string().contains("/mls/commits"), "{refused}");
        let facts = commit_facts(&commit, "chat-1").unwrap();
        assert!(facts.adds.is_empty() && facts.committer.is_some());
        chat.merge_pending_commit(&ann.provider).unwrap();
        let later = chat
            .create_message(&ann.provider, &ann.signer, b"at epoch 1")
            .unwrap();
        let refused = check_application(&encoded(&later), "chat-1", 0).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "content: epoch 1 is after the chat's epoch 0"
        );
        check_application(&encoded(&later), "chat-1", 1).unwrap();
        assert!(commit_facts(&encoded(&later), "chat-1").is_err());
    }
}
