//! Restarting a failed actor in place: same slot, same generation (so every
//! `ActorRef` and name keeps working), a new incarnation from the same
//! factory.
//!
//! When an incarnation ends, its policy ([`RestartPolicy`]) decides: stop
//! for good, or restart. A restart marks the slot `Restarting` (sends are
//! still accepted), runs `stopped` with the
//! reason, cancels the old incarnation's timers and jobs, and builds the new
//! actor at once or after a backoff. Messages that reach a restarting slot
//! wait in the slot's pending list, counted against its mailbox, and run
//! first once the new incarnation has started (`run_held`); under
//! [`MailboxOnRestart::Drop`] the messages queued at the failure are dead
//! letters instead.
//!
//! Messages held for the new incarnation run right after its `started`,
//! before anything queued for it since, so each sender's order holds. A
//! supervised actor is not restarted here: it is taken down and waits for
//! its supervisor (see `shard::ops::link`).
//!
//! The bound holds for every sender: sends from this shard and from plain
//! threads are refused (`Full`) at it, and a ring from another shard whose
//! front entry is for a restarting actor at its bound waits, entry in
//! place, until the actor is rebuilt (`ring_must_pause`): its sender finds
//! the ring full. That ring's other entries wait too, a stop for the actor
//! sent from that shard included, until the actor is rebuilt or stops for
//! good (its own shard, a plain thread, its restart intensity or shutdown
//! can stop it meanwhile); an actor whose `started` keeps failing keeps the
//! ring waiting through each backoff until its intensity runs out. Known
//! gaps: while a supervised actor waits for its supervisor's answer (one
//! notice round trip) messages for it are held past the bound, since the
//! answer may come through the ring; held messages run in one go, outside
//! the pass budget.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::base::entry::{self, EntryFn, How};
use crate::shard::parts::link::Link;
use crate::shard::parts::slots::State;
use crate::shard::{with_current, Shard};
use crate::types::restart_policy::MailboxOnRestart;
use crate::types::stats::DeadLetterCause;
use crate::StopReason;

impl Shard {
    /// Ends the incarnation of the actor at `slot`: restarts it if its
    /// policy says so (and it was not asked to stop for good), or stops it
    /// for good. An actor with a supervisor is taken down and left for the
    /// supervisor to resume (see `shard::ops::link`), or stopped for good; either way
    /// the supervisor is told.
    pub(crate) fn end_incarnation(
        &self,
        slot: u32,
        generation: u32,
        reason: StopReason,
        for_good: bool,
    ) {
        enum Then {
            Stop,
            TooOften,
            AwaitSupervisor(Link),
            RebuildAfter(Duration),
        }
        // Restarts go on through the shutdown drain (which waits for them,
        // bounded by its deadline), so what is queued is still handled.
        let restarts_allowed = self.mesh.phase() <= crate::mesh::phase::DRAINING;
        let then = self.slots.with(|slots| {
            if slots.slots.get(slot as usize).is_none_or(|s| s.generation != generation) {
                // A stale stop: the actor it named is gone already.
                return None;
            }
            let stopping = slots.live(slot, generation).is_none_or(|s| s.stopping);
            let Some(restarts) = slots.restarts.get_mut(&slot) else { return Some(Then::Stop) };
            if for_good
                || stopping
                || !restarts_allowed
                || !restarts.policy().restarts_after(&reason)
            {
                return Some(Then::Stop);
            }
            Some(match restarts.link {
                Some(link) => Then::AwaitSupervisor(link),
                None => restarts.admit_now().map_or(Then::TooOften, Then::RebuildAfter),
            })
        });
        match then {
            None => {}
            // `finish_stop` tells a supervisor the child is gone.
            Some(Then::Stop) => self.finish_stop(slot, generation, &reason),
            Some(Then::AwaitSupervisor(link)) => {
                self.take_down_for_supervisor(slot, generation, link, reason);
            }
            Some(Then::TooOften) => {
                tracing::error!(shard = self.id, slot, %reason, "actor failed too often; stopping it for good");
                self.finish_stop(slot, generation, &StopReason::TooManyRestarts);
            }
            // `take_down` runs user code (`stopped`): not in a match guard.
            #[allow(clippy::collapsible_match)]
            Some(Then::RebuildAfter(wait)) => {
                if self.take_down(slot, generation, &reason) {
                    self.schedule_rebuild(slot, generation, wait);
                }
            }
        }
    }

