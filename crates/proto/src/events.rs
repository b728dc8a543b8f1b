//! Events: what changed, as published on the bus by the server's `core`
//! and sent to WebSocket clients as JSON text frames with a `type`; and the
//! frames a client sends.

use crate::calls::{IceCandidate, SessionDescription};
use crate::chats::ChatSummary;
use crate::messages::{Message, MessageType, Metadata};
use crate::users::PresenceStatus;
use crate::{ErrorCode, Timestamp};
use serde::{Deserialize, Serialize};

/// Kind of a receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Delivered,
    Read,
}

/// One chat's cursor in the `ready` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatCursor {
    pub chat_id: String,
    pub last_seq: i64,
    pub read_seq: i64,
    /// The chat's change cursor: fetch `?changed_after=` what you hold to
    /// see the edits, deletes and reactions you missed.
    #[serde(default)]
    pub last_version: i64,
}

/// Server -> client frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "ready")]
    Ready {
        user_id: String,
        session_id: String,
        chats: Vec<ChatCursor>,
        /// This connection's party id in calls (see "Calls" in API.md).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        party_id: Option<String>,
    },
    #[serde(rename = "message.new")]
    MessageNew { message: Message },
    #[serde(rename = "message.updated")]
    MessageUpdated { message: Message },
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        chat_id: String,
        message_id: String,
        seq: i64,
        /// The tombstone's version.
        #[serde(default)]
        version: i64,
    },
    /// The user hid a message for themselves ("delete for me"): sent to
    /// that user's own connections only.
    #[serde(rename = "message.hidden")]
    MessageHidden {
        chat_id: String,
        message_id: String,
        seq: i64,
    },
    #[serde(rename = "reaction.added")]
    ReactionAdded {
        chat_id: String,
        message_id: String,
        emoji: String,
        user_id: String,
        /// The message's version after the change.
        #[serde(default)]
        version: i64,
    },
    #[serde(rename = "reaction.removed")]
    ReactionRemoved {
        chat_id: String,
        message_id: String,
        emoji: String,
        user_id: String,
        /// The message's version after the change.
        #[serde(default)]
        version: i64,
    },
    #[serde(rename = "receipt")]
    Receipt {
        chat_id: String,
        user_id: String,
        kind: ReceiptKind,
        seq: i64,
    },
    #[serde(rename = "typing")]
    Typing {
        chat_id: String,
        user_id: String,
        active: bool,
    },
    #[serde(rename = "presence")]
    Presence {
        user_id: String,
        status: PresenceStatus,
        last_seen: Option<Timestamp>,
    },
    #[serde(rename = "chat.created")]
    ChatCreated { chat: ChatSummary },
    #[serde(rename = "chat.updated")]
    ChatUpdated { chat: ChatSummary },
    #[serde(rename = "chat.member_added")]
    ChatMemberAdded { chat_id: String, user_id: String },
    #[serde(rename = "chat.member_removed")]
    ChatMemberRemoved { chat_id: String, user_id: String },
    /// A Welcome into an encrypted chat, to the connections of the one
    /// device (session) whose KeyPackage it names; also kept until that
    /// device acknowledges it (`DELETE /api/v1/mls/welcomes/{id}`).
    #[serde(rename = "mls.welcome")]
    MlsWelcome {
        welcome_id: String,
        chat_id: String,
        epoch: i64,
        welcome: String,
    },
    #[serde(rename = "send.ok")]
    SendOk {
        client_msg_id: String,
        message_id: String,
        seq: i64,
        created_at: Timestamp,
    },
    #[serde(rename = "error")]
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
        /// The call a refused `call.*` frame was about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_id: Option<String>,
        code: ErrorCode,
        detail: String,
    },
    #[serde(rename = "pong")]
    Pong,
    /// A call rings: to every connection of the callee.
    #[serde(rename = "call.invite")]
    CallInvite {
        call_id: String,
        chat_id: String,
        /// The caller, and the party (connection) that invited.
        user_id: String,
        party_id: String,
        offer: SessionDescription,
        lifetime_ms: u64,
        video: bool,
    },
    /// The callee's `party_id` answered: to the caller's connections.
    #[serde(rename = "call.answer")]
    CallAnswer {
        call_id: String,
        chat_id: String,
        user_id: String,
        party_id: String,
        answer: SessionDescription,
    },
    /// Which of the callee's parties took the call: to the callee's
    /// connections, so that the others stop ringing.
    #[serde(rename = "call.select_answer")]
    CallSelectAnswer {
        call_id: String,
        chat_id: String,
        selected_party_id: String,
    },
    /// ICE candidates of the sending party: to the other user.
    #[serde(rename = "call.candidates")]
    CallCandidates {
        call_id: String,
        chat_id: String,
        user_id: String,
        party_id: String,
        candidates: Vec<IceCandidate>,
    },
    /// A new offer or answer in an answered call: to the other user.
    #[serde(rename = "call.negotiate")]
    CallNegotiate {
        call_id: String,
        chat_id: String,
        user_id: String,
        party_id: String,
        description: SessionDescription,
    },
    /// The callee declined: to both users.
    #[serde(rename = "call.reject")]
    CallReject {
        call_id: String,
        chat_id: String,
        user_id: String,
        party_id: String,
    },
    /// The call is over (`reason`): to both users.
    #[serde(rename = "call.hangup")]
    CallHangup {
        call_id: String,
        chat_id: String,
        user_id: String,
        party_id: String,
        reason: String,
    },
}

