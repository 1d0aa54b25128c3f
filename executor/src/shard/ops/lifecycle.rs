//! Actors coming and going on a shard: spawn, stop, failure, timers and
//! piped jobs, and slots offered to spawners elsewhere.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use futures_lite::FutureExt;

use crate::base::entry;
use crate::mesh::phase;
use crate::shard::ops::commands::STOP;
use crate::shard::parts::link::Link;
use crate::shard::parts::restarts::Restarts;
use crate::shard::parts::slots::Lifecycle;
use crate::shard::parts::slots::State;
use crate::shard::{with_current, Shard};
use crate::types::stats::DeadLetterCause;
use crate::{Priority, Restart, RestartPolicy, Schedule, StopReason};

/// How a spawned actor is set up besides its factory, whatever its type.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Setup {
    pub(crate) policy: RestartPolicy,
    /// Its supervisor, if it has one.
    pub(crate) link: Option<Link>,
    /// Its arena's byte budget, if not the runtime's default.
    pub(crate) arena_budget: Option<usize>,
    pub(crate) schedule: Schedule,
}

impl Shard {
    /// Makes an actor live at `slot` (vacant, or reserved for this spawn):
    /// `built` is its cell as the actor layer built it (or the panic of its
    /// factory), `lifecycle` the functions that run it. Runs `started`,
    /// then queues the messages that arrived while the slot was only
    /// reserved. Returns the slot's generation.
    pub(crate) fn install(
        &self,
        slot: u32,
        setup: Setup,
        built: std::thread::Result<*mut ()>,
        lifecycle: &'static Lifecycle,
        actor_type: &'static str,
    ) -> u32 {
        let Setup { policy, link, arena_budget, schedule } = setup;
        let (generation, pending) = self.slots.with(|slots| {
            // A vacant or reserved slot's counters and flags were reset when
            // it was freed (`Slots::free`) or made (`Slot::reserved`).
            slots.high_actors += u32::from(schedule.priority == Priority::High);
            let s = slots.ensure(slot);
            debug_assert!(s.state != State::Live && s.queued == 0);
            s.state = State::Live;
            s.priority = schedule.priority;
            s.turn_budget = match schedule.turn_budget {
                0 => u16::try_from(self.mesh.config.turn_budget).unwrap_or(u16::MAX),
                budget => budget,
            };
            let generation = s.generation;
            match &built {
                Ok(actor) => {
                    s.actor = *actor;
                    s.lifecycle = lifecycle;
                }
                // Live for a moment with no actor: the pending messages
                // below become dead letters, then the slot is freed.
                Err(_) => s.stopping = true,
            }
            if policy.restart_type() != Restart::Temporary || link.is_some() {
                slots.restarts.insert(slot, Restarts::new(policy, link));
            }
            (generation, slots.pending.remove(&slot).unwrap_or_default())
        });
        if let Some(budget) = arena_budget {
            self.arenas.with(|arenas| arenas.set_budget(slot, budget));
        }

        self.shared().actors.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(shard = self.id, slot, actor = actor_type, "actor spawned");
        let ended = match built {
            Ok(actor) => {
                // SAFETY: the cell was just built for the actor type that
                // `lifecycle` runs, and lives in `slot` on this shard.
                let ended = unsafe { (lifecycle.start)(actor, self.erased(), slot, generation) };
                if ended.is_none() {
                    tracing::trace!(shard = self.id, slot, actor = actor_type, "actor started");
                }
                ended
            }
            Err(panic) => {
                tracing::error!(shard = self.id, slot, "actor factory panicked");
                Some((StopReason::from_panic(&*panic), true))
            }
        };
        // Messages that waited for the actor go first.
        self.queue_pending(slot, generation, pending, true);
        if let Some((reason, for_good)) = ended {
            self.request_stop_now(slot, generation, reason, for_good);
        }
        generation
    }

