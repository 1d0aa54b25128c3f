//! A snapshot's plain data: every shard's counters and every actor's, as
//! `System::snapshot` reads them (the reading is `shard::ops::snapshot`).

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::types::schedule::Priority;
use crate::types::stats::{DeadLetterCause, Stats};

/// Every shard's counters, and the runtime's, read at one moment on each
/// shard ([`System::snapshot`](crate::System::snapshot)).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Totals over the shards: actors, dead letters by cause, restarts.
    pub runtime: Stats,
    /// The shards that answered, in order.
    pub shards: Vec<ShardStats>,
    /// Shards that did not answer: they had exited, or their injection
    /// queue was full.
    pub unanswered: Vec<usize>,
}

/// One shard's counters.
#[derive(Debug, Clone)]
pub struct ShardStats {
    /// Its index.
    pub shard: usize,
    /// Time since its dispatch loop started.
    pub uptime: Duration,
    /// Time it waited for work (spinning or parked); the rest of `uptime`
    /// it was busy ([`busy`](Self::busy)).
    pub idle: Duration,
    /// Times its dispatch loop went to sleep.
    pub parks: u64,
    /// Times it was woken from sleep.
    pub wakeups: u64,
    /// Entries (messages and commands) in its run queues, by class
    /// (`[High, Normal, Low]`).
    pub ready: [usize; 3],
    /// Traffic with each other shard.
    pub peers: Vec<PeerStats>,
    /// Its actors (live, restarting or stopping), by slot.
    pub actors: Vec<ActorStats>,
    /// Handling time of every timed turn on the shard (see
    /// `ShardConfig::handling_time_sample_every`).
    pub handling_time: HandlingTime,
    /// Dead letters it counted, by cause (indexed like
    /// [`DeadLetterCause::ALL`]).
    pub dead_letters: [u64; DeadLetterCause::ALL.len()],
    /// Restarts of its actors.
    pub restarts: u64,
    /// Slots in its slot table.
    pub slots: usize,
}

impl ActorStats {
    /// Which incarnation runs now, as [`Context::incarnation`] counts
    /// (0 for the first): its restarts.
    ///
    /// [`Context::incarnation`]: crate::Context::incarnation
    pub fn incarnation(&self) -> u32 {
        self.restarts
    }
}

impl ShardStats {
    /// Time it spent working: `uptime - idle`.
    pub fn busy(&self) -> Duration {
        self.uptime.saturating_sub(self.idle)
    }
}

/// What one shard exchanged with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStats {
    /// The other shard.
    pub peer: usize,
    /// Entries (messages and commands) written into the ring to it.
    pub sent: u64,
    /// Entries run from the ring from it.
    pub received: u64,
    /// Words waiting in the ring from it (8 bytes each; a message takes 2
    /// and its own size).
    pub inbound_words: usize,
    /// That ring's capacity in words.
    pub ring_words: usize,
    /// Times a publication into the ring to it woke it from sleep.
    pub wakes: u64,
}

/// Where an actor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorState {
    /// Handling messages.
    Running,
    /// Failed, and being built again (see `RestartPolicy`).
    Restarting,
    /// Stopping for good (its `stopped` runs).
    Stopping,
}

impl ActorState {
    /// A short name, as used in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Stopping => "stopping",
        }
    }
}

/// One actor's counters ([`ActorRef::stats`](crate::ActorRef::stats)).
///
/// `handled` and the mailbox's high-water mark are kept only with
/// `ShardConfig::metrics` (the `whirl` builder's `metrics`, on by default);
/// without, they read 0.
#[derive(Debug, Clone)]
pub struct ActorStats {
    /// Its shard.
    pub shard: usize,
    /// Its slot on that shard.
    pub slot: u32,
    /// The names it is registered under.
    pub names: Vec<String>,
    /// Its type (`std::any::type_name`).
    pub actor_type: &'static str,
    /// Where it is in its life.
    pub state: ActorState,
    /// Its class.
    pub priority: Priority,
    /// Messages handed to its handler, over all its incarnations (one whose
    /// handler failed included).
    pub handled: u64,
    /// Messages waiting for it in its shard's run queue (those still in a
    /// ring from another shard count in that ring's
    /// [`PeerStats::inbound_words`]).
    pub mailbox_depth: u32,
    /// The deepest its mailbox was, as seen when each message was handed to
    /// it and at each query.
    pub mailbox_high_water: u32,
    /// Times it was restarted.
    pub restarts: u32,
    /// Bytes its arena holds (its chunks; 0 if it never used it).
    pub arena_bytes: usize,
    /// Its arena's budget, if it has one.
    pub arena_budget: Option<usize>,
    /// Handling time per message of its timed turns; `None` before its
    /// first (or when its shard had [`MAX_TIMED_ACTORS`] timed actors).
    ///
    /// [`MAX_TIMED_ACTORS`]: crate::MAX_TIMED_ACTORS
    pub handling_time: Option<HandlingTime>,
}

/// A distribution of handling times (hdrhistogram, one significant figure:
/// values within 1/16 of each other may share a bucket).
#[derive(Debug, Clone)]
pub struct HandlingTime {
    histogram: Histogram<u32>,
    sum_ns: u64,
}

impl HandlingTime {
    pub(crate) fn new(histogram: Histogram<u32>, sum_ns: u64) -> Self {
        Self { histogram, sum_ns }
    }

    /// Messages recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// Exact sum of the recorded times.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_ns)
    }

    /// The time below which fraction `quantile` (0.0 to 1.0) of the
    /// messages were handled.
    pub fn quantile(&self, quantile: f64) -> Duration {
        Duration::from_nanos(self.histogram.value_at_quantile(quantile))
    }

    /// The longest recorded time.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.histogram.max())
    }

    /// Messages handled in at most `limit`.
    pub fn count_at_most(&self, limit: Duration) -> u64 {
        let limit = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        self.histogram.count_between(0, limit)
    }

    /// Adds `other`'s recorded times to these.
    pub fn add(&mut self, other: &HandlingTime) {
        // Same bounds and precision on both sides: adding cannot fail.
        let _ = self.histogram.add(&other.histogram);
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
    }

    /// The histogram itself, in nanoseconds.
    pub fn histogram(&self) -> &Histogram<u32> {
        &self.histogram
    }
}
