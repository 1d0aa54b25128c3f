//! The shard's table of actor slots, addressed by index and generation.
//!
//! A slot is 32 bytes: its generation, how many of its actor's messages wait
//! in the run queue (the mailbox bound is a counter), a few flags, and the
//! actor itself behind one pointer with the functions that start, stop and
//! drop it. Everything else an actor may have (timers, piped jobs, messages
//! that arrived before it was built) lives in side tables, so an idle actor
//! costs its slot and one allocation.

use std::collections::VecDeque;
use std::task::Waker;

use glommio::task::JoinHandle;

use crate::base::by_slot::BySlot;
use crate::base::liveness::Generations;
use crate::shard::parts::metrics::ActorCounters;
use crate::shard::parts::restarts::Restarts;
use crate::types::schedule::Priority;
use crate::StopReason;

/// A watcher's address: its shard and its watch there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watcher {
    pub(crate) shard: u16,
    pub(crate) id: u64,
}

/// Calls an actor's `started` (see [`Lifecycle::start`]).
pub(crate) type StartFn = unsafe fn(
    actor: *mut (),
    shard: *const (),
    slot: u32,
    generation: u32,
) -> Option<(StopReason, bool)>;

/// Calls an actor's `panicked` (see [`Lifecycle::panicked`]).
pub(crate) type PanickedFn = unsafe fn(
    actor: *mut (),
    shard: *const (),
    slot: u32,
    generation: u32,
    message: &str,
) -> Option<Option<(StopReason, bool)>>;

/// Starts, stops and drops an actor of one type, and rebuilds it from its
/// factory; `actor` points at the actor's cell.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    /// Calls `started`; returns why the incarnation ends already if it
    /// panicked, failed or asked to stop (`Some((reason, for_good))`).
    pub(crate) start: StartFn,
    /// Calls `stopped`.
    pub(crate) stop: unsafe fn(
        actor: *mut (),
        shard: *const (),
        slot: u32,
        generation: u32,
        reason: &StopReason,
    ),
    /// Calls `panicked`: `Some(end)` if the actor resumes (`end`: a stop
    /// the hook asked for), `None` if it fails.
    pub(crate) panicked: PanickedFn,
    /// Replaces the actor with a new one from the cell's factory (the old
    /// one is dropped); false if the factory panicked (the old one stays).
    pub(crate) rebuild: unsafe fn(actor: *mut ()) -> bool,
    /// Frees the cell.
    pub(crate) free: unsafe fn(actor: *mut ()),
    /// The actor's type, for metrics.
    pub(crate) type_name: fn() -> &'static str,
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Free: on the free list, offered to other shards, or retired.
    Vacant,
    /// Handed out to a spawn whose actor has not been built yet; messages
    /// for it wait in [`Slots::pending`].
    Reserved,
    /// An actor lives here.
    Live,
    /// Its actor is being stopped (`stopped` runs): no longer live, so
    /// nothing reaches it and no second stop starts, even from a pass that
    /// user code in `stopped` runs; freed next.
    Stopping,
    /// Its actor failed and is being built again (after `stopped`, and a
    /// backoff if its policy has one). Sends are accepted within the
    /// mailbox bound; messages reaching it wait in [`Slots::pending`].
    Restarting,
}

/// One slot.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Bumped each time the slot is freed, so refs to an earlier actor in
    /// this slot no longer match. Never wraps: a slot whose generation
    /// reaches `u32::MAX` is retired.
    pub(crate) generation: u32,
    /// Messages for this actor in the run queue, sent from this shard (the
    /// mailbox bound applies to these).
    pub(crate) queued: u32,
    pub(crate) state: State,
    /// A stop has been asked for: later sends are refused.
    pub(crate) stopping: bool,
    /// Restarting, and user code runs on the cell now (`stopped` of the
    /// failed incarnation, the factory, the old actor's `Drop`): a stop
    /// arriving meanwhile only marks `stopping`, and the restart finishes
    /// it once that code returns.
    pub(crate) busy: bool,
    /// Messages it sent wait in its outbox for room, or messages sent to it
    /// wait in its backlog's inbox to be handled in order: it is handed
    /// nothing new (see `shard::ops::backpressure`).
    pub(crate) held_back: bool,
    /// A stream attached to it waits for room in its mailbox (its waker is
    /// in [`Slots::room_wakers`]): the next message it is handed wakes it.
    pub(crate) room_wanted: bool,
    /// Its class: which of the shard's run queues its entries go to (set at
    /// spawn, kept across restarts).
    pub(crate) priority: Priority,
    /// The most messages one `handle_batch` call gets.
    pub(crate) turn_budget: u16,
    /// The actor's cell (live slots only).
    pub(crate) actor: *mut (),
    pub(crate) lifecycle: &'static Lifecycle,
}