    /// Asks the actor to stop after the messages already queued for it;
    /// later sends are refused.
    pub(crate) fn request_stop(&self, slot: u32, generation: u32) {
        let queue_stop = self.slots.with(|slots| {
            if let Some(s) = slots.slots.get_mut(slot as usize) {
                let live = matches!(s.state, State::Live | State::Restarting);
                if s.generation == generation && live && !s.stopping {
                    s.stopping = true;
                    return true;
                }
            }
            false
        });
        if queue_stop {
            self.push_command(STOP, entry::target_word(slot, generation), ());
        } else if self.is_reserved(slot, generation) {
            // The actor is not built yet: the stop waits for it.
            self.keep_pending(slot, STOP, entry::target_word(slot, generation), ());
        }
    }

    /// Whether `slot` is reserved for a spawn under `generation`.
    pub(crate) fn is_reserved(&self, slot: u32, generation: u32) -> bool {
        let in_table = self.slots.with(|slots| {
            slots
                .slots
                .get(slot as usize)
                .map(|s| s.generation == generation && s.state == State::Reserved)
        });
        in_table.unwrap_or_else(|| self.is_reserved_beyond(slot, generation))
    }

    /// A stop entry reached the front of the run queue: the stop asked for
    /// by `ActorRef::stop`, for good.
    pub(crate) fn stop_queued(&self, slot: u32, generation: u32) {
        let held_back =
            self.slots.with(|slots| slots.live(slot, generation).is_some_and(|s| s.held_back));
        if held_back {
            // Behind the messages waiting in its inbox.
            self.keep_for_later(slot, generation, crate::shard::ops::commands::STOP, (), false);
            return;
        }
        self.request_stop_now(slot, generation, StopReason::Normal, true);
    }

    /// Ends the actor's incarnation now, or as soon as its running handler
    /// returns (a failure, a failed start, a stop). `for_good`: never
    /// restarted, whatever its policy.
    pub(crate) fn request_stop_now(
        &self,
        slot: u32,
        generation: u32,
        reason: StopReason,
        for_good: bool,
    ) {
        if self.turn.is_running((slot, generation)) {
            self.turn.stop_after((reason, for_good));
        } else {
            self.end_incarnation(slot, generation, reason, for_good);
        }
    }

    /// After a handler returned: ends the incarnation if the handler asked
    /// to (`end`) or a stop came while it ran.
    #[inline(always)]
    pub(crate) fn handler_returned(
        &self,
        slot: u32,
        generation: u32,
        end: Option<(StopReason, bool)>,
    ) {
        if self.turn.returned() | end.is_some() {
            self.handler_ended(slot, generation, end);
        }
    }

    /// A handler returned asking to end its actor's incarnation (`end`), or
    /// panicked (`end` is its failure), or a stop came while it ran: merges
    /// the requests and ends the incarnation. A failure of the handler
    /// itself makes the message it was handling a dead letter.
    #[cold]
    #[inline(never)]
    pub(crate) fn handler_ended(
        &self,
        slot: u32,
        generation: u32,
        end: Option<(StopReason, bool)>,
    ) {
        let handler_failed = end.as_ref().is_some_and(|(reason, _)| reason.is_failure());
        let merged = self.turn.take_end(end);
        let (reason, for_good) = merged.unwrap_or((StopReason::Normal, true));
        if handler_failed {
            // The message it was handling when it failed.
            self.count_dead_letters(DeadLetterCause::FailedHandling, 1);
        }
        self.end_incarnation(slot, generation, reason, for_good);
    }

