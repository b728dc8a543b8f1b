//! natter's event bus: `core` publishes every change after it is stored,
//! addressed to a [`Subject`] (a chat, or a user); each node's gateway
//! reads the envelopes of the subjects it declared interest in (the chats
//! and users it has local connections for) from its [`Feed`] and hands
//! them to its sockets. Beside it, [`Presence`]: who is online.
//!
//! The bus only says "something changed": a lost envelope costs latency,
//! never data, because receivers repair gaps from the store by `seq`.
//! Events travel encoded once ([`Envelope::frame`], the JSON text frame
//! clients receive) with the few facts routing needs ([`Meta`]), so a
//! node never decodes what it forwards and a network bus sends the bytes
//! as they are. Knows nothing of storage.
//!
//! Implementations: [`local::LocalBus`] and [`presence::LocalPresence`]
//! (one process); the NATS bus (crate `natter-bus-nats`) implements the
//! same traits and passes the same [`contract`].

pub mod local;
pub mod presence;

pub use presence::{Connections, Presence, PresenceChange};

use bytes::Bytes;
use natter_proto::events::ServerEvent;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who an envelope is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Subject {
    /// Every current member of the chat.
    Chat(String),
    /// Every connection of one user, whatever their chats.
    User(String),
}

impl fmt::Display for Subject {
    /// The subject's name on a network bus: `chat.<id>` / `user.<id>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Chat(id) => write!(f, "chat.{id}"),
            Subject::User(id) => write!(f, "user.{id}"),
        }
    }
}

/// What a router must know of an event without decoding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Meta {
    /// `message.new`: delivered in `seq` order per chat.
    MessageNew { seq: i64 },
    /// `typing`: not echoed to the typist.
    Typing { user_id: String },
    /// `chat.created` to a user: they are now a member of this chat, whose
    /// messages up to `last_seq` they have seen or can fetch.
    Joined { chat_id: String, last_seq: i64 },
    /// `chat.member_removed` to a user: `user_id` left `chat_id`.
    Left { chat_id: String, user_id: String },
    /// To a user, with no frame: this session of theirs is over (logout,
    /// a reused refresh token); its sockets must close.
    SessionEnded { session_id: String },
    /// To a user, with the frame a connection of theirs sent (a `call.*`
    /// client frame), relayed from the node that connection is on: for the
    /// node that holds the call in memory, never for a client. `user_id`
    /// and `party_id` say who sent it.
    CallRelay { user_id: String, party_id: String },
    /// To a user, for one of their connections only (the answer to a
    /// relayed call frame).
    ToParty { party_id: String },
    /// To a user, for the connections of one of their sessions (devices)
    /// only: an MLS Welcome is for the one device whose KeyPackage it
    /// names.
    ToSession { session_id: String },
    /// Anything else: delivered as it is.
    Other,
}

impl Meta {
    /// The routing facts of `event`.
    pub fn of(event: &ServerEvent) -> Meta {
        match event {
            ServerEvent::MessageNew { message } => Meta::MessageNew { seq: message.seq },
            ServerEvent::Typing { user_id, .. } => Meta::Typing {
                user_id: user_id.clone(),
            },
            ServerEvent::ChatCreated { chat } => Meta::Joined {
                chat_id: chat.chat_id.clone(),
                last_seq: chat.last_seq,
            },
            ServerEvent::ChatMemberRemoved { chat_id, user_id } => Meta::Left {
                chat_id: chat_id.clone(),
                user_id: user_id.clone(),
            },
            _ => Meta::Other,
        }
    }
}

/// An event, encoded, and who it is for. Cheap to clone (the frame is
/// shared, not copied).
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub subject: Subject,
    pub meta: Meta,
    /// The event as the JSON text frame clients receive (valid UTF-8).
    pub frame: Bytes,
}

impl Envelope {
    /// Encodes `event` once for everyone it reaches.
    pub fn new(subject: Subject, event: &ServerEvent) -> Envelope {
        Envelope {
            subject,
            meta: Meta::of(event),
            frame: encode(event),
        }
    }