    /// Takes a failed (or supervisor-stopped) incarnation down for a
    /// restart: marks the slot `Restarting` (sends are still accepted),
    /// cancels its timers and jobs, and runs `stopped` with the reason.
    /// Returns false if the actor was stopped for good meanwhile.
    pub(crate) fn take_down(&self, slot: u32, generation: u32, reason: &StopReason) -> bool {
        let Some((actor, lifecycle, jobs, dropped, inbox, awaits)) = self.slots.with(|slots| {
            let drop_waiting = slots
                .restarts
                .get(&slot)
                .is_some_and(|r| r.policy().mailbox_on_restart() == MailboxOnRestart::Drop);
            slots.live(slot, generation)?;
            // Entries still held from the last restart (it failed while
            // running them) go now under `Drop`; under `Keep` they stay.
            let dropped = if drop_waiting { slots.pending.remove(&slot) } else { None };
            // What waits in its inbox (it was held back by a full receiver):
            // dropped under `Drop`; under `Keep` it stays first in line, and
            // the actor stays held back so nothing newer overtakes it.
            let inbox = match slots.backlogs.get_mut(&slot) {
                Some(backlog) if drop_waiting && backlog.has_received() => {
                    Some(backlog.take_inbox())
                }
                _ => None,
            };
            // Its waits end with it (their futures are dropped below); the
            // results they made stay first in line under `Keep`.
            let awaits = slots.backlogs.get_mut(&slot).and_then(|b| b.end_waits());
            slots.room_wakers.remove(&slot);
            let waits = slots.backlogs.get(&slot).is_some_and(|b| !b.is_empty());
            let s = &mut slots.slots[slot as usize];
            if waits {
                self.hold_back(s);
            }
            s.state = State::Restarting;
            s.busy = true;
            if drop_waiting {
                s.queued -= inbox.as_ref().map_or(0, |(_, messages)| *messages as u32);
                s.queued -= dropped.as_ref().map_or(0, |held| held.len() as u32);
                // Exactly the messages queued now; what `stopped` sends
                // comes after them.
                let queued = s.queued;
                if let Some(restarts) = slots.restarts.get_mut(&slot) {
                    restarts.discard = queued;
                }
            }
            let (actor, lifecycle) = (s.actor, s.lifecycle);
            Some((actor, lifecycle, slots.jobs.remove(&slot), dropped, inbox, awaits))
        }) else {
            return false;
        };
        self.cancel_waits(awaits);
        for buffer in dropped.into_iter().flatten() {
            self.drop_entry_buffer(DeadLetterCause::DroppedOnRestart, buffer);
        }
        if let Some(inbox) = inbox {
            self.count_dead_letters(DeadLetterCause::DroppedOnRestart, inbox.1);
            drop(inbox);
            // Its mailbox is empty now: other shards need not hold back.
            self.publish_full(slot, generation, false);
        }
        self.rebuilds.begin();
        self.reset_arena(slot);
        for (_, job) in jobs.into_iter().flatten() {
            job.cancel();
        }
        // SAFETY: the live cell of the slot, of the lifecycle's type; `busy`
        // keeps any pass that `stopped` runs from freeing or rebuilding it.
        unsafe { (lifecycle.stop)(actor, self.erased(), slot, generation, reason) };
        !self.restart_hook_returned(slot, generation)
    }

    /// Builds the new incarnation of a taken-down actor after `wait`.
    pub(crate) fn schedule_rebuild(&self, slot: u32, generation: u32, wait: Duration) {
        let drop_waiting = self.slots.with(|slots| {
            if let Some(restarts) = slots.restarts.get_mut(&slot) {
                restarts.stop_awaiting();
            }
            slots.restarts.get(&slot).is_some_and(|r| r.discard > 0)
        });
        if drop_waiting || self.rebuilds.rebuilding() {
            // Under `Drop`, the messages queued before the failure come up
            // (and are dropped) before this entry. A restart decided while
            // another is being built (its `started` failed) waits its turn
            // in the queue too, so failing starts never recurse.
            self.push_command(
                entry::EntryFn::command(run_restart_after),
                entry::target_word(slot, generation),
                wait,
            );
        } else {
            self.restart_after(slot, generation, wait);
        }
    }

