//! The node's one NATS connection: how it is opened (reconnecting for
//! ever, with a short bounded pause) and how the node follows its state.
//!
//! The state is read from the client itself ([`Link::look`], on every
//! liveness tick), never pieced together from async-nats's events: those
//! are `try_send` into a bounded channel and dropped when it is full
//! (a slow subscription sends one per dropped message), so a lost
//! `Connected` would leave the node believing it is cut off for good. A
//! reconnection is told by the client's connect count, so even one that
//! came and went between two looks is seen. The events only ask for an
//! earlier look, and count slow subscriptions; the callback never awaits.
//!
//! A reconnection is a loss (async-nats subscribes again by itself, but
//! what was published meanwhile is gone), reported once the server has
//! the subscriptions again so that readers who then re-read the store
//! miss nothing; a slow subscription is a loss too.

use crate::losses::{Cause, Losses};
use crate::options::NatsOptions;
use crate::round_trip::RoundTrip;
use anyhow::Context;
use async_nats::connection::State;
use async_nats::{Client, ConnectOptions, Event};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// Opens the connection to `urls` (comma-separated `nats://` URLs of one
/// NATS cluster). Fails if none answers now; once open, it reconnects by
/// itself. The returned [`Notify`] fires when an event calls for a look
/// at the connection; slow subscriptions are deferred into `losses`.
pub async fn open(
    urls: &str,
    options: &NatsOptions,
    losses: Losses,
) -> anyhow::Result<(Client, Arc<Notify>)> {
    let servers: Vec<String> = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!servers.is_empty(), "no NATS URL given");
    let nudge = Arc::new(Notify::new());
    let nudged = nudge.clone();
    let max_delay = options.max_reconnect_delay;
    let connect = ConnectOptions::new()
        .name(&options.connection_name)
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempts| {
            (Duration::from_millis(100) * u32::try_from(attempts).unwrap_or(u32::MAX))
                .min(max_delay)
        })
        // A server that falls silent (rather than closing the socket) is
        // left after three unanswered pings; pings go only when idle.
        .ping_interval(options.heartbeat_interval * 2)
        .subscription_capacity(options.subscription_capacity)
        .event_callback(move |event| {
            // Handled at once: async-nats awaits the callback before it
            // takes the next event, and drops events while it waits.
            note(&event, &losses, &nudged);
            std::future::ready(())
        });
    // The URLs are not in the message: they may hold credentials.
    let client = connect
        .connect(servers)
        .await
        .context("connecting to NATS")?;
    Ok((client, nudge))
}

/// What one async-nats event means, without awaiting anything.
fn note(event: &Event, losses: &Losses, nudge: &Notify) {
    match event {
        // One event per dropped message: one incident per tick at most.
        Event::SlowConsumer(_) => losses.defer(Cause::SlowConsumer),
        Event::Connected | Event::Disconnected | Event::Closed => nudge.notify_one(),
        Event::LameDuckMode | Event::Draining => tracing::info!(%event, "NATS"),
        Event::ServerError(_) | Event::ClientError(_) => tracing::warn!(%event, "NATS"),
    }
}

/// A change of the connection since the last look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The node is cut off from NATS.
    CutOff,
    /// The node is on NATS again after a reconnection.
    Back,
}

/// The connection as last looked at, as pure logic.
#[derive(Debug)]
struct Seen {
    cut_off: bool,
    /// The client's connect count (the first connection included).
    connects: u64,
}

impl Seen {
    /// Compares a look (connected now? how many connects so far?) with
    /// the last one. A reconnection seen while cut off again is left to
    /// the next `Back`, which reports the same loss.
    fn observe(&mut self, connected: bool, connects: u64) -> Option<Change> {
        let reconnected = connects > self.connects;
        self.connects = connects;
        if !connected {
            let was_cut_off = std::mem::replace(&mut self.cut_off, true);
            return (!was_cut_off).then_some(Change::CutOff);
        }
        let was_cut_off = std::mem::replace(&mut self.cut_off, false);
        (was_cut_off || reconnected).then_some(Change::Back)
    }
}

/// Follows the connection for the liveness task, and reports
/// reconnections as losses.
pub struct Link {
    client: Client,
    round_trip: RoundTrip,
    losses: Losses,
    confirm_timeout: Duration,
    nudge: Arc<Notify>,
    seen: Mutex<Seen>,
}

impl Link {
    pub fn new(
        client: Client,
        nudge: Arc<Notify>,
        round_trip: RoundTrip,
        losses: Losses,
        confirm_timeout: Duration,
    ) -> Link {
        // Connected, as the liveness table starts: a first look that
        // finds the connection gone says so.
        let seen = Seen {
            cut_off: false,
            connects: client.statistics().connects.load(Ordering::Acquire),
        };
        Link {
            client,
            round_trip,
            losses,
            confirm_timeout,
            nudge,
            seen: Mutex::new(seen),
        }
    }

    /// Completes when an event calls for a look.
    pub async fn nudged(&self) {
        self.nudge.notified().await;
    }

    /// Looks at the connection now and says what changed since the last
    /// look; a reconnection's loss is reported on the side.
    pub fn look(&self) -> Option<Change> {
        // The count first: async-nats counts a connect before it says
        // the state is connected, so a look never sees the state ahead.
        let connects = self.client.statistics().connects.load(Ordering::Acquire);
        let connected = self.client.connection_state() == State::Connected;
        let change = self
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(connected, connects);
        match change {
            Some(Change::CutOff) => tracing::warn!("disconnected from NATS; reconnecting"),
            Some(Change::Back) => self.report_reconnection(),
            None => {}
        }
        change
    }

    /// Reports a reconnection once the server has the subscriptions again
    /// (async-nats sent them before anything else), on a task of its own:
    /// the look must not wait for the server.
    fn report_reconnection(&self) {
        self.losses.own_publications_lost(1);
        let round_trip = self.round_trip.clone();
        let losses = self.losses.clone();
        let limit = self.confirm_timeout;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, round_trip.complete()).await;
            tracing::info!("reconnected to NATS");
            losses.incident(Cause::Reconnected);
        });
    }
}

#[cfg(test)]
mod tests;
