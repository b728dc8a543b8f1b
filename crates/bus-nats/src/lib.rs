//! natter's event bus and presence on NATS, for a cluster of identical
//! nodes: [`NatsBus`] implements [`natter_bus::Bus`] and [`NatsPresence`]
//! implements [`natter_bus::Presence`], sharing one connection.
//!
//! Core NATS publish/subscribe only, no JetStream: the database is the
//! one source of truth, the bus only says that something changed, and
//! every possible loss is reported to the feed so that readers repair
//! from the store. Each node has an id (a UUIDv7 chosen at start) and
//! heartbeats on `natter.node.heartbeat`; a silent peer is declared dead
//! (a loss for the feed; its users go offline after a grace).
//!
//! Modules, each with one job: [`subjects`] (names, escaping),
//! `meta_header` (routing facts as a header), `publisher` (the bounded
//! way out), `interest` (subscriptions), `merge` (reading them in publication
//! order), `feed` (the feed),
//! `round_trip` (server confirmations), `connection` (connecting, the
//! connection's state), `liveness` (heartbeats, peers), `losses` (what may
//! have been lost), `presence` (the replicated view), `node` (the life
//! cycle of it all).
//!
//! Metrics: `natter_bus_envelopes_published_total`,
//! `natter_bus_envelopes_dropped_total` (never sent: queue full or NATS
//! refused), `natter_bus_envelopes_received_total`,
//! `natter_bus_envelopes_lost_total` (as reported to feeds),
//! `natter_bus_loss_incidents_total{cause}`, `natter_bus_peers_alive`,
//! `natter_presence_departures_total` (users of an expired node whose
//! status changed), `natter_presence_returns_total` (users of a node
//! that came back after it expired whose status changed).

mod bus;
mod connection;
mod feed;
mod interest;
mod liveness;
mod losses;
mod merge;
mod meta_header;
mod node;
mod options;
mod presence;
mod publisher;
mod round_trip;
pub mod subjects;

pub use bus::NatsBus;
pub use options::NatsOptions;
pub use presence::NatsPresence;