/// The lifecycle of an empty slot: never called.
static NO_LIFECYCLE: Lifecycle = Lifecycle {
    start: |_, _, _, _| None,
    stop: |_, _, _, _, _| {},
    panicked: |_, _, _, _, _| None,
    rebuild: |_| false,
    free: |_| {},
    type_name: || "",
};

const _: () =
    assert!(std::mem::size_of::<Slot>() == 32, "docs/architecture.md quotes a 32-byte slot");

impl Slot {
    /// A slot reserved for an actor not built yet (what `ensure` fills a table with).
    fn reserved() -> Self {
        Self {
            generation: 0,
            queued: 0,
            state: State::Reserved,
            stopping: false,
            busy: false,
            held_back: false,
            room_wanted: false,
            priority: Priority::Normal,
            turn_budget: 1,
            actor: std::ptr::null_mut(),
            lifecycle: &NO_LIFECYCLE,
        }
    }
}

/// The slots of one shard, and what some of them have on the side.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    pub(crate) slots: Vec<Slot>,
    /// `counters[i]`: the metrics of the actor at slot `i` (as long as
    /// `slots`; see `shard::parts::metrics`).
    pub(crate) counters: Vec<ActorCounters>,
    /// Whether [`admit`](Self::admit) keeps `counters` (`ShardConfig::metrics`).
    pub(crate) metrics: bool,
    /// A turn is timed when its first message brings its actor's `handled`
    /// to its `next_timed`, which then moves this far on (`u64::MAX`:
    /// after the first, never; see `shard::parts::metrics`).
    pub(crate) timed_every: u64,
    /// Free slot indices for local spawns.
    pub(crate) free: Vec<u32>,
    /// Slots in use by actors of class `High`.
    pub(crate) high_actors: u32,
    /// Entries waiting for an actor that is not built yet: for a reserved
    /// slot (a message that overtook its actor's spawn; not counted in
    /// `queued`), or for a restarting one (counted in `queued`; the front
    /// ones run first when it is live again, see `run_held`).
    pub(crate) pending: BySlot<VecDeque<crate::base::entry::EntryBuffer>>,
    /// Outboxes and inboxes of actors held back by a full receiver, by slot
    /// (kept once made, so holding an actor back again allocates nothing;
    /// see `shard::ops::backpressure`).
    pub(crate) backlogs: BySlot<Box<crate::shard::parts::outbox::Backlog>>,
    /// Restart policies and histories of actors that have one, by slot.
    pub(crate) restarts: BySlot<Restarts>,
    /// Values actors keep for their next incarnation (`Context::keep`).
    pub(crate) kept: BySlot<Box<dyn std::any::Any>>,
    /// The children of supervisors, by the supervisor's slot, in start
    /// order: stopped for good with their supervisor.
    pub(crate) children: BySlot<Vec<Option<crate::shard::parts::link::Address>>>,
    /// Who watches the actor at a slot (see `watch`).
    pub(crate) watchers: BySlot<Vec<crate::shard::parts::slots::Watcher>>,
    /// Timers and piped jobs of actors that have some, by slot.
    pub(crate) jobs: BySlot<Vec<(u64, JoinHandle<()>)>>,
    /// The tasks of streams attached to an actor that wait for room in its
    /// mailbox (`Slot::room_wanted`), by slot; kept for their capacity.
    pub(crate) room_wakers: BySlot<Vec<Waker>>,
}

/// Whether a message may be handed to the actor at a slot now
/// ([`Slots::admit`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Admit {
    /// Yes: its cell, its turn budget, and whether a turn that starts with
    /// this message is timed (see `shard::parts::metrics`).
    Run(*mut (), u16, bool),
    /// It is held back by a full receiver: the message waits in its inbox
    /// (see `shard::ops::backpressure`).
    Hold,
    /// Not live, or stopping and the message was not counted (sent from a
    /// ring or the injector after the stop was asked for, so refused).
    Refuse,
}

impl Slots {
    /// Decides what becomes of a message for the actor at `slot`; one that
    /// is run and `counted` (it came through the run queue, or was held)
    /// leaves the actor's mailbox count. The one rule for `cell::deliver`
    /// and every message a [`Batch`](crate::Batch) takes.
    #[inline(always)]
    pub(crate) fn admit(&mut self, slot: u32, generation: u32, counted: bool) -> Admit {
        let Some(s) = self.live(slot, generation) else { return Admit::Refuse };
        if !counted && s.stopping {
            return Admit::Refuse;
        }
        if s.held_back {
            return Admit::Hold;
        }
        let waiting = s.queued;
        // Read first, written only when set: no store per message.
        let room_made = counted && s.room_wanted;
        if room_made {
            s.room_wanted = false;
        }
        if counted {
            s.queued -= 1;
        }
        let (actor, turn_budget) = (s.actor, s.turn_budget);
        if room_made {
            self.wake_room_waiters(slot);
        }
        let mut timed = false;
        if self.metrics {
            if let Some(counters) = self.counters.get_mut(slot as usize) {
                counters.handled += 1;
                counters.high_water = counters.high_water.max(waiting);
                // Reached after a batch's messages moved `handled` past it:
                // every actor is timed at its rate, whatever its turns.
                timed = counters.handled >= counters.next_timed;
                if timed {
                    counters.next_timed = counters.handled.saturating_add(self.timed_every);
                }
            }
        }
        Admit::Run(actor, turn_budget, timed)
    }

