//! Time for tasks on a shard (piped jobs, programs run by `block_on`):
//! sleeps, one-shot timers and intervals, so a program needs no glommio
//! dependency of its own, in step with whirl's. Actors time their own
//! messages with [`Context::send_after`](crate::Context::send_after) and
//! [`Context::send_interval`](crate::Context::send_interval).
//!
//! These run on a shard's executor (they use glommio's timers): awaiting
//! them on a thread outside the runtime panics.

use std::time::{Duration, Instant};

pub use glommio::timer::{sleep, Timer};

/// Ticks every `period`, the first tick one period from now. A tick that
/// comes late does not make the next ones come early: missed ticks are
/// skipped, and the schedule restarts from the late one.
///
/// ```no_run
/// # async fn example() {
/// let mut every = whirl_executor::time::interval(std::time::Duration::from_millis(100));
/// for _ in 0..3 {
///     every.tick().await;
///     // ... once per 100 ms
/// }
/// # }
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "an interval's period must be more than zero");
    Interval { period, next: Instant::now() + period }
}

/// What [`interval`] returns.
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
}

impl Interval {
    /// Waits for the next tick; returns when it was due.
    pub async fn tick(&mut self) -> Instant {
        let now = Instant::now();
        if self.next > now {
            sleep(self.next - now).await;
        }
        let due = self.next;
        self.next += self.period;
        let now = Instant::now();
        if self.next <= now {
            // Late by more than a period: skip what was missed.
            self.next = now + self.period;
        }
        due
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
