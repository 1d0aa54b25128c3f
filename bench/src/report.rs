//! Printing results: percentiles from histograms, ratios against a baseline.

use hdrhistogram::Histogram;

/// A new histogram for values from 1 to `max`, with three significant
/// digits.
pub fn histogram(max: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, max, 3).expect("valid histogram bounds")
}

/// A latency scenario's rounds: a tenth as many to warm up, then the
/// samples, each recorded in nanoseconds.
#[derive(Debug)]
pub struct Samples {
    warm_up: u64,
    rounds_left: u64,
    taken: Histogram<u64>,
}

impl Samples {
    /// `samples` recorded after `samples / 10` rounds of warm-up.
    pub fn after_warm_up(samples: u64) -> Self {
        Self {
            warm_up: samples / 10,
            rounds_left: samples + samples / 10,
            taken: histogram(60_000_000_000),
        }
    }

    /// Whether another round is due.
    pub fn wanted(&self) -> bool {
        self.rounds_left > 0
    }

    /// Ends a round that took `ns` nanoseconds: recorded unless it warmed up.
    pub fn record(&mut self, ns: u64) {
        self.rounds_left -= 1;
        if self.warm_up > 0 {
            self.warm_up -= 1;
        } else {
            self.taken.record(ns.max(1)).expect("in range");
        }
    }

    /// What the recorded rounds took.
    pub fn into_histogram(self) -> Histogram<u64> {
        self.taken
    }
}

/// The percentiles every latency row reports.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Median, in nanoseconds.
    pub p50: u64,
    /// 99th percentile, in nanoseconds.
    pub p99: u64,
    /// 99.9th percentile, in nanoseconds.
    pub p999: u64,
    /// Largest sample, in nanoseconds.
    pub max: u64,
    /// Number of samples.
    pub samples: u64,
}

impl Latency {
    /// Summarises a histogram of nanosecond samples.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        Self {
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            samples: h.len(),
        }
    }
}

/// Throughput over repeated runs, in messages per second.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Median run.
    pub p50: u64,
    /// Slowest run.
    pub min: u64,
    /// Fastest run.
    pub max: u64,
    /// Number of runs.
    pub runs: u64,
}

impl Throughput {
    /// Summarises a histogram of per-run messages-per-second values.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        Self { p50: h.value_at_quantile(0.5), min: h.min(), max: h.max(), runs: h.len() }
    }
}

/// Formats nanoseconds compactly (`850 ns`, `12.3 µs`, `4.1 ms`).
pub fn nanos(ns: u64) -> String {
    match ns {
        0..=9_999 => format!("{ns} ns"),
        10_000..=9_999_999 => format!("{:.1} µs", ns as f64 / 1e3),
        _ => format!("{:.1} ms", ns as f64 / 1e6),
    }
}

/// Formats messages per second as millions per second.
pub fn mps(per_second: u64) -> String {
    format!("{:.1} M/s", per_second as f64 / 1e6)
}

/// `value / baseline` as `1.23×`.
pub fn ratio(value: u64, baseline: u64) -> String {
    if baseline == 0 {
        return "-".into();
    }
    format!("{:.2}×", value as f64 / baseline as f64)
}
