//! What a shard has reported of its dead letters so far (the behaviour is
//! `shard::ops::report`).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::base::tunables::WARN_EVERY;
use crate::types::stats::DeadLetterCause;

/// Dead letters counted per cause, as of the last report.
type Counts = [u64; DeadLetterCause::ALL.len()];

/// What a shard has reported so far.
#[derive(Debug)]
pub(crate) struct Reported {
    counts: Cell<Counts>,
    /// Counted but not yet warned about (no hook), and when we last warned.
    unwarned: Cell<u64>,
    warned_at: Cell<Option<Instant>>,
}

impl Reported {
    pub(crate) fn new() -> Self {
        Self {
            counts: Cell::new([0; DeadLetterCause::ALL.len()]),
            unwarned: Cell::new(0),
            warned_at: Cell::new(None),
        }
    }

    /// What `counters` gained per cause since the last call, if anything.
    pub(crate) fn take_new(
        &self,
        counters: &[AtomicU64; DeadLetterCause::ALL.len()],
    ) -> Option<Counts> {
        let mut counts = self.counts.get();
        let mut new = [0u64; DeadLetterCause::ALL.len()];
        let mut any = false;
        for (i, counter) in counters.iter().enumerate() {
            // Relaxed: a count, read for reporting only.
            let now = counter.load(Ordering::Relaxed);
            new[i] = now - counts[i];
            any |= new[i] > 0;
            counts[i] = now;
        }
        if !any {
            return None;
        }
        self.counts.set(counts);
        Some(new)
    }

    /// Adds `count` unreported dead letters; returns how many to warn about
    /// if a warning is due at `now` (at most one per `WARN_EVERY`).
    pub(crate) fn warn_now(&self, count: u64, now: Instant) -> Option<u64> {
        let unwarned = self.unwarned.get() + count;
        if self.warned_at.get().is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
            self.unwarned.set(unwarned);
            return None;
        }
        self.unwarned.set(0);
        self.warned_at.set(Some(now));
        Some(unwarned)
    }
}
