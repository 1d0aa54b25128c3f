//! Whether the dispatch loop runs a pass, is parked, or neither, and what
//! wakes it.

use std::cell::{Cell, RefCell};
use std::task::Waker;

/// The dispatch loop's state as senders and tasks see it.
#[derive(Default)]
pub(crate) struct Parking {
    /// True while the dispatch loop runs a pass: sends stage their entries
    /// and the pass publishes them.
    in_pass: Cell<bool>,
    /// True while the dispatch loop is parked; local senders then wake it.
    idle: Cell<bool>,
    /// Polls of the shard's tasks so far (`spawn_task`): the idle loop
    /// spins more gently while tasks share the core (see `idle_wait`).
    task_polls: Cell<u64>,
    /// While the dispatch loop is parked: the mesh view it parked on, for
    /// the shard's tasks to re-check on its behalf (`task_polled`).
    parked_on: Cell<Option<MeshView>>,
    /// The parked loop's waker.
    dispatcher: RefCell<Option<Waker>>,
    /// A task marked this quiet shard busy during the shutdown drain: the
    /// loop must look at quiescence again even if no work came of it.
    recheck: Cell<bool>,
}

impl Parking {
    /// Whether the dispatch loop runs a pass now.
    #[inline(always)]
    pub(crate) fn in_pass(&self) -> bool {
        self.in_pass.get()
    }

    /// Marks whether a pass runs; returns what it was.
    #[inline(always)]
    pub(crate) fn set_in_pass(&self, in_pass: bool) -> bool {
        self.in_pass.replace(in_pass)
    }

    /// Whether the dispatch loop is parked (or about to be).
    #[inline(always)]
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.get()
    }

    pub(crate) fn set_idle(&self, idle: bool) {
        self.idle.set(idle);
    }

    /// Counts a poll of one of the shard's tasks.
    pub(crate) fn count_task_poll(&self) {
        self.task_polls.set(self.task_polls.get() + 1);
    }

    /// Polls of the shard's tasks so far.
    pub(crate) fn task_polls(&self) -> u64 {
        self.task_polls.get()
    }

    /// The mesh view the parked loop sleeps on, if it sleeps.
    pub(crate) fn parked_on(&self) -> Option<MeshView> {
        self.parked_on.get()
    }

    pub(crate) fn set_parked_on(&self, seen: Option<MeshView>) {
        self.parked_on.set(seen);
    }

    /// The parked loop's waker, taken out (to be woken with no borrow held).
    pub(crate) fn take_dispatcher(&self) -> Option<Waker> {
        self.dispatcher.borrow_mut().take()
    }

    /// Keeps `waker` for the parked loop, unless it is the one kept.
    pub(crate) fn set_dispatcher(&self, waker: &Waker) {
        let mut dispatcher = self.dispatcher.borrow_mut();
        if !dispatcher.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *dispatcher = Some(waker.clone());
        }
    }

    /// Asks the loop to look at quiescence again.
    pub(crate) fn set_recheck(&self) {
        self.recheck.set(true);
    }

    /// Whether the loop was asked to look again; clears the request.
    pub(crate) fn take_recheck(&self) -> bool {
        self.recheck.replace(false)
    }

    /// Whether the loop was asked to look again.
    pub(crate) fn recheck(&self) -> bool {
        self.recheck.get()
    }
}

/// What a shard last saw of the mesh: its phase, and how many times shards
/// were asked to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MeshView {
    pub(crate) phase: u8,
    pub(crate) nudges: u64,
}
