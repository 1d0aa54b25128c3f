//! The link between a supervised actor and its supervisor, seen from the
//! runtime: the child tells its supervisor when it goes down, and the
//! supervisor tells it when to come back up.
//!
//! A supervised child does not decide its own restarts. When an incarnation
//! ends and its restart type wants a restart, the child is taken down
//! (`stopped` runs, timers and jobs are cancelled, the slot is marked
//! restarting so sends are still accepted and held) and waits; a notice
//! goes to the supervisor, which answers
//! with a resume (after its backoff) or a stop. When the child stops for
//! good, the supervisor is told too. A supervisor can also take a running
//! child down (one-for-all, rest-for-one, its own failure) with a suspend.
//!
//! Notices and commands travel as commands (run queue, rings, overflow), so
//! they are never refused. A notice is queued for the supervisor past its
//! mailbox bound; one for a supervisor that is gone is dropped without a
//! dead letter (it is the runtime's bookkeeping, not a user's message), but
//! one held for a supervisor that was restarting and then stopped for good
//! is counted with the rest of what it held.
//!
//! The supervisor's slot lists its children (`Slots::children`): when the
//! supervisor stops for good, its children are stopped for good, last
//! started first.

use std::time::Duration;

use crate::base::entry::{self, How};
use crate::mesh::phase;
use crate::shard::ops::commands::STOP;
use crate::shard::parts::link::{Address, Link, Notice};
use crate::shard::parts::slots::State;
use crate::shard::Shard;
use crate::{Restart, StopReason};

impl Shard {
    /// Sends a command to shard `to`, this one included; never refused.
    pub(crate) fn command_to<T: Send + 'static>(
        &self,
        to: u16,
        run: entry::EntryFn,
        target: u64,
        payload: T,
    ) {
        if to == self.id {
            self.push_command(run, target, payload);
        } else {
            self.send_command(to, run, target, payload);
        }
    }

    /// Tells the supervisor that its child went down (`restarting`: it
    /// waits to be resumed) or stopped for good.
    pub(crate) fn tell_supervisor(&self, link: Link, reason: StopReason, restarting: bool) {
        let notice = Notice { child: link.child, reason, restarting };
        self.command_to(link.shard, link.notice, link.target, notice);
    }

    /// The supervisor takes a running child down (to restart it with its
    /// siblings, or because the supervisor itself goes down): a child that
    /// would be restarted waits to be resumed, a temporary one stops for
    /// good; either way the supervisor is told. A child already down and
    /// waiting is left as it is; one whose rebuild was scheduled waits
    /// again, and says so.
    fn suspend(&self, slot: u32, generation: u32) {
        if self.mesh.phase() >= phase::STOPPING {
            return;
        }
        enum Then {
            Nothing,
            Stop,
            TakeDown(Link),
            Wait(Link),
        }
        let then = self.slots.with(|slots| {
            let Some(s) = slots.slots.get(slot as usize) else { return Then::Nothing };
            if s.generation != generation || s.stopping {
                return Then::Nothing;
            }
            let state = s.state;
            let Some(restarts) = slots.restarts.get_mut(&slot) else { return Then::Nothing };
            let Some(link) = restarts.link else { return Then::Nothing };
            match state {
                State::Live if restarts.restart_type() == Restart::Temporary => Then::Stop,
                State::Live => Then::TakeDown(link),
                State::Restarting if !restarts.is_awaiting() => {
                    restarts.wait_again();
                    Then::Wait(link)
                }
                _ => Then::Nothing,
            }
        });
        match then {
            Then::Nothing => {}
            Then::Wait(link) => {
                // Its rebuild is called off: no ring may wait for it now.
                self.resume_paused_rings();
                self.tell_supervisor(link, StopReason::Supervisor, true);
            }
            // Stopped for good; `finish_stop` tells the supervisor.
            Then::Stop => self.request_stop_now(slot, generation, StopReason::Supervisor, true),
            Then::TakeDown(_) if self.turn.is_running((slot, generation)) => {
                // Only a pass run from inside the child's own handler could
                // get here; take it down once it returns.
                self.push_command(
                    entry::EntryFn::command(run_suspend),
                    entry::target_word(slot, generation),
                    (),
                );
            }
            Then::TakeDown(link) => {
                self.take_down_for_supervisor(slot, generation, link, StopReason::Supervisor);
            }
        }
    }

    /// Takes a supervised child down for a restart and leaves it waiting
    /// for its supervisor, which is told why.
    pub(crate) fn take_down_for_supervisor(
        &self,
        slot: u32,
        generation: u32,
        link: Link,
        reason: StopReason,
    ) {
        if self.take_down(slot, generation, &reason) {
            self.slots.with(|slots| {
                if let Some(restarts) = slots.restarts.get_mut(&slot) {
                    restarts.wait_again();
                }
            });
            self.tell_supervisor(link, reason, true);
        }
    }

    /// The supervisor resumes a child that is down and waiting: its new
    /// incarnation is built after `wait`.
    fn resume(&self, slot: u32, generation: u32, wait: Duration) {
        let awaiting = self.slots.with(|slots| {
            slots.is_restarting(slot, generation)
                && slots.restarts.get(&slot).is_some_and(|r| r.is_awaiting())
        });
        if awaiting {
            self.schedule_rebuild(slot, generation, wait);
        }
    }

    /// Tells the child at `to` to go down (see [`Shard::suspend`]).
    pub(crate) fn suspend_child(&self, to: Address) {
        self.command_to(to.shard, entry::EntryFn::command(run_suspend), to.target, ());
    }

    /// Tells the child at `to` to come back up after `wait`.
    pub(crate) fn resume_child(&self, to: Address, wait: Duration) {
        self.command_to(to.shard, entry::EntryFn::command(run_resume), to.target, wait);
    }

    /// Records `child` as child `index` of the supervisor at `slot` (in
    /// place of an earlier one of that index), to be stopped for good with
    /// it.
    pub(crate) fn adopt(&self, slot: u32, index: usize, child: Address) {
        self.slots.with(|slots| {
            let children = slots.children.entry(slot).or_default();
            if children.len() <= index {
                children.resize(index + 1, None);
            }
            children[index] = Some(child);
        });
    }

    /// The supervisor at a freed slot stopped for good: so do its children,
    /// last started first.
    pub(crate) fn stop_children(&self, children: Vec<Option<Address>>) {
        for child in children.into_iter().rev().flatten() {
            self.command_to(child.shard, STOP, child.target, ());
        }
    }
}

/// Entry: take the child at the target down.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with `()`.
unsafe fn run_suspend(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `()`.
    if let Some((shard, (slot, generation), ())) = unsafe { Shard::open_entry(shard, at, how) } {
        shard.suspend(slot, generation);
    }
    entry::entry_words::<()>()
}

/// Entry: resume the child at the target after the `Duration` it holds.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a `Duration`.
unsafe fn run_resume(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `Duration`.
    let opened = unsafe { Shard::open_entry::<Duration>(shard, at, how) };
    if let Some((shard, (slot, generation), wait)) = opened {
        shard.resume(slot, generation, wait);
    }
    entry::entry_words::<Duration>()
}
