//! A connection's bounded outbox: frames the router has routed to one
//! WebSocket and the connection task has not written yet.
//!
//! Why not an mpsc channel: an idle connection must cost a few KiB at
//! most, and tokio's bounded channel allocates a block of slots up front;
//! an empty `VecDeque` allocates nothing. Pushing never blocks the router:
//! when the queue is full the consumer is too slow, the outbox is marked
//! overflowed and the connection closes itself (the client will resume
//! from its `seq` cursors), so a stuck reader can never grow server memory.

use axum::extract::ws::Utf8Bytes;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// One connection's queue of encoded frames.
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    wake: Notify,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<Utf8Bytes>,
    overflowed: bool,
}

/// What the connection task finds when it wakes up.
pub enum Drained {
    /// Frames to write, oldest first (possibly none).
    Frames(VecDeque<Utf8Bytes>),
    /// The queue overflowed: close the connection.
    Overflowed,
}

impl Outbox {
    /// `capacity` frames may wait; one more overflows the outbox.
    pub fn new(capacity: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            capacity,
        }
    }

    /// Queues a frame; returns false if the outbox is (now) overflowed.
    pub fn push(&self, frame: Utf8Bytes) -> bool {
        let accepted = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if state.overflowed {
                return false;
            }
            if state.frames.len() >= self.capacity {
                state.overflowed = true;
                state.frames = VecDeque::new();
                false
            } else {
                state.frames.push_back(frame);
                true
            }
        };
        self.wake.notify_one();
        accepted
    }

    /// Waits until something was pushed (or overflowed) since the last
    /// drain. Cancel-safe: a wake-up that arrives meanwhile is kept.
    pub async fn ready(&self) {
        self.wake.notified().await;
    }

    /// Takes every waiting frame.
    pub fn drain(&self) -> Drained {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if state.overflowed {
            return Drained::Overflowed;
        }
        // Taking the queue (not draining it) leaves an idle connection with
        // no allocated capacity.
        Drained::Frames(std::mem::take(&mut state.frames))
    }

    /// True once the outbox overflowed.
    pub fn overflowed(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .overflowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_come_out_in_order_and_wake_the_reader() {
        let outbox = Outbox::new(4);
        assert!(outbox.push("a".into()));
        assert!(outbox.push("b".into()));
        outbox.ready().await;
        match outbox.drain() {
            Drained::Frames(frames) => assert_eq!(frames, vec!["a", "b"]),
            Drained::Overflowed => panic!("not full"),
        }
    }

    #[test]
    fn one_frame_beyond_capacity_overflows_and_drops_the_queue() {
        let outbox = Outbox::new(2);
        assert!(outbox.push("a".into()));
        assert!(outbox.push("b".into()));
        assert!(!outbox.push("c".into()));
        assert!(!outbox.push("d".into()));
        assert!(outbox.overflowed());
        assert!(matches!(outbox.drain(), Drained::Overflowed));
    }
}