    /// User code of a restart returned: clears `busy`, and if a stop for
    /// good came meanwhile, carries it out. Returns whether it did.
    fn restart_hook_returned(&self, slot: u32, generation: u32) -> bool {
        let stop = self.slots.with(|slots| {
            let s = &mut slots.slots[slot as usize];
            debug_assert!(s.generation == generation && s.state == State::Restarting);
            s.busy = false;
            s.stopping
        });
        if stop {
            self.finish_stop(slot, generation, &StopReason::Normal);
        }
        stop
    }

    /// Builds the new incarnation now, or once `wait` has passed.
    fn restart_after(&self, slot: u32, generation: u32, wait: Duration) {
        if !self.slots.with(|slots| slots.rebuild_due(slot, generation)) {
            return;
        }
        if wait.is_zero() {
            self.rebuild(slot, generation);
            return;
        }
        let mesh = self.mesh_id;
        let timer = glommio::spawn_local(async move {
            glommio::timer::sleep(wait).await;
            with_current(|shard| {
                if let Some(shard) = shard.filter(|s| s.mesh_id == mesh) {
                    shard.rebuild(slot, generation);
                }
            });
        })
        .detach();
        let replaced = self.slots.with(|slots| match slots.restarts.get_mut(&slot) {
            Some(restarts) => restarts.set_backoff(timer),
            None => Some(timer),
        });
        if let Some(timer) = replaced {
            timer.cancel();
        }
    }