    /// How many times the actor at `slot` has been restarted (0: never,
    /// or no restart policy).
    pub(crate) fn incarnation(&self, slot: u32) -> u32 {
        self.restarts.get(&slot).map_or(0, |r| r.incarnation)
    }

    /// Wakes the streams that wait for room in the mailbox of the actor at
    /// `slot` (waking schedules their tasks; nothing runs here).
    #[cold]
    #[inline(never)]
    pub(crate) fn wake_room_waiters(&mut self, slot: u32) {
        if let Some(wakers) = self.room_wakers.get_mut(&slot) {
            for waker in wakers.drain(..) {
                waker.wake();
            }
        }
    }

    /// The slot `slot` if it holds a live actor of `generation`.
    #[inline(always)]
    pub(crate) fn live(&mut self, slot: u32, generation: u32) -> Option<&mut Slot> {
        match self.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation && s.state == State::Live => Some(s),
            _ => None,
        }
    }

    /// Whether `slot` holds a restarting actor of `generation` that no stop
    /// is pending for.
    pub(crate) fn is_restarting(&self, slot: u32, generation: u32) -> bool {
        self.slots.get(slot as usize).is_some_and(|s| {
            s.generation == generation && s.state == State::Restarting && !s.stopping
        })
    }

    /// Whether the restarting actor at `slot` is to be rebuilt: restarting,
    /// and not waiting for its supervisor (a suspend may have made it wait
    /// again since its rebuild was scheduled).
    pub(crate) fn rebuild_due(&self, slot: u32, generation: u32) -> bool {
        self.is_restarting(slot, generation)
            && !self.restarts.get(&slot).is_some_and(|r| r.is_awaiting())
    }

    /// Makes sure `slot` exists; indices skipped on the way were reserved by
    /// spawns from other shards and are marked so.
    pub(crate) fn ensure(&mut self, slot: u32) -> &mut Slot {
        if self.slots.len() <= slot as usize {
            self.slots.resize_with(slot as usize + 1, Slot::reserved);
            self.counters.resize(slot as usize + 1, ActorCounters::default());
        }
        &mut self.slots[slot as usize]
    }

    /// Empties `slot` and bumps its generation, so refs to the old actor no
    /// longer match. Returns whether the slot may be used again (then it is
    /// on the free list). A slot whose generation would reach `u32::MAX` is
    /// retired instead: it stays vacant for good, so no stale ref can ever
    /// reach a later actor in it. The new generation is mirrored in
    /// `generations` for [`ActorRef::is_alive`](crate::ActorRef::is_alive).
    pub(crate) fn free(&mut self, slot: u32, generations: &Generations) -> bool {
        let entry = &mut self.slots[slot as usize];
        self.high_actors -= u32::from(entry.priority == Priority::High);
        entry.state = State::Vacant;
        entry.queued = 0;
        entry.stopping = false;
        entry.busy = false;
        entry.held_back = false;
        entry.room_wanted = false;
        entry.priority = Priority::Normal;
        entry.turn_budget = 1;
        entry.actor = std::ptr::null_mut();
        entry.lifecycle = &NO_LIFECYCLE;
        self.counters[slot as usize] = ActorCounters::default();
        self.room_wakers.remove(&slot);
        let Some(next) = entry.generation.checked_add(1) else { return false };
        entry.generation = next;
        generations.set(slot, next);
        if next == u32::MAX {
            return false;
        }
        self.free.push(slot);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_whose_generation_would_wrap_is_retired() {
        let mut slots = Slots::default();
        let generations = Generations::default();
        slots.ensure(0).generation = u32::MAX - 2;
        assert!(slots.free(0, &generations));
        assert_eq!(slots.slots[0].generation, u32::MAX - 1);
        assert!(!slots.free(0, &generations), "generation u32::MAX is never handed out");
        assert!(!slots.free(0, &generations));
        assert_eq!(generations.get(0), u32::MAX);
        assert_eq!(slots.slots[0].generation, u32::MAX);
        assert_eq!(slots.free, [0]);
    }

    #[test]
    fn a_slot_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }
}
