//! The node's interest: one NATS subscription per subject it asked for,
//! and nothing else, so a chat without a local member costs this node no
//! NATS message at all.
//!
//! One task (the [`Interest`] actor) owns the subscriptions, so changes
//! apply in the order they were asked for and repeating one changes
//! nothing. It also reads them ([`Merge`]: one stream, in publication
//! order) into the node's envelope channel, where feeds read them. The
//! frame is the NATS payload itself (no copy); the meta comes from the
//! header.
//!
//! A change waits until what this node published before asking for it
//! has been handed to async-nats, so a node that publishes and then
//! subscribes does not receive its own earlier envelope.
//!
//! What the actor cannot deliver is a loss for the feed: a subscription
//! async-nats refused or a message whose routing header cannot be read
//! (deferred: one `Lost` per tick whatever the count), subscriptions that
//! ended by themselves (one per batch that saw some end).

use crate::losses::{Cause, Losses};
use crate::merge::Merge;
use crate::publisher::Handed;
use crate::{meta_header, subjects};
use async_nats::Client;
use natter_bus::{Envelope, Subject};
use tokio::sync::{broadcast, mpsc, oneshot};

/// A change of interest, and who to tell once async-nats has sent it.
struct Change {
    subject: Subject,
    on: bool,
    /// How many publications were accepted before the change was asked.
    after_publications: u64,
    sent: oneshot::Sender<()>,
}

/// Asks the actor for changes (cheap to clone).
#[derive(Clone)]
pub struct Interest {
    // Unbounded: a change is asked for by the router once per routing
    // table change (a user's first connection, a chat's first local
    // member), and the actor applies each as soon as async-nats takes it.
    // A bound would make `Bus::interest` block or lose a change.
    changes: mpsc::UnboundedSender<Change>,
    handed: Handed,
}

impl Interest {
    /// The actor's handle, and its task (the caller spawns it).
    pub fn new(
        client: Client,
        handed: Handed,
        envelopes: broadcast::Sender<Envelope>,
        losses: Losses,
    ) -> (Interest, impl Future<Output = ()> + Send + 'static) {
        let (changes, requests) = mpsc::unbounded_channel();
        // Unconstrained: tokio's cooperative budget would make a
        // subscription look empty (a Pending with a deferred wake-up) in
        // the middle of a batch, and the batch would then miss messages
        // it must hold. It yields after each batch instead.
        let task =
            tokio::task::unconstrained(run(client, requests, handed.clone(), envelopes, losses));
        (Interest { changes, handed }, task)
    }

    /// Asks for a change now (whether or not anyone awaits the answer);
    /// the receiver completes once the SUB or UNSUB is on its way to the
    /// server (or the change was a repetition).
    pub fn change(&self, subject: &Subject, on: bool) -> oneshot::Receiver<()> {
        let (sent, answer) = oneshot::channel();
        let change = Change {
            subject: subject.clone(),
            on,
            after_publications: self.handed.accepted(),
            sent,
        };
        // An error means the node is gone: the dropped sender answers.
        let _ = self.changes.send(change);
        answer
    }
}

async fn run(
    client: Client,
    mut requests: mpsc::UnboundedReceiver<Change>,
    handed: Handed,
    envelopes: broadcast::Sender<Envelope>,
    losses: Losses,
) {
    let mut merge = Merge::default();
    loop {
        tokio::select! {
            request = requests.recv() => {
                let Some(change) = request else {
                    break;
                };
                handed.wait_for(change.after_publications).await;
                apply(&client, &mut merge, change, &losses).await;
            }
            () = merge.readable() => {
                let batch = merge.batch();
                let ended = merge.take_ended();
                if ended > 0 {
                    // Once per batch, not per subscription: they all end
                    // together when the connection closes. At once: the
                    // liveness tick that raises deferred causes may have
                    // stopped with the node.
                    tracing::info!(ended, "bus subscriptions ended");
                    losses.incident(Cause::SubscriptionEnded);
                }
                for (subject, message) in batch {
                    metrics::counter!("natter_bus_envelopes_received_total").increment(1);
                    match meta_header::decode(message.headers.as_ref()) {
                        Ok(meta) => {
                            let envelope = Envelope {
                                subject,
                                meta,
                                frame: message.payload,
                            };
                            // An error only means no feed is open.
                            let _ = envelopes.send(envelope);
                        }
                        Err(error) => {
                            tracing::debug!(%subject, %error, "dropping a bus message");
                            losses.defer(Cause::Undecodable);
                        }
                    }
                }
                tokio::task::yield_now().await;
            }
        }
    }
}

async fn apply(client: &Client, merge: &mut Merge, change: Change, losses: &Losses) {
    let Change {
        subject, on, sent, ..
    } = change;
    if on && !merge.contains(&subject) {
        match client.subscribe(subjects::of(&subject)).await {
            Ok(subscriber) => merge.insert(subject, subscriber),
            Err(error) => {
                // Asking again (the same interest) tries again.
                tracing::warn!(%subject, %error, "subscribing to a bus subject failed");
                losses.defer(Cause::SubscribeFailed);
            }
        }
    } else if !on
        && let Some(mut subscriber) = merge.remove(&subject)
        && let Err(error) = subscriber.unsubscribe().await
    {
        tracing::debug!(%subject, %error, "unsubscribing failed");
    }
    let _ = sent.send(());
}
