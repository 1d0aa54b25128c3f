//! What the suite measures: scenarios, each with one entry per peer, each
//! entry a function that does one run and returns its sample.

use hdrhistogram::Histogram;

/// What a scenario's figure is, and which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Operations per second over a run; higher is better.
    Throughput {
        /// What an operation is ("messages", "hops", "actors").
        unit: &'static str,
    },
    /// Nanoseconds per sample; lower is better (compared at p50).
    Latency,
    /// A size per item; lower is better.
    Size {
        /// Its unit ("bytes per actor").
        unit: &'static str,
    },
}

/// One run's result.
#[derive(Debug)]
pub enum Sample {
    /// Operations per second.
    Rate(f64),
    /// Every latency sample of the run, in nanoseconds.
    Latencies(Histogram<u64>),
    /// A size.
    Value(f64),
}

impl From<crate::savina::Run> for Sample {
    /// The run's operations per second.
    fn from(run: crate::savina::Run) -> Self {
        Sample::Rate(run.ops as f64 / run.elapsed.as_secs_f64())
    }
}

/// How a peer takes part in a scenario.
pub enum Body {
    /// Does one run.
    Run(Box<dyn FnMut() -> Sample>),
    /// Cannot, or does not yet, and why.
    Absent(String),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Run(_) => f.write_str("Run"),
            Body::Absent(why) => write!(f, "Absent({why})"),
        }
    }
}

/// One peer in one scenario.
#[derive(Debug)]
pub struct Entry {
    /// The peer, as the tables name it; whirl's entries start with "whirl".
    pub peer: String,
    /// Its run, or why it has none.
    pub body: Body,
}

impl Entry {
    /// A peer that runs the scenario with `run`.
    pub fn run(peer: impl Into<String>, run: impl FnMut() -> Sample + 'static) -> Self {
        Self { peer: peer.into(), body: Body::Run(Box::new(run)) }
    }

    /// A peer that does not take part, and why.
    pub fn absent(peer: impl Into<String>, why: impl Into<String>) -> Self {
        Self { peer: peer.into(), body: Body::Absent(why.into()) }
    }

    /// Whether this is one of whirl's entries.
    pub fn is_whirl(peer: &str) -> bool {
        peer.starts_with("whirl")
    }

    /// Whether this is a floor (hardware or kernel, no runtime): shown
    /// beside the peers, never compared as one.
    pub fn is_floor(peer: &str) -> bool {
        peer.starts_with("floor")
    }
}

/// A scenario and its peers.
#[derive(Debug)]
pub struct Scenario {
    /// Stable identifier, `group/name[/variant]`; `--filter` matches it.
    pub id: String,
    /// What it does, with its size.
    pub title: String,
    /// Its figure.
    pub measure: Measure,
    /// Its peers, whirl first.
    pub entries: Vec<Entry>,
}

impl Scenario {
    /// A scenario with no entries yet.
    pub fn new(id: impl Into<String>, title: impl Into<String>, measure: Measure) -> Self {
        Self { id: id.into(), title: title.into(), measure, entries: Vec::new() }
    }

    /// Adds an entry.
    pub fn with(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// The group: the id up to its first `/`.
    pub fn group(&self) -> &str {
        self.id.split('/').next().unwrap_or(&self.id)
    }
}
