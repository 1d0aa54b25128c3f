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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use crate::base::drop_caught;
use crate::shard::Shard;
use crate::types::stats::{DeadLetterCause, DeadLetters};

impl Shard {
    pub(crate) fn count_dead_letters(&self, cause: DeadLetterCause, n: usize) {
        self.shared().count_dead_letters(cause, n);
    }

    /// Drops a message nobody will handle: counted, and a panic in its
    /// `Drop` caught. Call with no borrow held.
    pub(crate) fn dead_letter<T>(&self, cause: DeadLetterCause, value: T) {
        self.count_dead_letters(cause, 1);
        drop_caught(value);
    }

    /// Reports the dead letters counted since the last report: to the hook,
    /// or as a rate-limited warning. Call with nothing borrowed.
    pub(crate) fn report_dead_letters(&self) {
        let Some(new) = self.reported.take_new(&self.shared().dead_letters) else { return };
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
        let Some(unwarned) = self.reported.warn_now(count, Instant::now()) else { return };
        tracing::warn!(
            shard = self.id,
            dead_letters = unwarned,
            "messages not handled (see Stats::dead_letter_causes; install a hook with on_dead_letters)"
        );
    }
}
