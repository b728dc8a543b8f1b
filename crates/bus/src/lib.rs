//! Publish/subscribe of events between `core` (which publishes every
//! change after it is stored) and the gateways (which deliver to sockets).
//! The bus only says "something changed": a lost event costs latency,
//! never data, because receivers repair gaps from the store by `seq`.
//! Knows nothing of storage. The in-process implementation is
//! [`local::LocalBus`]; a NATS one will implement the same trait.

pub mod local;

use natter_proto::events::ServerEvent;
use std::sync::Arc;

/// Who an event is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Every current member of the chat.
    Chat(String),
    /// Every connection of one user (whatever their chats).
    User(String),
    /// Every connection of each of these users (presence goes to the
    /// people who share a chat with someone, in one envelope).
    Users(Arc<[String]>),
}

/// An event and who it is addressed to. The event is shared, not copied,
/// between every subscriber.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub target: Target,
    pub event: Arc<ServerEvent>,
}

impl Envelope {
    pub fn to_chat(chat_id: &str, event: ServerEvent) -> Self {
        Envelope {
            target: Target::Chat(chat_id.to_owned()),
            event: Arc::new(event),
        }
    }

    pub fn to_user(user_id: &str, event: ServerEvent) -> Self {
        Envelope {
            target: Target::User(user_id.to_owned()),
            event: Arc::new(event),
        }
    }
}

/// A stream of every envelope published after subscribing. A subscriber
/// that falls too far behind loses events (and learns it from `Lagged`):
/// it must then repair from the store.
pub type Subscription = tokio::sync::broadcast::Receiver<Envelope>;

/// The event bus of one node.
pub trait Bus: Send + Sync + 'static {
    /// Sends an event to every subscriber; never blocks.
    fn publish(&self, envelope: Envelope);
    /// Starts receiving events published from now on.
    fn subscribe(&self) -> Subscription;
    /// Answers if the bus is usable (for `/readyz`).
    fn is_ready(&self) -> bool;
}
