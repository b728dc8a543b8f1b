//! Presence messages on `natter.presence`, as JSON: one user's status on
//! one node changed, or one part of a node's full presence.

use super::view::SnapshotPart;
use natter_proto::users::PresenceStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PresenceMessage {
    Change {
        node: String,
        user: String,
        status: PresenceStatus,
    },
    Snapshot {
        node: String,
        round: u64,
        part: u32,
        parts: u32,
        users: Vec<(String, PresenceStatus)>,
    },
}

impl PresenceMessage {
    pub fn snapshot(node: &str, part: SnapshotPart) -> PresenceMessage {
        PresenceMessage::Snapshot {
            node: node.to_owned(),
            round: part.round,
            part: part.part,
            parts: part.parts,
            users: part.users,
        }
    }

    /// The node whose presence this is.
    pub fn node(&self) -> &str {
        match self {
            PresenceMessage::Change { node, .. } | PresenceMessage::Snapshot { node, .. } => node,
        }
    }

    pub fn encode(&self) -> bytes::Bytes {
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_wire() {
        let messages = [
            PresenceMessage::Change {
                node: "n".into(),
                user: "u".into(),
                status: PresenceStatus::Away,
            },
            PresenceMessage::Snapshot {
                node: "n".into(),
                round: 3,
                part: 0,
                parts: 1,
                users: vec![("u".into(), PresenceStatus::Online)],
            },
        ];
        for message in messages {
            let decoded: PresenceMessage = serde_json::from_slice(&message.encode()).unwrap();
            assert_eq!(decoded, message);
        }
    }
}
