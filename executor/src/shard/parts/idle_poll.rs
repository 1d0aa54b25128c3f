//! How long an idle shard polls before it parks, learned from how its idle
//! periods ended.
//!
//! Parking costs a wake-up later (tens of microseconds on the VMs we
//! measure on: `micro/wake-parked` in `docs/performance.md`), polling costs
//! the core. So a shard polls only as long as work is likely to come. The
//! longest poll is the configured `spin_before_park` (the limit); the
//! bound used moves within it the way adaptive mutexes tune their spin:
//!
//! * an idle period that ended sooner than the limit would have been caught
//!   by a poll twice as long: the bound grows to that (at most the limit);
//! * a parked period's length includes the wake-up, which may itself take
//!   about as long as the limit: one that ended within twice the limit may
//!   have been catchable, and the bound goes back to the limit;
//! * one that lasted twice the limit or longer would not have been caught
//!   by any allowed poll: the bound halves, and below [`MIN_IDLE_POLL`] it
//!   is zero, so a shard whose work comes rarely parks at once;
//! * where wake-ups take longer than the limit, even soon work looks late:
//!   at zero, one idle period in [`PROBE_EVERY`] polls the whole limit
//!   anyway, so work that comes soon is noticed and the bound grows again.
//!
//! Periods while asks opened on the shard await answers learn a bound of
//! their own, starting at the limit: an answer is usually on its way, and
//! catching it saves a wake-up per ask; an ask that waits long (a program
//! awaiting an actor for its whole life) teaches that bound to park.
//!
//! An idle shard thus burns at most one limit of CPU after its last
//! message, then sleeps.

use std::cell::Cell;
use std::time::Duration;

use crate::base::tunables::{MIN_IDLE_POLL, PROBE_EVERY};

/// The learned poll bounds of one shard.
pub(crate) struct IdlePoll {
    /// For idle periods with no ask awaiting its answer.
    plain: Bound,
    /// For idle periods while asks await answers.
    awaiting_answers: Bound,
}

/// The state of one kind of idle period, and what is learned from it.
struct Bound {
    poll: Cell<Duration>,
    /// Idle periods at a zero bound since the last probe.
    since_probe: Cell<u32>,
}

impl IdlePoll {
    /// Both bounds start at the limit: a new shard polls as configured
    /// until it learns otherwise.
    pub(crate) fn new(limit: Duration) -> Self {
        Self { plain: Bound::new(limit), awaiting_answers: Bound::new(limit) }
    }

    /// How long to poll in the idle period starting now.
    pub(crate) fn start(&self, limit: Duration, awaiting_answers: bool) -> Duration {
        self.of(awaiting_answers).start(limit)
    }

    /// The idle period started with the same `awaiting_answers` ended
    /// after `gap` (work came, or the mesh moved on); `parked`: whether the
    /// shard had stopped polling and slept.
    pub(crate) fn ended(
        &self,
        awaiting_answers: bool,
        gap: Duration,
        parked: bool,
        limit: Duration,
    ) {
        self.of(awaiting_answers).ended(gap, parked, limit);
    }

    fn of(&self, awaiting_answers: bool) -> &Bound {
        if awaiting_answers {
            &self.awaiting_answers
        } else {
            &self.plain
        }
    }
}

impl Bound {
    fn new(limit: Duration) -> Self {
        Self { poll: Cell::new(limit), since_probe: Cell::new(0) }
    }

    fn start(&self, limit: Duration) -> Duration {
        let poll = self.poll.get().min(limit);
        if !poll.is_zero() {
            return poll;
        }
        let since = self.since_probe.get() + 1;
        if since >= PROBE_EVERY {
            self.since_probe.set(0);
            return limit;
        }
        self.since_probe.set(since);
        Duration::ZERO
    }