    /// Stops the actor at `slot` for good: `stopped` runs (unless it already
    /// ran for a failed incarnation that was waiting to be restarted), the
    /// slot's generation moves on (its queued messages become dead letters
    /// when they reach the front), its tasks are cancelled and its names
    /// freed.
    pub(crate) fn finish_stop(&self, slot: u32, generation: u32, reason: &StopReason) {
        let Some((actor, lifecycle, was_live)) = self.slots.with(|slots| {
            let s = slots.slots.get_mut(slot as usize)?;
            let was_live = match s.state {
                _ if s.generation != generation => return None,
                State::Live => true,
                // User code of the restart runs on the cell: the restart
                // stops it for good once that code returns.
                State::Restarting if s.busy => {
                    s.stopping = true;
                    return None;
                }
                State::Restarting => {
                    self.rebuilds.end();
                    false
                }
                _ => return None,
            };
            s.stopping = true;
            // From here the slot is not live: no message, stop or second
            // `finish_stop` reaches the actor while `stopped` runs, whatever
            // that hook runs (a pass, waiting for room).
            s.state = State::Stopping;
            Some((s.actor, s.lifecycle, was_live))
        }) else {
            return;
        };
        tracing::debug!(
            shard = self.id,
            slot,
            actor = (lifecycle.type_name)(),
            %reason,
            "actor stopped"
        );
        if was_live && !actor.is_null() {
            // SAFETY: the cell of the slot, of the lifecycle's type, still
            // owned by the slot (freed below).
            unsafe { (lifecycle.stop)(actor, self.erased(), slot, generation, reason) };
        }
        let (jobs, pending, restarts, kept, children, watchers, backlog) =
            self.slots.with(|slots| {
                let s = &mut slots.slots[slot as usize];
                self.let_go(s);
                slots.free(slot, &self.shared().generations);
                let kept = slots.kept.remove(&slot);
                (
                    slots.jobs.remove(&slot),
                    slots.pending.remove(&slot),
                    slots.restarts.remove(&slot),
                    kept,
                    slots.children.remove(&slot),
                    slots.watchers.remove(&slot),
                    slots.backlogs.remove(&slot),
                )
            });
        if !was_live {
            // It was restarting: a ring may wait for it.
            self.resume_paused_rings();
        }
        if kept.is_some() && catch_unwind(AssertUnwindSafe(move || drop(kept))).is_err() {
            tracing::error!(shard = self.id, slot, "a kept value's drop panicked");
        }
        if !actor.is_null() {
            // SAFETY: the cell is no longer reachable from the slot; freed
            // once. A panic in the actor's `Drop` is caught.
            let freed = catch_unwind(AssertUnwindSafe(|| unsafe { (lifecycle.free)(actor) }));
            if freed.is_err() {
                tracing::error!(shard = self.id, slot, "an actor's drop panicked");
            }
        }
        for (_, job) in jobs.into_iter().flatten() {
            job.cancel();
        }
        if let Some(restarts) = restarts {
            if let Some(link) = restarts.link {
                if self.mesh.phase() <= phase::DRAINING {
                    self.tell_supervisor(link, reason.clone(), false);
                }
            }
            restarts.cancel_backoff();
        }
        if let Some(children) = children {
            self.stop_children(children);
        }
        self.release_arena(slot);
        self.metrics.forget(slot);
        self.forget_watches(slot);
        if let Some(watchers) = watchers {
            self.fire_watchers(watchers, reason.clone());
        }
        // Messages that waited for a restart that will not come, or for the
        // actor's outbox to drain.
        for buffer in pending.into_iter().flatten() {
            self.drop_entry_buffer(self.mesh.stop_cause(), buffer);
        }
        if let Some(backlog) = backlog {
            self.drop_backlog(slot, *backlog, self.mesh.stop_cause());
        }
        self.shared().actors.fetch_sub(1, Ordering::Relaxed);
        if self.shared().registered.load(Ordering::Relaxed) > 0 {
            self.mesh.forget_names(self.id, slot, generation);
        }
    }

