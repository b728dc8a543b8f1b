//! natter-bus-nats against real `nats-server` processes: the bus and
//! presence contracts, routing between nodes, reconnections, liveness,
//! cluster-wide presence, and a NATS cluster of three servers.

mod cluster;
mod contract;
mod liveness;
mod presence;
mod reconnection;
mod routing;
mod support;
