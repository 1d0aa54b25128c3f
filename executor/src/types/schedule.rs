//! How a shard schedules an actor's messages (see [`Schedule`]).

/// An actor's priority class on its shard (see [`Schedule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[repr(u8)]
pub enum Priority {
    /// Served first in each pass, and between the turns of a `Normal` or
    /// `Low` flood: control actors, health checks, latency-critical paths.
    High = 0,
    /// The default.
    #[default]
    Normal = 1,
    /// Served after `Normal`, with a small share of each pass: background
    /// work, compaction, logging that can wait.
    Low = 2,
}

impl Priority {
    /// Every class, in the order a pass serves them.
    pub const ALL: [Self; 3] = [Self::High, Self::Normal, Self::Low];
}

/// An actor's scheduling policy: its priority class and its turn budget,
/// set at spawn ([`SpawnOptions::schedule`](crate::SpawnOptions::schedule),
/// [`ChildSpec::schedule`](crate::ChildSpec::schedule)).
///
/// # Classes
///
/// Each shard keeps one run queue per [`Priority`]; an actor's messages (and
/// stops) go to its class's queue, so each sender's order holds. A pass
/// runs the `High` queue first, then `Normal`, then `Low`, within the pass
/// budget ([`PASS_BUDGET`](crate::PASS_BUDGET) messages). `Normal` and `Low`
/// keep a share of every pass in which they have work
/// ([`NORMAL_SHARE`](crate::NORMAL_SHARE), [`LOW_SHARE`](crate::LOW_SHARE)
/// messages), so a flood in a higher class delays them by at most one pass
/// and never starves them. While `Normal` or `Low` work runs on a shard that
/// has `High` actors, the shard looks every [`HIGH_CHECK_EVERY`](crate::HIGH_CHECK_EVERY) messages
/// at what came for them (its rings, its injection queue and the `High`
/// queue): a `High` actor waits for at most that many messages of a flood,
/// and the end of the turn in progress, as long as the pass's allowance
/// for `High` work (`PASS_BUDGET` less the shares kept) is not used up.
/// What those checks run (ring and injector arrivals included) counts
/// against that allowance and comes on top of the lower classes' messages,
/// so a pass runs at most about `2 × PASS_BUDGET` messages plus one drain
/// of each ring per check. Under heavy traffic from other shards the
/// allowance can run out within a pass; `High` actors then wait for the
/// next pass.
///
/// Messages from other shards run in their ring's order whatever their
/// class, when the ring is drained (at the start of each pass, and at those
/// checks).
///
/// # Turns
///
/// An actor's *turn* is one call of [`Actor::handle_batch`](crate::Actor::handle_batch)
/// with the run of its messages that are next in line (in its run queue, or
/// in the ring from one other shard), at most its turn budget. The default
/// `handle_batch` takes one message a turn, so the budget matters only to
/// actors that override it.
///
/// ```
/// use whirl_executor::{Priority, Schedule};
///
/// // Served before the shard's Normal actors, 16 messages a turn at most.
/// let control = Schedule::new().priority(Priority::High).turn_budget(16);
/// assert_ne!(control, Schedule::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    pub(crate) priority: Priority,
    /// 0: the runtime's (`ShardConfig::turn_budget`).
    pub(crate) turn_budget: u16,
}

impl Default for Schedule {
    fn default() -> Self {
        Self::new()
    }
}

impl Schedule {
    /// `Normal` priority and the runtime's turn budget
    /// (`Builder::turn_budget`, 64 by default): the schedule of
    /// an actor spawned without one.
    pub const fn new() -> Self {
        Self { priority: Priority::Normal, turn_budget: 0 }
    }

    /// The priority class.
    #[must_use]
    pub const fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// The most messages one turn (one `handle_batch` call) gets; fewer if
    /// fewer are next in line or the pass budget runs out.
    ///
    /// # Panics
    ///
    /// If `messages` is 0: an actor with no turn would never run. Use 1 for
    /// one message per turn.
    #[must_use]
    pub const fn turn_budget(mut self, messages: u16) -> Self {
        assert!(messages > 0, "a turn budget of 0 would never run the actor: use at least 1");
        self.turn_budget = messages;
        self
    }
}