    /// Asks the live actor at `slot` whether it resumes after a panic
    /// (`reason`, see [`Actor::panicked`](crate::Actor::panicked)): `Some`
    /// with a stop its hook asked for if it does, `None` if it fails. Only
    /// a plain panic is offered to the hook. If the hook ran, the actor is
    /// left marked running, as during a handler: the caller ends with
    /// `handler_returned` or `handler_ended`, which apply what came for it
    /// meanwhile.
    pub(crate) fn resumes_after(
        &self,
        reason: &StopReason,
        slot: u32,
        generation: u32,
    ) -> Option<Option<(StopReason, bool)>> {
        let StopReason::Panicked(message) = reason else { return None };
        let (actor, lifecycle) = self
            .slots
            .with(|slots| slots.live(slot, generation).map(|s| (s.actor, s.lifecycle)))?;
        // The hook runs as a handler does: a stop for the actor that comes
        // meanwhile waits for it to return.
        self.turn.run_hook((slot, generation));
        // SAFETY: the live cell of the slot, of the lifecycle's type; no
        // handler of it runs (its panic unwound, or it was a task's).
        unsafe { (lifecycle.panicked)(actor, self.erased(), slot, generation, message) }
    }

    /// A reserved slot whose actor will never be built: what waited for it
    /// is a dead letter, and the slot is freed.
    pub(crate) fn give_up_reserved(&self, slot: u32, generation: u32) {
        let pending = self.slots.with(|slots| {
            let s = slots.ensure(slot);
            if s.generation != generation || s.state != State::Reserved {
                return None;
            }
            let pending = slots.pending.remove(&slot);
            slots.free(slot, &self.shared().generations);
            Some((pending, slots.watchers.remove(&slot)))
        });
        let Some((pending, watchers)) = pending else { return };
        if let Some(watchers) = watchers {
            self.fire_watchers(watchers, StopReason::Shutdown);
        }
        for buffer in pending.into_iter().flatten() {
            self.drop_entry_buffer(self.mesh.stop_cause(), buffer);
        }
    }

    /// Drops a boxed entry nobody will run: a dead letter if it is a message
    /// or an answer ([`Kind::is_letter`](entry::Kind::is_letter)).
    pub(crate) fn drop_entry_buffer(
        &self,
        cause: crate::types::stats::DeadLetterCause,
        buffer: crate::base::entry::EntryBuffer,
    ) {
        let mut buffer = buffer;
        // SAFETY: the buffer holds one complete entry.
        let kind = unsafe { entry::kind(buffer.as_ptr().cast()) };
        self.count_dead_letters(cause, usize::from(kind.is_letter()));
        // SAFETY: the buffer holds one complete entry, dropped once. Every
        // run function catches a panic in the `Drop` of what it drops.
        unsafe { entry::drop_entry(buffer.as_mut_ptr().cast()) };
    }

    /// Stops every actor and gives up every reserved slot (shutdown).
    pub(crate) fn stop_all(&self) {
        let in_state = |state: State| -> Vec<(u32, u32)> {
            self.slots.with(|slots| {
                let slots = slots.slots.iter().enumerate();
                slots
                    .filter(|(_, s)| s.state == state)
                    .map(|(i, s)| (i as u32, s.generation))
                    .collect()
            })
        };
        let (mut live, reserved) = (in_state(State::Live), in_state(State::Reserved));
        live.extend(in_state(State::Restarting));
        for (slot, generation) in live {
            self.finish_stop(slot, generation, &StopReason::Shutdown);
        }
        for (slot, generation) in reserved {
            self.give_up_reserved(slot, generation);
        }
    }

    /// Tops up the slots offered to spawners on other shards and threads
    /// (see `ShardShared::free_slots`) from the local free list, each
    /// reserved under its generation, so that spawns from elsewhere reuse
    /// freed slots instead of growing the table.
    pub(crate) fn offer_free_slots(&self) {
        let shared = self.shared();
        self.slots.with(|slots| {
            if shared.slots_returned.swap(false, Ordering::Acquire) {
                // Never used (see `ShardShared::untake_slot`): free as they
                // are, under the generation they were reserved with.
                let returned = std::mem::take(
                    &mut *shared.returned_slots.lock().unwrap_or_else(|e| e.into_inner()),
                );
                for (slot, generation) in returned {
                    let s = slots.ensure(slot);
                    debug_assert_eq!(s.generation, generation);
                    s.state = State::Vacant;
                    slots.free.push(slot);
                }
            }
            while let Some(&slot) = slots.free.last() {
                let s = &mut slots.slots[slot as usize];
                if shared.free_slots.push((slot, s.generation)).is_err() {
                    break;
                }
                s.state = State::Reserved;
                slots.free.pop();
            }
            shared.free_unoffered.store(slots.free.len(), Ordering::Relaxed);
            shared.slots.store(slots.slots.len(), Ordering::Relaxed);
        });
    }

