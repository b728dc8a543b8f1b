//! Merges the node's subscriptions into one stream in publication order.
//!
//! NATS delivers a connection's messages in the order each publisher sent
//! them, across subjects; async-nats then hands each one to its
//! subscription's own channel, and which channel is read first decides
//! the order again: a `chat.member_removed` to a user could be overtaken
//! by the next message of the chat. So publishers number what they send
//! (the `Natter-Order` header: publisher key and counter, see
//! [`order_header`]), and the merge reads in batches: it drains every
//! subscription that has something, again and again, until none has;
//! anything async-nats handed out before the last message taken is then
//! in the batch (it woke its subscription first), and sorting the batch
//! by each publisher's counter restores their order.
//!
//! Subscriptions are woken individually (each has its own waker that
//! queues its slot), so a batch costs the subscriptions that have
//! messages, not every subscription of the node.

use async_nats::{HeaderMap, Message, Subscriber};
use futures_util::Stream;
use natter_bus::Subject;
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use tokio::sync::Notify;

/// The header that numbers a publisher's messages.
pub const ORDER: &str = "Natter-Order";

/// A batch stops growing past this many messages even if more keep
/// arriving (order is then only kept within each batch); a node that
/// far behind is losing envelopes anyway.
const MAX_BATCH: usize = 65_536;

/// The value of [`ORDER`] for a publisher's `counter`-th message.
pub fn order_header(publisher: u64, counter: u64) -> String {
    format!("{publisher:016x} {counter}")
}

fn order_of(headers: Option<&HeaderMap>) -> Option<(u64, u64)> {
    let (publisher, counter) = headers?.get(ORDER)?.as_str().split_once(' ')?;
    Some((
        u64::from_str_radix(publisher, 16).ok()?,
        counter.parse().ok()?,
    ))
}

/// Slots with something to read, and the merge task's wake-up.
#[derive(Default)]
struct Ready {
    slots: Mutex<VecDeque<usize>>,
    notify: Notify,
}

/// One subscription's waker: queues its slot once until it is read.
struct SlotWaker {
    slot: usize,
    queued: AtomicBool,
    ready: Arc<Ready>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_back(self.slot);
            self.ready.notify.notify_one();
        }
    }
}

struct Slot {
    subject: Subject,
    subscriber: Subscriber,
    waker: Arc<SlotWaker>,
}

/// The node's subscriptions, read as one.
#[derive(Default)]
pub struct Merge {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_subject: HashMap<Subject, usize>,
    ready: Arc<Ready>,
    /// Subscriptions that ended by themselves since the last
    /// [`Merge::take_ended`]: what they would have carried is lost.
    ended: usize,
}

impl Merge {
    pub fn contains(&self, subject: &Subject) -> bool {
        self.by_subject.contains_key(subject)
    }

    pub fn insert(&mut self, subject: Subject, subscriber: Subscriber) {
        let slot = self.free.pop().unwrap_or(self.slots.len());
        if slot == self.slots.len() {
            self.slots.push(None);
        }
        let waker = Arc::new(SlotWaker {
            slot,
            queued: AtomicBool::new(false),
            ready: self.ready.clone(),
        });
        // Read once at once: a subscription never polled has no waker.
        waker.wake_by_ref();
        self.by_subject.insert(subject.clone(), slot);
        self.slots[slot] = Some(Slot {
            subject,
            subscriber,
            waker,
        });
    }

    pub fn remove(&mut self, subject: &Subject) -> Option<Subscriber> {
        let slot = self.by_subject.remove(subject)?;
        self.free.push(slot);
        self.slots[slot].take().map(|slot| slot.subscriber)
    }

    /// How many subscriptions ended by themselves (and were removed)
    /// since the last call, for the caller to report.
    pub fn take_ended(&mut self) -> usize {
        std::mem::take(&mut self.ended)
    }

    /// Completes when some subscription may have messages.
    pub async fn readable(&self) {
        loop {
            let notified = self.ready.notify.notified();
            if !self
                .ready
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
            {
                return;
            }
            notified.await;
        }
    }

