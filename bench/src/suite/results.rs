//! Running scenarios, peers interleaved run after run, and summarising
//! their samples.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::scenario::{Body, Entry, Measure, Sample, Scenario};
use crate::report::histogram;

/// One peer's result in one scenario.
#[derive(Debug, Serialize)]
pub struct EntryResult {
    /// The peer.
    pub peer: String,
    /// Why it did not run, if it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
    /// Measured runs (the warm-up run excluded).
    pub runs: usize,
    /// Throughput: median, min and max over the runs, operations per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Spread>,
    /// Latency: percentiles over every sample of every run, nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Percentiles>,
    /// Size: median, min and max over the runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Spread>,
    /// Every latency sample, for the plots and `.hgrm` files.
    #[serde(skip)]
    pub histogram: Option<Histogram<u64>>,
}

/// Median, min and max of per-run values.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    /// The median run.
    pub median: f64,
    /// The lowest run.
    pub min: f64,
    /// The highest run.
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median =
            if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Self { median, min: values[0], max: values[n - 1] })
    }
}

/// Latency percentiles, nanoseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub samples: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Self {
        Self {
            samples: h.len(),
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// One scenario's results.
#[derive(Debug, Serialize)]
pub struct ScenarioResult {
    /// Its identifier.
    pub id: String,
    /// What it does.
    pub title: String,
    /// `throughput`, `latency` or `size`.
    pub measure: &'static str,
    /// The unit of its figure.
    pub unit: String,
    /// Each peer's result.
    pub entries: Vec<EntryResult>,
    /// whirl's best entry against the best other peer (above 1: whirl
    /// ahead), when both ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versus: Option<Versus>,
    /// How entries compare.
    #[serde(skip)]
    compared_by: Measure,
}

/// whirl against the best peer of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Versus {
    /// whirl's best entry.
    pub whirl: String,
    /// The best other peer.
    pub best_peer: String,
    /// How many times better whirl is (throughput ratio, or the inverse
    /// ratio of p50 latencies or sizes); below 1, the peer is ahead.
    pub ratio: f64,
}

impl ScenarioResult {
    /// The figure compared across peers: higher is better.
    fn score(&self, entry: &EntryResult) -> Option<f64> {
        match self.compared_by {
            Measure::Throughput { .. } => entry.rate.map(|r| r.median),
            Measure::Latency => entry.latency.map(|l| 1.0 / l.p50.max(1) as f64),
            Measure::Size { .. } => entry.size.map(|s| 1.0 / s.median.max(1e-9)),
        }
    }

    /// The best of whirl's entries (`whirl`) or of the other peers' (floors
    /// are neither), with its score.
    fn best_scored(&self, whirl: bool) -> Option<(f64, &EntryResult)> {
        self.entries
            .iter()
            .filter(|e| Entry::is_whirl(&e.peer) == whirl && !Entry::is_floor(&e.peer))
            .filter_map(|e| Some((self.score(e)?, e)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The best of whirl's entries (`whirl`) or of the other peers'.
    pub fn best(&self, whirl: bool) -> Option<&EntryResult> {
        self.best_scored(whirl).map(|(_, e)| e)
    }

    fn versus(&self) -> Option<Versus> {
        let (whirl_score, whirl) = self.best_scored(true)?;
        let (peer_score, peer) = self.best_scored(false)?;
        Some(Versus {
            whirl: whirl.peer.clone(),
            best_peer: peer.peer.clone(),
            ratio: whirl_score / peer_score,
        })
    }
}

/// Runs `scenario`: a warm-up round, then `runs` rounds, each running
/// every peer once in turn, so slow spells of the machine hit them alike.
/// `tick` is called after each run with the peer's name.
pub fn run(mut scenario: Scenario, runs: usize, tick: &mut dyn FnMut(&str)) -> ScenarioResult {
    let mut samples: Vec<Vec<Sample>> = scenario.entries.iter().map(|_| Vec::new()).collect();
    for round in 0..=runs {
        for (entry, kept) in scenario.entries.iter_mut().zip(&mut samples) {
            if let Body::Run(run) = &mut entry.body {
                let sample = run();
                tick(&entry.peer);
                if round > 0 {
                    kept.push(sample);
                }
            }
        }
    }
    let entries: Vec<EntryResult> =
        scenario.entries.into_iter().zip(samples).map(|(e, s)| summarise(e, s)).collect();
    let (measure, unit) = match scenario.measure {
        Measure::Throughput { unit } => ("throughput", format!("{unit}/s")),
        Measure::Latency => ("latency", "ns".to_string()),
        Measure::Size { unit } => ("size", unit.to_string()),
    };
    let mut result = ScenarioResult {
        versus: None,
        compared_by: scenario.measure,
        id: scenario.id,
        title: scenario.title,
        measure,
        unit,
        entries,
    };
    result.versus = result.versus();
    result
}

/// How many runs `scenario` makes with `runs` measured rounds (warm-up
/// included), for the progress bar.
pub fn runs_of(scenario: &Scenario, runs: usize) -> u64 {
    let running = scenario.entries.iter().filter(|e| matches!(e.body, Body::Run(_))).count();
    (running * (runs + 1)) as u64
}

fn summarise(entry: Entry, samples: Vec<Sample>) -> EntryResult {
    let absent = match entry.body {
        Body::Absent(why) => Some(why),
        Body::Run(_) => None,
    };
    let runs = samples.len();
    let mut rates = Vec::new();
    let mut sizes = Vec::new();
    let mut merged: Option<Histogram<u64>> = None;
    for sample in samples {
        match sample {
            Sample::Rate(r) => rates.push(r),
            Sample::Value(v) => sizes.push(v),
            Sample::Latencies(h) => merged
                .get_or_insert_with(|| histogram(3_600_000_000_000))
                .add(&h)
                .expect("within bounds"),
        }
    }
    EntryResult {
        peer: entry.peer,
        absent,
        runs,
        rate: Spread::of(rates),
        latency: merged.as_ref().map(Percentiles::of),
        size: Spread::of(sizes),
        histogram: merged,
    }
}
