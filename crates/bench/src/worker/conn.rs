//! One benchmark connection: a task that owns its WebSocket, reads every
//! frame (recording latencies), and during a step sends messages on
//! schedule.
//!
//! Sending is open loop when a rate is given: message k of a step is due
//! at `start + phase + k / rate`, and its timestamp is that due time, not
//! the moment it was written. A server that falls behind therefore shows
//! up as latency (no coordinated omission), while `window` still bounds
//! how many sends one connection has unanswered.

use super::shared::{Shared, bump};
use crate::frames::{Incoming, classify, client_msg_id, content, content_from_node, sender_node};
use crate::protocol::StepPlan;
use futures_util::{SinkExt, StreamExt};
use natter_proto::events::ClientFrame;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub type Socket = WebSocketStream<TcpStream>;

/// What one connection is told at start.
pub struct ConnTask {
    pub index: usize,
    pub chats: Vec<(String, u32)>,
    /// The node this connection is on, when there are several: its
    /// messages name it, and its deliveries are split by it.
    pub node: Option<usize>,
    pub shared: Arc<Shared>,
    pub steps: watch::Receiver<Option<Arc<StepPlan>>>,
    pub stop: watch::Receiver<bool>,
}

/// The sending schedule of the current step.
struct Active {
    plan: Arc<StepPlan>,
    end_us: u64,
    /// Due time of the next send (unix µs); unused in closed loop.
    next_us: u64,
    period_us: Option<u64>,
    sent: u64,
}

enum Action {
    Stop,
    NewStep,
    Send,
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
}

