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
    /// The session was ended (logged out, revoked): the connection must
    /// close instead of writing anything more.
    ended: bool,
}

/// What [`Outbox::drain_into`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drained {
    /// The waiting frames (maybe none) are in the caller's buffer.
    Frames,
    /// The consumer was too slow: frames were dropped.
    Overflowed,
    /// The session is over.
    SessionEnded,
}

/// Capacity a connection's frame buffers keep between bursts; a buffer
/// grown beyond it by a burst is shrunk back after the burst is written.
pub const KEPT_CAPACITY: usize = 16;

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
            if state.overflowed || state.ended {
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

    /// Marks the session over and wakes the connection, which closes.
    pub fn end_session(&self) {
        {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            state.ended = true;
            state.frames = VecDeque::new();
        }
        self.wake.notify_one();
    }

    /// Waits until something was pushed (or overflowed) since the last
    /// drain. Cancel-safe: a wake-up that arrives meanwhile is kept.
    pub async fn ready(&self) {
        self.wake.notified().await;
    }

    /// Moves every waiting frame into `frames` (which must be empty) by
    /// swapping buffers: the caller's empty buffer becomes the queue, so
    /// under steady traffic the two buffers go back and forth and no frame
    /// costs an allocation (a connection that never receives anything
    /// never allocates either).
    pub fn drain_into(&self, frames: &mut VecDeque<Utf8Bytes>) -> Drained {
        debug_assert!(frames.is_empty());
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if state.ended {
            return Drained::SessionEnded;
        }
        if state.overflowed {
            return Drained::Overflowed;
        }
        std::mem::swap(&mut state.frames, frames);
        Drained::Frames
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
        let mut frames = VecDeque::new();
        assert_eq!(outbox.drain_into(&mut frames), Drained::Frames, "not full");
        assert_eq!(frames, vec!["a", "b"]);
        frames.clear();
        assert!(outbox.push("c".into()));
        assert_eq!(outbox.drain_into(&mut frames), Drained::Frames);
        assert_eq!(frames, vec!["c"], "only what came after the first drain");
    }

    #[test]
    fn one_frame_beyond_capacity_overflows_and_drops_the_queue() {
        let outbox = Outbox::new(2);
        assert!(outbox.push("a".into()));
        assert!(outbox.push("b".into()));
        assert!(!outbox.push("c".into()));
        assert!(!outbox.push("d".into()));
        assert!(outbox.overflowed());
        assert_eq!(outbox.drain_into(&mut VecDeque::new()), Drained::Overflowed);
    }

    #[tokio::test]
    async fn an_ended_session_drops_its_frames_and_says_so() {
        let outbox = Outbox::new(4);
        assert!(outbox.push("a".into()));
        outbox.end_session();
        outbox.ready().await;
        assert!(!outbox.push("b".into()));
        let mut frames = VecDeque::new();
        assert_eq!(outbox.drain_into(&mut frames), Drained::SessionEnded);
        assert!(frames.is_empty());
    }
}
