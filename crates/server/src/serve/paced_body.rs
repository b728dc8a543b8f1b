//! A request body that must keep up a minimum rate: after a grace period
//! each byte received buys `1 / rate` seconds more, so a client trickling
//! a body (slowloris) is cut off however long the body is, while a slow
//! but real upload of any size gets through. On expiry the body fails
//! (the handler answers its usual "the body failed" error) and the
//! connection is asked to close.

use super::limits::ConnectionTag;
use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The pace every body must keep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    pub(crate) grace: Duration,
    pub(crate) min_bytes_per_sec: u64,
}

impl Pace {
    /// When a body that started at `started` and has brought `received`
    /// bytes must have brought more.
    fn deadline(&self, started: Instant, received: u64) -> Instant {
        let earned = received as f64 / self.min_bytes_per_sec.max(1) as f64;
        started + self.grace + Duration::from_secs_f64(earned.min(1e9))
    }
}

/// The error a body too slow fails with.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {0} bytes per second")]
pub(crate) struct TooSlow(u64);

pub(crate) struct PacedBody {
    inner: Incoming,
    pace: Pace,
    started: Instant,
    received: u64,
    /// Armed the first time the body has to wait (never for bodies that
    /// arrive with their head, or empty ones).
    deadline: Option<Pin<Box<Sleep>>>,
    connection: ConnectionTag,
}

impl PacedBody {
    pub(crate) fn new(inner: Incoming, pace: Pace, connection: ConnectionTag) -> PacedBody {
        PacedBody {
            inner,
            pace,
            started: Instant::now(),
            received: 0,
            deadline: None,
            connection,
        }
    }
}

impl Body for PacedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    if let Some(deadline) = &mut this.deadline {
                        let next = this.pace.deadline(this.started, this.received);
                        deadline.as_mut().reset(next);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|result| result.map_err(Into::into))),
            Poll::Pending => {
                let (pace, started, received) = (this.pace, this.started, this.received);
                let deadline = this.deadline.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(pace.deadline(started, received)))
                });
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.connection.close_soon();
                        Poll::Ready(Some(Err(TooSlow(pace.min_bytes_per_sec).into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
