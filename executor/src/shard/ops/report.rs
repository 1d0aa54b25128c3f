//! Telling the program about dead letters: a hook it installs, or a
//! rate-limited warning.
//!
//! Dead letters are counted where they happen (an atomic add per cause, on
//! any thread). The hook is not called there, where the shard may be in the
//! middle of its own bookkeeping: each shard's dispatch loop reports what
//! its counters gained since it last looked, after each pass and when it
//! exits, with nothing borrowed. So the hook may do anything, sends
//! included, and sees every dead letter exactly once, shortly after it
//! happened, unless it was counted for a shard that had already exited
//! (envelopes dropped by other threads, cause `ShardExited`): those show in
//! `Stats` only.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::shard::Shard;
use crate::types::stats::{DeadLetterCause, DeadLetters};

/// Without a hook: at most one warning per shard per this long.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// What a shard has reported so far.
#[derive(Debug)]
pub(crate) struct Reported {
    counts: Cell<[u64; DeadLetterCause::ALL.len()]>,
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
}

impl Shard {
    /// Reports the dead letters counted since the last report: to the hook,
    /// or as a rate-limited warning. Call with nothing borrowed.
    pub(crate) fn report_dead_letters(&self) {
        let counters = &self.shared().dead_letters;
        let mut counts = self.reported.counts.get();
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
            return;
        }
        self.reported.counts.set(counts);
        match &self.mesh.config.dead_letter_hook {
            Some(hook) => {
                for (cause, count) in DeadLetterCause::ALL.into_iter().zip(new) {
                    if count == 0 {
                        continue;
                    }
                    let report = DeadLetters { shard: self.id as usize, cause, count };
                    // A panicking hook must not take the shard down with it.
                    if catch_unwind(AssertUnwindSafe(|| (hook.0)(report))).is_err() {
                        tracing::error!(shard = self.id, "the dead-letter hook panicked");
                    }
                }
            }
            None => self.warn_dead_letters(new.iter().sum()),
        }
    }

    fn warn_dead_letters(&self, count: u64) {
        let reported = &self.reported;
        let unwarned = reported.unwarned.get() + count;
        let now = Instant::now();
        if reported.warned_at.get().is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
            reported.unwarned.set(unwarned);
            return;
        }
        reported.unwarned.set(0);
        reported.warned_at.set(Some(now));
        tracing::warn!(
            shard = self.id,
            dead_letters = unwarned,
            "messages not handled (see Stats::dead_letter_causes; install a hook with on_dead_letters)"
        );
    }
}