    /// Every message available now, in publication order per publisher.
    pub fn batch(&mut self) -> Vec<(Subject, Message)> {
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            let next = self
                .ready
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            let Some(slot) = next else {
                break;
            };
            self.read(slot, &mut batch);
        }
        in_publication_order(&mut batch, |(_, message)| {
            order_of(message.headers.as_ref())
        });
        batch
    }

    /// Reads slot `slot` until it has nothing (registering its waker).
    fn read(&mut self, slot: usize, batch: &mut Vec<(Subject, Message)>) {
        let Some(Some(entry)) = self.slots.get_mut(slot) else {
            return;
        };
        entry.waker.queued.store(false, Ordering::Release);
        let waker = Waker::from(entry.waker.clone());
        let mut context = Context::from_waker(&waker);
        loop {
            match Pin::new(&mut entry.subscriber).poll_next(&mut context) {
                Poll::Ready(Some(message)) => batch.push((entry.subject.clone(), message)),
                Poll::Ready(None) => {
                    // The connection is closing: nothing more will come.
                    let subject = entry.subject.clone();
                    self.remove(&subject);
                    self.ended += 1;
                    return;
                }
                Poll::Pending => return,
            }
        }
    }
}

/// Sorts each publisher's items of `batch` by their counter, leaving them
/// in the positions that publisher's items held (other publishers' and
/// unnumbered items stay where they are).
pub fn in_publication_order<T>(batch: &mut Vec<T>, order: impl Fn(&T) -> Option<(u64, u64)>) {
    let mut positions: HashMap<u64, Vec<(usize, u64)>> = HashMap::new();
    for (position, item) in batch.iter().enumerate() {
        if let Some((publisher, counter)) = order(item) {
            positions
                .entry(publisher)
                .or_default()
                .push((position, counter));
        }
    }
    if positions
        .values()
        .all(|items| items.is_sorted_by_key(|(_, counter)| *counter))
    {
        return;
    }
    let mut items: Vec<Option<T>> = std::mem::take(batch).into_iter().map(Some).collect();
    for mut numbered in positions.into_values() {
        let places: Vec<usize> = numbered.iter().map(|(position, _)| *position).collect();
        numbered.sort_by_key(|(_, counter)| *counter);
        let sorted: Vec<Option<T>> = numbered
            .iter()
            .map(|(position, _)| items[*position].take())
            .collect();
        for (place, item) in places.into_iter().zip(sorted) {
            items[place] = item;
        }
    }
    *batch = items.into_iter().flatten().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(batch: &[(Option<(u64, u64)>, &'static str)]) -> Vec<&'static str> {
        let mut batch = batch.to_vec();
        in_publication_order(&mut batch, |(order, _)| *order);
        batch.into_iter().map(|(_, name)| name).collect()
    }

    #[test]
    fn each_publisher_s_items_follow_its_counter() {
        let batch = [
            (Some((1, 5)), "p1-5"),
            (Some((2, 9)), "p2-9"),
            (Some((1, 3)), "p1-3"),
            (None, "foreign"),
            (Some((2, 8)), "p2-8"),
            (Some((1, 4)), "p1-4"),
        ];
        assert_eq!(
            sorted(&batch),
            ["p1-3", "p2-8", "p1-4", "foreign", "p2-9", "p1-5"]
        );
    }

    #[test]
    fn an_ordered_batch_is_left_as_it_is() {
        let batch = [(Some((1, 1)), "a"), (None, "b"), (Some((1, 2)), "c")];
        assert_eq!(sorted(&batch), ["a", "b", "c"]);
    }

    #[test]
    fn the_order_header_round_trips() {
        let mut headers = HeaderMap::new();
        headers.insert(ORDER, order_header(u64::MAX, 42));
        assert_eq!(order_of(Some(&headers)), Some((u64::MAX, 42)));
        assert_eq!(order_of(None), None);
    }
}