    // ----- shard-local tasks (timers, piped futures) --------------------

    /// Starts `job` as a task of the actor at `slot`; it is cancelled when
    /// the actor stops. A panic in it is a failure of the actor. Returns the
    /// job's id.
    pub(crate) fn start_job(
        &self,
        slot: u32,
        generation: u32,
        job: impl std::future::Future<Output = ()> + 'static,
    ) -> Option<u64> {
        if self.mesh.phase() != phase::RUNNING {
            return None;
        }
        let id = self.jobs.next_id();
        let mesh = self.mesh.id;
        let task = crate::shard::spawn_task(async move {
            let finished = AssertUnwindSafe(job).catch_unwind().await;
            with_current(|shard| match shard {
                Some(shard) if shard.mesh.id == mesh => {
                    // Done: forget the handle (this does not cancel the
                    // running task).
                    shard.forget_job(slot, generation, id);
                    if let Err(panic) = finished {
                        shard.task_panicked(slot, generation, &*panic);
                    }
                }
                _ => {}
            });
        });
        let handle = task.detach();
        let kept = self.slots.with(|slots| {
            if slots.live(slot, generation).is_none() {
                return Some(handle);
            }
            slots.jobs.entry(slot).or_default().push((id, handle));
            None
        });
        if let Some(handle) = kept {
            handle.cancel();
        }
        Some(id)
    }

    /// A panic in a task of the actor at `slot` (a piped future, its
    /// mapping, a timer's message maker, an awaited future) is a failure of
    /// the actor.
    pub(crate) fn task_panicked(
        &self,
        slot: u32,
        generation: u32,
        panic: &(dyn std::any::Any + Send),
    ) {
        let reason = StopReason::from_panic(panic);
        if let Some(end) = self.resumes_after(&reason, slot, generation) {
            tracing::warn!(shard = self.id, slot, %reason, "actor resumes after a panic in a task");
            self.handler_returned(slot, generation, end);
        } else {
            tracing::error!(shard = self.id, slot, %reason, "an actor's task failed");
            self.request_stop_now(slot, generation, reason, false);
            self.handler_returned(slot, generation, None);
        }
    }

    fn forget_job(&self, slot: u32, generation: u32, id: u64) {
        self.slots.with(|slots| {
            if slots.live(slot, generation).is_some() {
                if let Some(jobs) = slots.jobs.get_mut(&slot) {
                    jobs.retain(|(job, _)| *job != id);
                    if jobs.is_empty() {
                        slots.jobs.remove(&slot);
                    }
                }
            }
        });
    }

    /// Cancels one job of the actor at `slot`.
    pub(crate) fn cancel_job(&self, slot: u32, generation: u32, id: u64) {
        let job = self.slots.with(|slots| {
            slots.live(slot, generation)?;
            let jobs = slots.jobs.get_mut(&slot)?;
            let at = jobs.iter().position(|(job, _)| *job == id)?;
            Some(jobs.swap_remove(at).1)
        });
        if let Some(job) = job {
            job.cancel();
        }
    }

    /// Cancels every job of every actor (shutdown: no new work).
    pub(crate) fn cancel_all_jobs(&self) {
        let jobs = self.slots.with(|slots| std::mem::take(&mut slots.jobs));
        for (_, job) in jobs.into_values().flatten() {
            job.cancel();
        }
    }
}
