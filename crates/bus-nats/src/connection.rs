//! The node's one NATS connection: how it is opened (reconnecting for
//! ever, with a short bounded pause) and what its events mean for the
//! node. A reconnection is a loss (async-nats subscribes again by itself,
//! but what was published meanwhile is gone), reported once the server
//! has the subscriptions again so that readers who then re-read the
//! store miss nothing; a slow subscription is a loss too.

use crate::liveness::Liveness;
use crate::losses::{Cause, Losses};
use crate::options::NatsOptions;
use crate::round_trip::RoundTrip;
use anyhow::Context;
use async_nats::{Client, ConnectOptions, Event};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// async-nats's events, on their way to [`watch_events`]. async-nats
/// itself keeps at most 128 and drops the rest; this small buffer makes
/// its event task wait instead, which costs nothing (events are rare).
const EVENTS: usize = 64;

/// Opens the connection to `urls` (comma-separated `nats://` URLs of one
/// NATS cluster). Fails if none answers now; once open, it reconnects by
/// itself.
pub async fn open(
    urls: &str,
    options: &NatsOptions,
) -> anyhow::Result<(Client, mpsc::Receiver<Event>)> {
    let servers: Vec<String> = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!servers.is_empty(), "no NATS URL given");
    let (events, received) = mpsc::channel(EVENTS);
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
            let events = events.clone();
            async move {
                let _ = events.send(event).await;
            }
        });
    // The URLs are not in the message: they may hold credentials.
    let client = connect
        .connect(servers)
        .await
        .context("connecting to NATS")?;
    Ok((client, received))
}

/// Turns connection events into the node's state, until the connection
/// is closed.
pub async fn watch_events(
    mut events: mpsc::Receiver<Event>,
    liveness: Arc<Liveness>,
    round_trip: RoundTrip,
    losses: Losses,
    confirm_timeout: Duration,
) {
    let mut cut_off = false;
    while let Some(event) = events.recv().await {
        match event {
            Event::Disconnected => {
                tracing::warn!("disconnected from NATS; reconnecting");
                cut_off = true;
                liveness.disconnected();
            }
            Event::Connected if cut_off => {
                cut_off = false;
                liveness.connected();
                // async-nats sent the subscriptions again before anything
                // else; once the server has them, readers may re-read.
                let _ = tokio::time::timeout(confirm_timeout, round_trip.complete()).await;
                tracing::info!("reconnected to NATS");
                losses.own_publications_lost(1);
                losses.incident(Cause::Reconnected);
            }
            Event::Connected => {}
            Event::SlowConsumer(sid) => {
                // One event per dropped message: counted, not logged each.
                tracing::debug!(sid, "a NATS subscription fell behind");
                losses.incident(Cause::SlowConsumer);
            }
            Event::Closed => break,
            Event::LameDuckMode | Event::Draining => tracing::info!(%event, "NATS"),
            Event::ServerError(_) | Event::ClientError(_) => tracing::warn!(%event, "NATS"),
        }
    }
}