    /// Builds the new incarnation of a restarting actor, starts it, and
    /// runs the messages that waited for it.
    fn rebuild(&self, slot: u32, generation: u32) {
        let cell = self.slots.with(|slots| {
            if !slots.rebuild_due(slot, generation) {
                return None;
            }
            let s = &mut slots.slots[slot as usize];
            if s.busy {
                return None;
            }
            s.busy = true;
            Some((s.actor, s.lifecycle))
        });
        let Some((actor, lifecycle)) = cell else { return };
        // SAFETY: the slot's cell, of the lifecycle's type; `busy` keeps any
        // pass the factory or the old actor's `Drop` runs from touching it.
        let built = unsafe { (lifecycle.rebuild)(actor) };
        if self.restart_hook_returned(slot, generation) {
            return;
        }
        if !built {
            tracing::error!(shard = self.id, slot, "actor factory panicked on restart");
            let reason = StopReason::Panicked("the factory panicked on restart".to_owned());
            self.finish_stop(slot, generation, &reason);
            return;
        }
        self.slots.with(|slots| {
            let s = &mut slots.slots[slot as usize];
            debug_assert_eq!(s.state, State::Restarting);
            s.state = State::Live;
            if let Some(restarts) = slots.restarts.get_mut(&slot) {
                restarts.rebuilt();
            }
        });
        self.rebuilds.end();
        self.shared().restarts.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            shard = self.id,
            slot,
            actor = (lifecycle.type_name)(),
            incarnation = self.incarnation(slot) + 1,
            "actor restarted"
        );
        let was_rebuilding = self.rebuilds.set_rebuilding(true);
        // SAFETY: as above; the cell now holds the new actor, live.
        let ended = unsafe { (lifecycle.start)(actor, self.erased(), slot, generation) };
        if let Some((reason, for_good)) = ended {
            self.request_stop_now(slot, generation, reason, for_good);
        }
        self.run_held(slot, generation);
        // Held back by a full receiver before it failed: its inbox runs
        // once its outbox has drained.
        self.release(slot, generation);
        self.resume_paused_rings();
        self.rebuilds.set_rebuilding(was_rebuilding);
        // From a backoff timer's task: the loop may be parked.
        self.wake_dispatcher();
    }

    /// A message reached the slot of an actor that is not live: if it is
    /// restarting, the message waits for the new incarnation (or is dropped
    /// under `MailboxOnRestart::Drop`, if it was queued before the failure).
    /// Hands it back if the slot is not restarting. `counted`: it is counted
    /// in the slot's `queued` (it came through the run queue).
    pub(crate) fn hold_for_restart<M>(
        &self,
        run: EntryFn,
        slot: u32,
        generation: u32,
        msg: M,
        counted: bool,
    ) -> Result<(), M> {
        let held = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation && s.state == State::Restarting => {
                let discard = slots.restarts.get_mut(&slot).map(|r| &mut r.discard);
                if let Some(discard) = discard.filter(|d| counted && **d > 0) {
                    *discard -= 1;
                    s.queued -= 1;
                    Some(false)
                } else {
                    if !counted {
                        s.queued += 1;
                    }
                    Some(true)
                }
            }
            _ => None,
        });
        match held {
            None => Err(msg),
            Some(false) => {
                self.dead_letter(DeadLetterCause::DroppedOnRestart, msg);
                Ok(())
            }
            Some(true) => {
                self.keep_pending(slot, run, entry::target_word(slot, generation), msg);
                Ok(())
            }
        }
    }

    /// Runs the entries held for an actor during its restart, in order,
    /// right after its new incarnation started and before anything queued
    /// for it since, so each sender's order holds across the restart. Each
    /// is taken from the front of the slot's held entries only while the
    /// actor is live: if it fails again midway, the rest stay where they
    /// are, in order, for the next incarnation (each entry is moved once,
    /// however often the actor fails).
    fn run_held(&self, slot: u32, generation: u32) {
        loop {
            let next = self.slots.with(|slots| {
                slots.live(slot, generation)?;
                let held = slots.pending.get_mut(&slot)?;
                let next = held.pop_front();
                if held.is_empty() {
                    slots.pending.remove(&slot);
                }
                next
            });
            let Some(mut buffer) = next else { return };
            let at = buffer.as_mut_ptr().cast::<u64>();
            // SAFETY: the buffer holds one complete entry, run once; a held
            // entry is read where it lies (`How::Held`).
            let ran = catch_unwind(AssertUnwindSafe(|| unsafe {
                entry::run(self.erased(), at, How::Held)
            }));
            if let Err(panic) = ran {
                self.handler_panicked(&*panic);
            }
        }
    }

    /// Whether a ring entry for the actor at `slot` must stay in its ring:
    /// the actor is restarting, its rebuild is scheduled on this shard (a
    /// backoff timer, not a word from another shard), and its mailbox is at
    /// its bound. The ring then waits (`Shard::waiting`), so its sender
    /// finds it full and feels the backpressure, as a sender on this shard
    /// is refused with `Full`. An actor waiting for its supervisor is not
    /// waited for: the supervisor's answer may come through that very ring
    /// (messages for it are held past the bound for that round trip).
    /// Not for an actor held back by a full receiver (see `shard::ops::backpressure`): its
    /// release may need that very ring to drain, even with no cycle among
    /// the actors (the rings are shared); other shards' `Context::send`s
    /// hold back for it instead.
    #[inline]
    pub(crate) fn ring_must_pause(&self, slot: u32, generation: u32) -> bool {
        self.rebuilds.any()
            && self.slots.with(|slots| {
                slots.rebuild_due(slot, generation)
                    && slots.slots[slot as usize].queued >= self.mailbox_capacity
            })
    }

    /// A restarting actor was rebuilt, stopped, or waits for its supervisor
    /// again: every paused ring, and a held injected message that waits,
    /// is looked at again in the next pass.
    pub(crate) fn resume_paused_rings(&self) {
        let rings = self.rings.resume_all();
        if self.injection.set_waits(false) || rings {
            self.wake_dispatcher();
        }
    }

    /// How many times the actor at `slot` has been restarted.
    pub(crate) fn incarnation(&self, slot: u32) -> u32 {
        self.slots.with(|slots| slots.incarnation(slot))
    }
}

/// Entry: restart the actor at the target after the backoff the entry
/// holds. Queued behind the messages a restarting actor had when it failed
/// (under `MailboxOnRestart::Drop`), or behind a restart whose `started`
/// failed.
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with a `Duration` and this
/// function.
unsafe fn run_restart_after(shard: *const (), at: *mut u64, how: entry::How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `Duration`.
    let opened = unsafe { Shard::open_entry::<Duration>(shard, at, how) };
    if let Some((shard, (slot, generation), wait)) = opened {
        shard.restart_after(slot, generation, wait);
    }
    entry::entry_words::<Duration>()
}