    pub fn to_chat(chat_id: &str, event: &ServerEvent) -> Envelope {
        Envelope::new(Subject::Chat(chat_id.to_owned()), event)
    }

    pub fn to_user(user_id: &str, event: &ServerEvent) -> Envelope {
        Envelope::new(Subject::User(user_id.to_owned()), event)
    }

    /// A signal for routers only: no frame reaches any client.
    pub fn control(subject: Subject, meta: Meta) -> Envelope {
        Envelope {
            subject,
            meta,
            frame: Bytes::new(),
        }
    }

    /// The same event for another subject (the frame is shared).
    pub fn readdressed(&self, subject: Subject) -> Envelope {
        Envelope {
            subject,
            meta: self.meta.clone(),
            frame: self.frame.clone(),
        }
    }
}

/// An event as a JSON text frame.
pub fn encode(event: &ServerEvent) -> Bytes {
    // Serialising these types cannot fail: they hold no maps with
    // non-string keys and no fallible Serialize impls.
    Bytes::from(serde_json::to_vec(event).unwrap_or_default())
}

/// What a [`Feed`] yields.
#[derive(Clone, Debug, PartialEq)]
pub enum Received {
    Envelope(Envelope),
    /// This many envelopes were lost (the reader fell behind, or a
    /// network bus reconnected): repair from the store.
    Lost(u64),
}

/// A node's stream of the envelopes of the subjects it is interested in.
#[async_trait::async_trait]
pub trait Feed: Send {
    /// The next envelope; `None` once the bus is gone.
    async fn recv(&mut self) -> Option<Received>;
}

/// Completes once an interest change is in force (see [`Bus::interest`]).
pub type Confirmation = futures_util::future::BoxFuture<'static, ()>;

/// The event bus as one node sees it.
pub trait Bus: Send + Sync + 'static {
    /// Sends an envelope to every node interested in its subject; never
    /// blocks. Delivery is at most once.
    fn publish(&self, envelope: Envelope);
    /// This node's feed. A node reads one feed (its router).
    fn feed(&self) -> Box<dyn Feed>;
    /// Turns this node's interest in `subject` on or off (repeating a call
    /// changes nothing). The returned future completes once it is in
    /// force: envelopes published after that reach the feed (or, after
    /// `false`, stop). A network bus may take a round trip to confirm; a
    /// reader that must not miss anything reads the store after it, to
    /// catch up with what was published before.
    fn interest(&self, subject: &Subject, on: bool) -> Confirmation;
    /// Answers if the bus is usable (for `/readyz`).
    fn is_ready(&self) -> bool;
    /// True if other nodes may be on this bus: state a node keeps in
    /// memory (a call) may then be held by another node.
    fn spans_nodes(&self) -> bool {
        false
    }
}

pub mod contract;

#[cfg(test)]
mod tests {
    use crate::contract;
    use crate::local::LocalBus;
    use crate::presence::LocalPresence;

    #[tokio::test]
    async fn local_bus_routes_only_subjects_of_interest() {
        contract::envelopes_reach_the_feed_only_for_subjects_of_interest(&LocalBus::new()).await;
    }

    #[tokio::test]
    async fn local_bus_keeps_chat_and_user_subjects_apart() {
        contract::chat_and_user_subjects_are_apart(&LocalBus::new()).await;
    }

    #[tokio::test]
    async fn local_bus_stops_when_interest_ends() {
        contract::interest_turned_off_stops_the_envelopes(&LocalBus::new()).await;
    }

    #[tokio::test]
    async fn local_bus_keeps_the_order_of_a_publisher() {
        contract::envelopes_of_one_publisher_keep_their_order(&LocalBus::new()).await;
    }

    #[tokio::test]
    async fn local_presence_follows_the_connections() {
        contract::presence_follows_the_connections(&LocalPresence::new()).await;
    }

    #[test]
    fn local_presence_has_no_departures() {
        let presence = LocalPresence::new();
        assert!(crate::Presence::departures(&presence).is_none());
        contract::departures_are_handed_out_once(&presence);
    }
}