impl ServerEvent {
    /// The chat an event belongs to, if it belongs to one.
    pub fn chat_id(&self) -> Option<&str> {
        match self {
            ServerEvent::MessageNew { message } | ServerEvent::MessageUpdated { message } => {
                Some(&message.chat_id)
            }
            ServerEvent::MessageDeleted { chat_id, .. }
            | ServerEvent::MessageHidden { chat_id, .. }
            | ServerEvent::ReactionAdded { chat_id, .. }
            | ServerEvent::ReactionRemoved { chat_id, .. }
            | ServerEvent::Receipt { chat_id, .. }
            | ServerEvent::Typing { chat_id, .. }
            | ServerEvent::ChatMemberAdded { chat_id, .. }
            | ServerEvent::ChatMemberRemoved { chat_id, .. } => Some(chat_id),
            ServerEvent::ChatCreated { chat } | ServerEvent::ChatUpdated { chat } => {
                Some(&chat.chat_id)
            }
            _ => None,
        }
    }
}

/// Client -> server frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    #[serde(rename = "auth")]
    Auth { token: String },
    #[serde(rename = "send")]
    Send {
        client_msg_id: String,
        chat_id: String,
        #[serde(default)]
        content: String,
        /// The message type; named `message_type` because `type` tags the frame.
        #[serde(default)]
        message_type: Option<MessageType>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    #[serde(rename = "ack")]
    Ack { chat_id: String, seq: i64 },
    #[serde(rename = "read")]
    Read { chat_id: String, seq: i64 },
    #[serde(rename = "typing")]
    Typing { chat_id: String, active: bool },
    #[serde(rename = "presence")]
    Presence { status: PresenceStatus },
    #[serde(rename = "ping")]
    Ping,
    /// Calls (see "Calls" in API.md).
    #[serde(rename = "call.invite")]
    CallInvite {
        call_id: String,
        chat_id: String,
        offer: SessionDescription,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lifetime_ms: Option<u64>,
        #[serde(default)]
        video: bool,
    },
    #[serde(rename = "call.answer")]
    CallAnswer {
        call_id: String,
        chat_id: String,
        answer: SessionDescription,
    },
    #[serde(rename = "call.candidates")]
    CallCandidates {
        call_id: String,
        chat_id: String,
        candidates: Vec<IceCandidate>,
    },
    #[serde(rename = "call.negotiate")]
    CallNegotiate {
        call_id: String,
        chat_id: String,
        description: SessionDescription,
    },
    #[serde(rename = "call.reject")]
    CallReject { call_id: String, chat_id: String },
    #[serde(rename = "call.hangup")]
    CallHangup {
        call_id: String,
        chat_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl ClientFrame {
    /// The call a `call.*` frame is about; `None` for other frames.
    pub fn call_id(&self) -> Option<&str> {
        self.call().map(|(call_id, _)| call_id)
    }

    /// The call and the chat of a `call.*` frame.
    pub fn call(&self) -> Option<(&str, &str)> {
        match self {
            ClientFrame::CallInvite {
                call_id, chat_id, ..
            }
            | ClientFrame::CallAnswer {
                call_id, chat_id, ..
            }
            | ClientFrame::CallCandidates {
                call_id, chat_id, ..
            }
            | ClientFrame::CallNegotiate {
                call_id, chat_id, ..
            }
            | ClientFrame::CallReject { call_id, chat_id }
            | ClientFrame::CallHangup {
                call_id, chat_id, ..
            } => Some((call_id, chat_id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_dotted_type() {
        let event = ServerEvent::MessageDeleted {
            chat_id: "c".into(),
            message_id: "m".into(),
            seq: 3,
            version: 9,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "message.deleted");
        assert_eq!(json["seq"], 3);
    }

    #[test]
    fn client_ping_parses() {
        let frame: ClientFrame = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(frame, ClientFrame::Ping);
    }
}