/// A small xorshift generator: chat choice and phases need no quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl ConnTask {
    pub async fn run(mut self, mut socket: Socket) {
        let shared = self.shared.clone();
        let clock = shared.clock;
        let mut rng =
            Rng(0x9E37_79B9_7F4A_7C15 ^ ((self.index as u64 + 1) << 20) ^ shared.worker as u64);
        let total_weight: u64 = self
            .chats
            .iter()
            .map(|(_, weight)| u64::from(*weight))
            .sum();
        let mut active: Option<Active> = None;
        let mut last_plan: Option<Arc<StepPlan>> = None;
        let mut inflight: u32 = 0;
        let mut counter: u64 = 0;
        let mut received: u64 = 0;
        let stopped = loop {
            let due = active.as_ref().and_then(|step| {
                let can = total_weight > 0
                    && inflight < step.plan.window.max(1)
                    && (step.plan.max_per_sender == 0 || step.sent < step.plan.max_per_sender);
                can.then(|| match step.period_us {
                    Some(_) => Instant::from_std(clock.instant_at(step.next_us)),
                    None => Instant::now(),
                })
            });
            let action = tokio::select! {
                biased;
                _ = self.stop.changed() => Action::Stop,
                _ = self.steps.changed() => Action::NewStep,
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => Action::Send,
                frame = socket.next() => Action::Frame(frame),
            };
            match action {
                Action::Stop => break true,
                Action::NewStep => {
                    let plan = self.steps.borrow_and_update().clone();
                    active = plan.map(|plan| {
                        let period_us = (plan.rate_per_sender > 0.0)
                            .then(|| (1_000_000.0 / plan.rate_per_sender).max(1.0) as u64);
                        // Spread the connections over one period so their
                        // sends do not arrive in bursts.
                        let phase = period_us.map_or(0, |period| rng.next() % period);
                        last_plan = Some(plan.clone());
                        Active {
                            end_us: plan.start_at_us + plan.duration_ms * 1000,
                            next_us: plan.start_at_us + phase,
                            period_us,
                            sent: 0,
                            plan,
                        }
                    });
                    if let Some(step) = &active
                        && step.period_us.is_none()
                    {
                        // Closed loop: wait for the common start.
                        tokio::time::sleep_until(Instant::from_std(
                            clock.instant_at(step.plan.start_at_us),
                        ))
                        .await;
                    }
                }
                Action::Send => {
                    let Some(step) = active.as_mut() else {
                        continue;
                    };
                    let now_us = clock.now_us();
                    if now_us >= step.end_us {
                        active = None;
                        continue;
                    }
                    let stamp = match step.period_us {
                        Some(period) => {
                            let due = step.next_us;
                            step.next_us += period;
                            due
                        }
                        None => now_us,
                    };
                    let chat = pick(&self.chats, total_weight, &mut rng);
                    let plan = step.plan.clone();
                    step.sent += 1;
                    counter += 1;
                    inflight += 1;
                    if self
                        .send(&mut socket, &plan, chat, stamp, counter)
                        .await
                        .is_err()
                    {
                        break false;
                    }
                }
                Action::Frame(None) => break false,
                Action::Frame(Some(Err(error))) => {
                    shared.record_error(|| format!("socket: {error}"));
                    break false;
                }
                Action::Frame(Some(Ok(message))) => match message {
                    Message::Text(text) => {
                        let now_us = clock.now_us();
                        shared
                            .last_frame_us
                            .store(now_us, std::sync::atomic::Ordering::Relaxed);
                        let reply = self.on_text(
                            &text,
                            now_us,
                            &mut inflight,
                            &mut received,
                            last_plan.as_deref(),
                        );
                        if let Some(frames) = reply
                            && write_all(&mut socket, frames).await.is_err()
                        {
                            break false;
                        }
                    }
                    Message::Close(frame) => {
                        let code = frame.map_or(1005, |frame| u16::from(frame.code));
                        shared.record_close(code);
                        break false;
                    }
                    _ => {}
                },
            }
        };
        shared
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if stopped {
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
        }
    }

    /// Writes one `send` (and a `typing` before it when asked).
    async fn send(
        &self,
        socket: &mut Socket,
        plan: &StepPlan,
        chat_id: &str,
        stamp_us: u64,
        counter: u64,
    ) -> Result<(), ()> {
        let mut frames = Vec::with_capacity(2);
        if plan.typing_every > 0 && counter.is_multiple_of(u64::from(plan.typing_every)) {
            frames.push(ClientFrame::Typing {
                chat_id: chat_id.to_owned(),
                active: true,
            });
            bump(&self.shared.counters.control_sent);
        }
        frames.push(ClientFrame::Send {
            client_msg_id: client_msg_id(stamp_us, self.shared.worker, self.index, counter),
            chat_id: chat_id.to_owned(),
            content: match self.node {
                Some(node) => content_from_node(stamp_us, node, plan.content_bytes),
                None => content(stamp_us, plan.content_bytes),
            },
            message_type: None,
            file_id: None,
            metadata: None,
        });
        bump(&self.shared.counters.sent);
        write_all(socket, frames).await
    }

    /// Counts and times one incoming frame; returns the frames to answer
    /// with (acks, read markers), if any.
    fn on_text(
        &self,
        text: &str,
        now_us: u64,
        inflight: &mut u32,
        received: &mut u64,
        plan: Option<&StepPlan>,
    ) -> Option<Vec<ClientFrame>> {
        let shared = &self.shared;
        let counters = &shared.counters;
        match classify(text) {
            Incoming::MessageNew {
                chat_id,
                seq,
                sent_us,
            } => {
                bump(&counters.delivered);
                let in_window = shared.in_window(now_us);
                if in_window {
                    bump(&counters.delivered_in_window);
                }
                if let Some(sent_us) = sent_us {
                    shared.record_delivery(now_us.saturating_sub(sent_us));
                }
                if let Some(node) = self.node {
                    if in_window {
                        shared.count_delivery_on_node(node);
                    }
                    if let (Some(sent_us), Some(from)) = (sent_us, sender_node(text)) {
                        shared
                            .record_delivery_between(now_us.saturating_sub(sent_us), from == node);
                    }
                }
                *received += 1;
                let plan = plan?;
                let mut replies = Vec::new();
                if plan.ack {
                    replies.push(ClientFrame::Ack {
                        chat_id: chat_id.to_owned(),
                        seq,
                    });
                }
                if plan.read_every > 0 && received.is_multiple_of(u64::from(plan.read_every)) {
                    replies.push(ClientFrame::Read {
                        chat_id: chat_id.to_owned(),
                        seq,
                    });
                }
                for _ in &replies {
                    bump(&counters.control_sent);
                }
                (!replies.is_empty()).then_some(replies)
            }
            Incoming::SendOk { sent_us } => {
                *inflight = inflight.saturating_sub(1);
                bump(&counters.acked);
                if shared.in_window(now_us) {
                    bump(&counters.acked_in_window);
                }
                if let Some(sent_us) = sent_us {
                    shared.record_ack(now_us.saturating_sub(sent_us));
                }
                None
            }
            Incoming::Error { for_send } => {
                if for_send {
                    *inflight = inflight.saturating_sub(1);
                    bump(&counters.send_errors);
                }
                shared.record_error(|| format!("server error frame: {text}"));
                None
            }
            Incoming::Typing => {
                bump(&counters.typing_received);
                None
            }
            Incoming::Receipt => {
                bump(&counters.receipts_received);
                None
            }
            Incoming::Ready | Incoming::Other => {
                bump(&counters.other_received);
                None
            }
        }
    }
}

/// Picks a chat by weight.
fn pick<'a>(chats: &'a [(String, u32)], total_weight: u64, rng: &mut Rng) -> &'a str {
    let mut ticket = rng.next() % total_weight.max(1);
    for (chat, weight) in chats {
        let weight = u64::from(*weight);
        if ticket < weight {
            return chat;
        }
        ticket -= weight;
    }
    &chats[0].0
}

/// Writes frames with one flush.
async fn write_all(socket: &mut Socket, frames: Vec<ClientFrame>) -> Result<(), ()> {
    for frame in frames {
        let text = serde_json::to_string(&frame).map_err(|_| ())?;
        socket.feed(Message::text(text)).await.map_err(|_| ())?;
    }
    socket.flush().await.map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_picks_follow_the_weights() {
        let chats = vec![("small".to_owned(), 19), ("large".to_owned(), 1)];
        let mut rng = Rng(12345);
        let large = (0..20_000)
            .filter(|_| pick(&chats, 20, &mut rng) == "large")
            .count();
        assert!((700..1300).contains(&large), "{large}");
    }
}
