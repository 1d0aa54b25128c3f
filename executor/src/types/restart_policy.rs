//! When a failed actor is built again, how often, and how long after.

use std::time::Duration;

/// Which endings an actor is restarted after (Erlang/OTP's restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Restarted whenever it ends on its own: after a failure, and after it
    /// stops itself with [`Context::stop`](crate::Context::stop).
    Permanent,
    /// Restarted only after a failure.
    Transient,
    /// Never restarted: a failure stops it for good (a bare spawn).
    #[default]
    Temporary,
}

/// What happens to the messages waiting for an actor when it restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailboxOnRestart {
    /// They go to the new incarnation, in order. The message being handled
    /// when it failed is a dead letter.
    #[default]
    Keep,
    /// They are dead letters (cause [`DeadLetterCause::DroppedOnRestart`]).
    ///
    /// [`DeadLetterCause::DroppedOnRestart`]: crate::DeadLetterCause::DroppedOnRestart
    Drop,
}

/// How an actor is restarted after it fails: a restart type, a restart
/// intensity (at most `max_restarts` within `within`, or it stops for good
/// with [`StopReason::TooManyRestarts`](crate::StopReason::TooManyRestarts)),
/// a backoff between restarts, and what happens to waiting messages.
///
/// The actor keeps its [`ActorRef`](crate::ActorRef) and registered names
/// across restarts: same slot, a new incarnation built by the same factory.
///
/// ```
/// use std::time::Duration;
/// use whirl_executor::{MailboxOnRestart, Restart, RestartPolicy};
///
/// let policy = RestartPolicy::new(Restart::Transient)
///     .intensity(5, Duration::from_secs(10))
///     .backoff(Duration::from_millis(1), Duration::from_millis(100))
///     .mailbox(MailboxOnRestart::Drop);
/// assert_eq!(policy.restart_type(), Restart::Transient);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    restart: Restart,
    max_restarts: u32,
    within: Duration,
    backoff_min: Duration,
    backoff_max: Duration,
    mailbox: MailboxOnRestart,
}

impl RestartPolicy {
    /// Restarts of type `restart`, at most 3 within 5 s (OTP's default
    /// intensity), with no backoff, keeping waiting messages.
    pub const fn new(restart: Restart) -> Self {
        Self {
            restart,
            max_restarts: 3,
            within: Duration::from_secs(5),
            backoff_min: Duration::ZERO,
            backoff_max: Duration::ZERO,
            mailbox: MailboxOnRestart::Keep,
        }
    }

    /// Never restarted: what a bare spawn gets.
    pub const fn never() -> Self {
        Self::new(Restart::Temporary)
    }

    /// At most `max_restarts` restarts within any window of `within`; one
    /// more failure stops the actor for good. A window shorter than a
    /// millisecond counts as one millisecond (a zero window would bound
    /// nothing). Up to 64 restarts allowed, the window is exact, as OTP's;
    /// above that (`u32::MAX` for no limit), restarts are counted in groups
    /// a 64th of the window wide, so memory stays small: the count may then
    /// include restarts up to a 64th of the window older than it (the actor
    /// gives up a little early, never late).
    pub const fn intensity(mut self, max_restarts: u32, within: Duration) -> Self {
        const MIN_WINDOW: Duration = Duration::from_millis(1);
        self.max_restarts = max_restarts;
        self.within = if within.as_nanos() < MIN_WINDOW.as_nanos() { MIN_WINDOW } else { within };
        self
    }

    /// Waits before each restart: `min` before the first of a burst,
    /// doubling with each restart still inside the intensity window, up to
    /// `max`, each wait drawn at random from its upper half (jitter). Zero
    /// for both restarts at once. Messages that arrive meanwhile wait for
    /// the new incarnation (sends from the actor's own shard within the
    /// mailbox bound; see `docs/failure-and-supervision.md` for the gaps).
    pub const fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max;
        self
    }

    /// What happens to the messages waiting when the actor restarts.
    pub const fn mailbox(mut self, mailbox: MailboxOnRestart) -> Self {
        self.mailbox = mailbox;
        self
    }

    /// The restart type.
    pub const fn restart_type(&self) -> Restart {
        self.restart
    }

    /// What happens to waiting messages on a restart.
    pub const fn mailbox_on_restart(&self) -> MailboxOnRestart {
        self.mailbox
    }

    /// Whether an incarnation that ended for `reason` is restarted (before
    /// the intensity is looked at).
    pub(crate) fn restarts_after(&self, reason: &crate::StopReason) -> bool {
        match self.restart {
            Restart::Permanent => reason.is_failure() || *reason == crate::StopReason::Normal,
            Restart::Transient => reason.is_failure(),
            Restart::Temporary => false,
        }
    }

    /// The wait before the restart that follows `recent` restarts inside the
    /// intensity window; `random` gives any 64 random bits (called only for a
    /// jitter).
    pub(crate) fn backoff_before(&self, recent: usize, random: impl FnOnce() -> u64) -> Duration {
        if self.backoff_max.is_zero() {
            return Duration::ZERO;
        }
        let doubled = self.backoff_min.saturating_mul(1u32 << recent.min(20));
        let ceiling = doubled.min(self.backoff_max).max(self.backoff_min);
        // Jitter: a point in the upper half of [0, ceiling].
        let half = ceiling / 2;
        let span = (ceiling - half).as_nanos() as u64;
        half + Duration::from_nanos(if span == 0 { 0 } else { random() % (span + 1) })
    }

    pub(crate) fn window(&self) -> (u32, Duration) {
        (self.max_restarts, self.within)
    }
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self::never()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StopReason;

    #[test]
    fn restart_types_follow_otp() {
        let failed = StopReason::Failed("x".into());
        let normal = StopReason::Normal;
        let permanent = RestartPolicy::new(Restart::Permanent);
        let transient = RestartPolicy::new(Restart::Transient);
        let temporary = RestartPolicy::never();
        assert!(permanent.restarts_after(&failed) && permanent.restarts_after(&normal));
        assert!(transient.restarts_after(&failed) && !transient.restarts_after(&normal));
        assert!(!temporary.restarts_after(&failed) && !temporary.restarts_after(&normal));
        for policy in [permanent, transient, temporary] {
            assert!(!policy.restarts_after(&StopReason::Shutdown));
        }
    }

    #[test]
    fn backoff_doubles_within_bounds_with_jitter_in_the_upper_half() {
        let ms = Duration::from_millis;
        let policy = RestartPolicy::new(Restart::Permanent).backoff(ms(10), ms(100));
        for random in [0, 1, 12_345, u64::MAX] {
            for (recent, ceiling) in [(0, 10), (1, 20), (2, 40), (3, 80), (4, 100), (40, 100)] {
                let wait = policy.backoff_before(recent, || random);
                assert!(wait >= ms(ceiling) / 2 && wait <= ms(ceiling), "{recent}: {wait:?}");
            }
        }
        let none = RestartPolicy::new(Restart::Permanent);
        assert_eq!(
            none.backoff_before(7, || unreachable!("no backoff, no jitter")),
            Duration::ZERO
        );
    }
}