    fn ended(&self, gap: Duration, parked: bool, limit: Duration) {
        let poll = self.poll.get().min(limit);
        let next = if gap < limit {
            // A poll of twice the gap would catch the next one like it.
            poll.max(gap.saturating_mul(2).min(limit))
        } else if parked && gap < limit.saturating_mul(2) {
            // Parked, and woken within a wake-up of the limit: the work may
            // well have come within the limit, the wake-up making up the rest.
            limit
        } else if parked {
            let half = poll / 2;
            if half < MIN_IDLE_POLL {
                Duration::ZERO
            } else {
                half
            }
        } else {
            poll
        };
        self.poll.set(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_micros(50);
    const LONG: Duration = Duration::from_millis(5);

    /// One idle period that lasts `gap` if nothing catches it sooner;
    /// returns the poll it started with.
    fn period(poll: &IdlePoll, awaiting_answers: bool, gap: Duration) -> Duration {
        let now = poll.start(LIMIT, awaiting_answers);
        poll.ended(awaiting_answers, gap, now < gap, LIMIT);
        now
    }

    /// Teaches the plain bound that work comes rarely: it falls to zero.
    fn learn_work_comes_rarely(poll: &IdlePoll) {
        for _ in 0..16 {
            period(poll, false, LONG);
        }
    }

    #[test]
    fn starts_at_the_limit_and_never_exceeds_it() {
        let poll = IdlePoll::new(LIMIT);
        assert_eq!(poll.start(LIMIT, false), LIMIT);
        poll.ended(false, Duration::from_micros(40), true, LIMIT);
        assert_eq!(poll.start(LIMIT, false), LIMIT);
        // A smaller limit (a new configuration) caps a learned bound.
        assert_eq!(poll.start(Duration::from_micros(10), false), Duration::from_micros(10));
    }

    #[test]
    fn long_gaps_halve_the_bound_down_to_zero() {
        let poll = IdlePoll::new(LIMIT);
        let mut last = period(&poll, false, LONG);
        for _ in 0..8 {
            let now = period(&poll, false, LONG);
            assert!(now <= last / 2 || now.is_zero(), "{now:?} after {last:?}");
            last = now;
        }
        assert_eq!(last, Duration::ZERO, "a shard whose work comes rarely parks at once");
    }

    #[test]
    fn at_zero_one_period_in_probe_every_polls_the_limit() {
        let poll = IdlePoll::new(LIMIT);
        learn_work_comes_rarely(&poll);
        let polled: Vec<Duration> =
            (0..PROBE_EVERY * 3).map(|_| period(&poll, false, LONG)).collect();
        let probes = polled.iter().filter(|p| **p == LIMIT).count();
        assert_eq!(probes, 3, "{polled:?}");
        assert!(polled.iter().all(|p| *p == LIMIT || p.is_zero()));
    }

    #[test]
    fn a_burst_after_a_quiet_spell_is_caught_by_a_probe_and_polled_for() {
        // Wake-ups longer than the limit make a parked period look long
        // however soon the work came: only a probe can see that it comes
        // soon.
        let poll = IdlePoll::new(LIMIT);
        learn_work_comes_rarely(&poll);
        let burst = Duration::from_micros(2);
        let mut polls = Vec::new();
        for _ in 0..PROBE_EVERY + 4 {
            let now = poll.start(LIMIT, false);
            let parked = now < burst;
            poll.ended(false, if parked { LIMIT * 3 } else { burst }, parked, LIMIT);
            polls.push(now);
        }
        // Within PROBE_EVERY periods a probe caught it; from then on every
        // period does.
        let probe = polls.iter().position(|p| *p == LIMIT).expect("a probe");
        assert!(probe < PROBE_EVERY as usize, "{polls:?}");
        assert!(polls[probe..].iter().all(|p| *p >= burst), "{polls:?}");
    }

    #[test]
    fn one_late_message_does_not_teach_a_steady_stream_to_park() {
        // Gaps of 30 µs, a wake-up of 40 µs, and one gap of 150 µs.
        let poll = IdlePoll::new(LIMIT);
        let wake = Duration::from_micros(40);
        let run = |gap: Duration| {
            let now = poll.start(LIMIT, false);
            let parked = now < gap;
            poll.ended(false, if parked { gap + wake } else { gap }, parked, LIMIT);
            parked
        };
        let steady = Duration::from_micros(30);
        assert!((0..10).all(|_| !run(steady)), "caught while the stream is steady");
        assert!(run(Duration::from_micros(150)));
        let parks = (0..10).filter(|_| run(steady)).count();
        assert!(parks <= 1, "{parks} of 10 steady gaps parked after one late message");
    }

    #[test]
    fn bimodal_gaps_keep_a_bound_that_catches_the_short_ones() {
        // Gaps of 10 µs and 1 ms alternate: every short gap after the first
        // is caught by the poll.
        let poll = IdlePoll::new(LIMIT);
        let short = Duration::from_micros(10);
        for round in 0..100 {
            period(&poll, false, Duration::from_millis(1));
            let polled = period(&poll, false, short);
            assert!(round == 0 || polled >= short, "round {round}: polled {polled:?}");
        }
    }

    #[test]
    fn asks_learn_apart_from_plain_periods() {
        let poll = IdlePoll::new(LIMIT);
        learn_work_comes_rarely(&poll);
        // Answers come quickly: periods awaiting them keep the limit.
        assert_eq!(period(&poll, true, Duration::from_micros(3)), LIMIT);
        assert_eq!(poll.start(LIMIT, true), LIMIT);
        // An ask that waits for long teaches its bound to park too.
        for _ in 0..16 {
            period(&poll, true, LONG);
        }
        assert_eq!(poll.start(LIMIT, true), Duration::ZERO);
    }

    #[test]
    fn a_zero_limit_never_polls() {
        let poll = IdlePoll::new(Duration::ZERO);
        for _ in 0..PROBE_EVERY * 2 {
            assert_eq!(poll.start(Duration::ZERO, true), Duration::ZERO);
            assert_eq!(poll.start(Duration::ZERO, false), Duration::ZERO);
            poll.ended(false, Duration::from_micros(1), true, Duration::ZERO);
        }
    }
}
