//! What a shard counts about itself and its actors: on its own thread, with
//! no atomic and no allocation on the paths that messages take. A snapshot
//! (see `snapshot`) reads it on that thread when asked.
//!
//! * Per actor, by slot, beside the slot table (the slot stays 32 bytes):
//!   messages handed to it and its mailbox's high-water mark, updated by
//!   [`Slots::admit`](crate::shard::parts::slots::Slots::admit) for every message it
//!   admits (one add and one max, only with `ShardConfig::metrics`).
//! * Handling times, sampled: a turn is timed (two clock reads) when its
//!   first message brings its actor's `handled` to `next_timed`, which then
//!   moves `handling_time_sample_every` on (batches included), so about one
//!   message in that many of each actor starts a timed turn (its first
//!   message always does); the time
//!   is recorded per message of the turn in the shard's histogram and in
//!   the actor's, which is made at the actor's first timed
//!   turn (about 2 KiB) for at most [`MAX_TIMED_ACTORS`] actors of a shard
//!   at a time; the shard's histogram has every timed turn.
//! * Per shard: time spent waiting for work (`idle_wait`, spinning
//!   included), parks and wake-ups, and entries run from each peer's ring
//!   (counted once per ring per pass).

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::base::by_slot::BySlot;
use crate::base::tunables::MAX_TIMED_ACTORS;

/// Counters of the actor at one slot, reset when the slot is freed (kept
/// across restarts: the actor's refs stay valid).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ActorCounters {
    /// Messages handed to its handler (one whose handler failed included).
    pub(crate) handled: u64,
    /// The most messages seen waiting in its mailbox, as of the start of
    /// each message's handling (and of each snapshot).
    pub(crate) high_water: u32,
    /// The `handled` count at which the next turn is timed.
    pub(crate) next_timed: u64,
}

/// Handling times of one actor's timed turns, per message, in
/// nanoseconds.
#[derive(Debug, Clone)]
pub(crate) struct Timings {
    pub(crate) histogram: Histogram<u32>,
    /// Exact sum of the recorded times (the histogram rounds).
    pub(crate) sum_ns: u64,
}

/// Largest handling time a histogram tells apart (longer ones are recorded
/// as this): one minute.
const MAX_TRACKED_NS: u64 = 60_000_000_000;

impl Timings {
    fn new() -> Self {
        // One significant figure (values within 1/16 of each other may
        // share a bucket): 1 ns to a minute in about 2 KiB of counts, so
        // many actors can have one.
        let histogram =
            Histogram::new_with_bounds(1, MAX_TRACKED_NS, 1).expect("valid histogram bounds");
        Self { histogram, sum_ns: 0 }
    }

    fn record(&mut self, per_message_ns: u64, messages: u64) {
        let value = per_message_ns.clamp(1, MAX_TRACKED_NS);
        // Saturates instead of failing: a count past u32::MAX stays there.
        let _ = self.histogram.record_n(value, u32::try_from(messages).unwrap_or(u32::MAX));
        self.sum_ns = self.sum_ns.saturating_add(per_message_ns.saturating_mul(messages));
    }
}

/// `Slots::timed_every` for timing one message in `sample_every` of each
/// actor (0: none).
pub(crate) fn timed_every(sample_every: u32) -> u64 {
    match sample_every {
        0 => u64::MAX,
        n => u64::from(n),
    }
}

/// A shard's own counters.
#[derive(Debug)]
pub(crate) struct ShardMetrics {
    started: Instant,
    /// Time spent waiting for work, spinning or parked.
    idle: Cell<Duration>,
    /// Times the dispatch loop went to sleep.
    parks: Cell<u64>,
    /// Times it was woken from sleep.
    wakeups: Cell<u64>,
    /// `received[i]`: entries run from the ring from shard `i`.
    received: Box<[Cell<u64>]>,
    /// Handling times by slot, for actors that had a timed turn.
    timings: RefCell<BySlot<Box<Timings>>>,
    /// Handling times of every timed turn on the shard.
    shard_timings: RefCell<Timings>,
    /// When the timed turn that runs now started.
    turn_started: Cell<Option<Instant>>,
}

impl ShardMetrics {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            started: Instant::now(),
            idle: Cell::new(Duration::ZERO),
            parks: Cell::new(0),
            wakeups: Cell::new(0),
            received: (0..shards).map(|_| Cell::new(0)).collect(),
            timings: RefCell::new(BySlot::default()),
            shard_timings: RefCell::new(Timings::new()),
            turn_started: Cell::new(None),
        }
    }

    /// Time since the shard started.
    pub(crate) fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Time spent waiting for work so far.
    pub(crate) fn idle(&self) -> Duration {
        self.idle.get()
    }

    /// Times the loop went to sleep so far.
    pub(crate) fn parks(&self) -> u64 {
        self.parks.get()
    }

    /// Times the loop was woken from sleep so far.
    pub(crate) fn wakeups(&self) -> u64 {
        self.wakeups.get()
    }

    /// The loop goes to sleep.
    pub(crate) fn count_park(&self) {
        self.parks.set(self.parks.get() + 1);
    }

    /// The loop was woken from sleep.
    pub(crate) fn count_wakeup(&self) {
        self.wakeups.set(self.wakeups.get() + 1);
    }

    /// Entries run so far from the ring from shard `peer`.
    pub(crate) fn received(&self, peer: usize) -> u64 {
        self.received[peer].get()
    }

    /// A timed turn starts now (kept here, so the message path carries one
    /// flag across the handler instead of a time).
    #[cold]
    #[inline(never)]
    pub(crate) fn start_turn(&self) {
        self.turn_started.set(Some(Instant::now()));
    }

    /// Records the timed turn of the actor at `slot` that started last
    /// ([`start_turn`](Self::start_turn)) and handled `messages` messages.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_turn(&self, slot: u32, messages: usize) {
        // Set by `start_turn` just before this turn's handler ran; turns do
        // not nest, so it is there.
        let Some(start) = self.turn_started.take() else { return };
        let elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let messages = messages.max(1) as u64;
        let per_message = elapsed / messages;
        self.shard_timings.borrow_mut().record(per_message, messages);
        let mut timings = self.timings.borrow_mut();
        let room = timings.len() < MAX_TIMED_ACTORS;
        match timings.get_mut(&slot) {
            Some(actor) => actor.record(per_message, messages),
            None if room => {
                let mut actor = Box::new(Timings::new());
                actor.record(per_message, messages);
                timings.insert(slot, actor);
            }
            None => {}
        }
    }

    /// The handling times of every timed turn on the shard.
    pub(crate) fn shard_timings(&self) -> Timings {
        self.shard_timings.borrow().clone()
    }

    /// The handling times of the actor at `slot`, if it had a timed turn.
    pub(crate) fn timings_of(&self, slot: u32) -> Option<Timings> {
        self.timings.borrow().get(&slot).map(|t| Timings::clone(t))
    }

    /// The actor at `slot` is gone: its times go with it.
    pub(crate) fn forget(&self, slot: u32) {
        self.timings.borrow_mut().remove(&slot);
    }

    /// Counts entries run from the ring from shard `from`.
    #[inline(always)]
    pub(crate) fn received_from(&self, from: usize, entries: usize) {
        if let Some(count) = self.received.get(from) {
            count.set(count.get() + entries as u64);
        }
    }

    /// Adds a wait for work that began at `since`.
    pub(crate) fn waited(&self, since: Instant) {
        self.add_idle(since.elapsed());
    }

    /// Adds a wait for work that lasted `waited`.
    pub(crate) fn add_idle(&self, waited: Duration) {
        self.idle.set(self.idle.get() + waited);
    }
}
