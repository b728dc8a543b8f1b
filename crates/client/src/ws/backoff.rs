//! Reconnection delays: exponential growth with "equal jitter" (each
//! delay is drawn from the upper half of its exponential step), so that
//! thousands of clients cut off at once by a server restart do not all
//! come back in the same millisecond, while no client retries sooner than
//! half its step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A backoff schedule and how far along it a client is.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    /// 250 ms doubling up to 30 s.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(250), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Steps of `initial`, `2 * initial`, `4 * initial`, ... capped at
    /// `max` (which is raised to `initial` if smaller).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The exponential step of the `attempt`-th retry (0-based), before jitter.
    pub fn step(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay of the `attempt`-th retry for a given random value:
    /// uniformly in `[step / 2, step]`. Pure, for tests.
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let step = self.step(attempt);
        let half = step / 2;
        let spread = (step - half).as_nanos() as u64;
        let extra = if spread == 0 {
            0
        } else {
            random % (spread + 1)
        };
        half + Duration::from_nanos(extra)
    }

    /// The delay before the next retry; advances the schedule.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.delay(self.attempt, random_u64());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Retries made since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Back to the first step, after a connection that worked.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A fresh random-looking value without a random number crate: std seeds
/// every `RandomState` from the OS once per thread and then changes its
/// keys per instance, so hashing nothing gives a new value each call.
/// Plenty for jitter; not for anything secret.
fn random_u64() -> u64 {
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn steps_double_from_the_initial_delay_up_to_the_cap() {
        let backoff = Backoff::new(ms(100), ms(1_000));
        let steps: Vec<Duration> = (0..6).map(|attempt| backoff.step(attempt)).collect();
        assert_eq!(
            steps,
            [ms(100), ms(200), ms(400), ms(800), ms(1_000), ms(1_000)]
        );
        assert_eq!(
            backoff.step(u32::MAX),
            ms(1_000),
            "no overflow on huge attempts"
        );
    }

    #[test]
    fn every_delay_lies_in_the_upper_half_of_its_step() {
        let backoff = Backoff::new(ms(100), ms(30_000));
        for attempt in 0..40 {
            let step = backoff.step(attempt);
            for random in [0, 1, 12_345, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
                let delay = backoff.delay(attempt, random);
                assert!(
                    delay >= step / 2 && delay <= step,
                    "attempt {attempt}: {delay:?} outside [{:?}, {step:?}]",
                    step / 2
                );
            }
        }
    }

    #[test]
    fn the_extremes_of_the_random_value_reach_both_ends_of_the_range() {
        let backoff = Backoff::new(ms(100), ms(100));
        let spread = (ms(50).as_nanos()) as u64;
        assert_eq!(backoff.delay(0, 0), ms(50));
        assert_eq!(backoff.delay(0, spread), ms(100));
    }

    #[test]
    fn next_delay_advances_and_reset_starts_over() {
        let mut backoff = Backoff::new(ms(10), ms(10_000));
        let delays: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
        assert_eq!(backoff.attempt(), 5);
        for (attempt, delay) in delays.iter().enumerate() {
            let step = backoff.step(attempt as u32);
            assert!(
                *delay >= step / 2 && *delay <= step,
                "{delay:?} vs {step:?}"
            );
        }
        backoff.reset();
        assert_eq!(backoff.attempt(), 0);
        assert!(backoff.next_delay() <= ms(10));
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let backoff = Backoff::new(ms(1_000), ms(1_000));
        let delays: std::collections::HashSet<Duration> =
            (0..20).map(|_| backoff.delay(0, random_u64())).collect();
        assert!(
            delays.len() > 10,
            "20 draws gave only {} distinct delays",
            delays.len()
        );
    }

    #[test]
    fn a_zero_initial_delay_never_panics() {
        let mut backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(backoff.next_delay(), Duration::ZERO);
    }
}
