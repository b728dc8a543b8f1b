//! natter-bus-nats against real `nats-server` processes: the bus and
//! presence contracts, routing between nodes, reconnections, liveness,
//! the other losses a feed is told of, cluster-wide presence, and NATS
//! clusters of several servers.

mod cluster;
mod contract;
mod liveness;
mod losses;
mod presence;
mod reconnection;
mod routing;
mod support;
