//! Latency histograms (HdrHistogram, microseconds) and their summaries.
//!
//! Workers record into one histogram per kind and ship it to the
//! coordinator as `(value, count)` pairs, which merge without loss of
//! precision (the pairs are the histogram's own buckets).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency recorded: one minute. Anything slower is clamped here
/// (and is a failed run anyway).
const MAX_US: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits.
#[derive(Clone, Debug)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, micros: u64) {
        self.0.saturating_record(micros.clamp(1, MAX_US));
    }

    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// The non-empty buckets as `(value, count)`, for shipping.
    pub fn to_pairs(&self) -> Vec<(u64, u64)> {
        self.0
            .iter_recorded()
            .map(|bucket| (bucket.value_iterated_to(), bucket.count_at_value()))
            .collect()
    }

    /// Adds buckets shipped by [`Latency::to_pairs`].
    pub fn add_pairs(&mut self, pairs: &[(u64, u64)]) {
        for &(value, count) in pairs {
            let _ = self.0.record_n(value.clamp(1, MAX_US), count);
        }
    }

    /// Clears the histogram for the next step.
    pub fn reset(&mut self) {
        self.0.reset();
    }

    pub fn summary(&self) -> Summary {
        if self.0.is_empty() {
            return Summary::default();
        }
        let at = |quantile: f64| self.0.value_at_quantile(quantile);
        Summary {
            count: self.0.len(),
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: self.0.max(),
            mean_us: self.0.mean(),
        }
    }
}

/// Percentiles of one latency distribution, in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

impl Summary {
    /// `p50/p90/p99/p999/max` in milliseconds, for the table; `-` when
    /// nothing was recorded.
    pub fn millis_row(&self) -> String {
        if self.count == 0 {
            return "-".to_owned();
        }
        [
            self.p50_us,
            self.p90_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
        ]
        .iter()
        .map(|&micros| format_ms(micros))
        .collect::<Vec<_>>()
        .join(" / ")
    }
}

/// Microseconds as milliseconds with a precision that suits the size.
pub fn format_ms(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The median of some figures (the mean of the middle two for an even
/// count); `None` for no figures.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut latency = Latency::default();
        for micros in 1..=10_000 {
            latency.record(micros);
        }
        let summary = latency.summary();
        assert_eq!(summary.count, 10_000);
        // 3 significant digits: within 0.1 % of the exact quantile.
        assert!((4_995..=5_005).contains(&summary.p50_us), "{summary:?}");
        assert!((9_890..=9_910).contains(&summary.p99_us), "{summary:?}");
        assert!((9_980..=10_010).contains(&summary.p999_us), "{summary:?}");
        assert!((9_995..=10_010).contains(&summary.max_us), "{summary:?}");
    }

    #[test]
    fn shipped_pairs_merge_into_the_same_distribution() {
        let (mut a, mut b, mut whole) =
            (Latency::default(), Latency::default(), Latency::default());
        for micros in [5, 50, 500, 5_000, 50_000] {
            a.record(micros);
            whole.record(micros);
        }
        for micros in [7, 70, 700_000] {
            b.record(micros);
            whole.record(micros);
        }
        let mut merged = Latency::default();
        merged.add_pairs(&a.to_pairs());
        merged.add_pairs(&b.to_pairs());
        assert_eq!(merged.summary(), whole.summary());
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut latency = Latency::default();
        latency.record(0);
        latency.record(u64::MAX);
        assert_eq!(latency.len(), 2);
        assert!(latency.summary().max_us >= MAX_US);
    }

    #[test]
    fn millis_rows_read_well() {
        assert_eq!(Summary::default().millis_row(), "-");
        let summary = Summary {
            count: 3,
            p50_us: 850,
            p90_us: 12_340,
            p99_us: 123_456,
            p999_us: 2_000_000,
            max_us: 2_500_000,
            mean_us: 0.0,
        };
        assert_eq!(summary.millis_row(), "0.85 / 12.3 / 123 / 2000 / 2500");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }
}
