//! Restarting a failed actor in place: same slot, same generation (so every
//! `ActorRef` and name keeps working), a new incarnation from the same
//! factory.
//!
//! When an incarnation ends, its policy ([`RestartPolicy`]) decides: stop
//! for good, or restart. A restart marks the slot `Restarting` (sends are
//! still accepted), runs `stopped` with the
//! reason, cancels the old incarnation's timers and jobs, and builds the new
//! actor at once or after a backoff. Messages that reach a restarting slot
//! wait in the slot's pending list, counted against its mailbox, and are
//! queued again once the new incarnation has started; under
//! [`MailboxOnRestart::Drop`] the messages queued at the failure are dead
//! letters instead.
//!
//! Known gaps: sends from this shard are refused (`Full`) at the bound, but
//! messages from other shards reaching a restarting slot are held past it;
//! and held messages are queued behind newer ones still in the run queue,
//! so a sender's order can break across a restart with a backoff or under
//! `Drop`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use glommio::task::JoinHandle;

use crate::entry::{self, RunFn};
use crate::restart_policy::{MailboxOnRestart, RestartPolicy};
use crate::shard::{with_current, Shard};
use crate::slots::State;
use crate::stats::DeadLetterCause;
use crate::StopReason;

/// The restart state of one actor whose policy may restart it.
#[derive(Debug)]
pub(crate) struct Restarts {
    policy: RestartPolicy,
    /// When the restarts inside the intensity window happened.
    recent: VecDeque<Instant>,
    incarnation: u32,
    /// The timer that ends the backoff, while one runs.
    backoff: Option<JoinHandle<()>>,
}

impl Restarts {
    pub(crate) fn new(policy: RestartPolicy) -> Self {
        Self { policy, recent: VecDeque::new(), incarnation: 0, backoff: None }
    }

    pub(crate) fn cancel_backoff(self) {
        if let Some(timer) = self.backoff {
            timer.cancel();
        }
    }

    /// Records a restart at `now`; returns the backoff before it, or `None`
    /// if it would exceed the intensity.
    fn admit(&mut self, now: Instant, random: u64) -> Option<Duration> {
        let (max, within) = self.policy.window();
        while self.recent.front().is_some_and(|&at| now.duration_since(at) > within) {
            self.recent.pop_front();
        }
        if self.recent.len() >= max as usize {
            return None;
        }
        let wait = self.policy.backoff_before(self.recent.len(), random);
        self.recent.push_back(now);
        Some(wait)
    }
}

impl Shard {
    /// Ends the incarnation of the actor at `slot`: restarts it if its
    /// policy says so (and it was not asked to stop for good), or stops it
    /// for good.
    pub(crate) fn end_incarnation(
        &self,
        slot: u32,
        generation: u32,
        reason: StopReason,
        for_good: bool,
    ) {
        let phase_running = self.mesh.phase() == crate::mesh::phase::RUNNING;
        let restart = self.slots.with(|slots| {
            let stopping = slots.live(slot, generation).is_none_or(|s| s.stopping);
            if for_good || stopping || !phase_running {
                return None;
            }
            let restarts = slots.restarts.get_mut(&slot)?;
            if !restarts.policy.restarts_after(&reason) {
                return None;
            }
            Some(restarts.admit(Instant::now(), random_bits()))
        });
        match restart {
            None => self.finish_stop(slot, generation, &reason),
            Some(None) => {
                tracing::error!(shard = self.id, slot, %reason, "actor failed too often; stopping it for good");
                self.finish_stop(slot, generation, &StopReason::TooManyRestarts);
            }
            Some(Some(wait)) => self.restart(slot, generation, &reason, wait),
        }
    }

    /// The restart itself: see the module's docs.
    fn restart(&self, slot: u32, generation: u32, reason: &StopReason, wait: Duration) {
        let Some((actor, lifecycle, jobs)) = self.slots.with(|slots| {
            let drop_waiting = slots
                .restarts
                .get(&slot)
                .is_some_and(|r| r.policy.mailbox_on_restart() == MailboxOnRestart::Drop);
            let s = slots.live(slot, generation)?;
            s.state = State::Restarting;
            s.busy = true;
            if drop_waiting {
                // Exactly the messages queued now; what `stopped` sends
                // comes after them.
                s.discard = s.queued;
            }
            let (actor, lifecycle) = (s.actor, s.lifecycle);
            Some((actor, lifecycle, slots.jobs.remove(&slot)))
        }) else {
            return;
        };
        for (_, job) in jobs.into_iter().flatten() {
            job.cancel();
        }
        // SAFETY: the live cell of the slot, of the lifecycle's type; `busy`
        // keeps any pass that `stopped` runs from freeing or rebuilding it.
        unsafe { (lifecycle.stop)(actor, self.erased(), slot, generation, reason) };
        if self.restart_hook_returned(slot, generation) {
            return;
        }
        let drop_waiting = self.slots.with(|slots| slots.slots[slot as usize].discard > 0);
        if drop_waiting || self.rebuilding.get() {
            // Under `Drop`, the messages queued before the failure come up
            // (and are dropped) before this entry. A restart decided while
            // another is being built (its `started` failed) waits its turn
            // in the queue too, so failing starts never recurse.
            self.push_command(run_restart_after, entry::target_word(slot, generation), wait);
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
        if wait.is_zero() {
            self.rebuild(slot, generation);
            return;
        }
        let restarting = self.slots.with(|slots| match slots.slots.get(slot as usize) {
            Some(s) => s.generation == generation && s.state == State::Restarting,
            None => false,
        });
        if !restarting {
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
        self.slots.with(|slots| match slots.restarts.get_mut(&slot) {
            Some(restarts) => restarts.backoff = Some(timer),
            None => timer.cancel(),
        });
    }

    /// Builds the new incarnation of a restarting actor, starts it, and
    /// queues the messages that waited for it.
    fn rebuild(&self, slot: u32, generation: u32) {
        let cell = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation && s.state == State::Restarting && !s.busy => {
                s.busy = true;
                Some((s.actor, s.lifecycle))
            }
            _ => None,
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
        let pending = self.slots.with(|slots| {
            let s = &mut slots.slots[slot as usize];
            s.state = State::Live;
            s.discard = 0;
            if let Some(restarts) = slots.restarts.get_mut(&slot) {
                restarts.incarnation += 1;
                restarts.backoff = None;
            }
            slots.pending.remove(&slot).unwrap_or_default()
        });
        self.shared().restarts.fetch_add(1, Ordering::Relaxed);
        let was_rebuilding = self.rebuilding.replace(true);
        // SAFETY: as above; the cell now holds the new actor, live.
        let ended = unsafe { (lifecycle.start)(actor, self.erased(), slot, generation) };
        self.queue_pending(slot, generation, pending, false);
        if let Some((reason, for_good)) = ended {
            self.request_stop_now(slot, generation, reason, for_good);
        }
        self.rebuilding.set(was_rebuilding);
        // From a backoff timer's task: the loop may be parked.
        self.wake_dispatcher();
    }

    /// A message reached the slot of an actor that is not live: if it is
    /// restarting, the message waits for the new incarnation (or is dropped
    /// under `MailboxOnRestart::Drop`, if it was queued before the failure).
    /// Hands it back if the slot is not restarting. `counted`: it came
    /// through the run queue, so it is counted in the slot's `queued`.
    pub(crate) fn hold_for_restart<M>(
        &self,
        run: RunFn,
        slot: u32,
        generation: u32,
        msg: M,
        counted: bool,
    ) -> Result<(), M> {
        let held = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation && s.state == State::Restarting => {
                if counted && s.discard > 0 {
                    s.discard -= 1;
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

    /// How many times the actor at `slot` has been restarted.
    pub(crate) fn incarnation(&self, slot: u32) -> u32 {
        self.slots.with(|slots| slots.restarts.get(&slot).map_or(0, |r| r.incarnation))
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

/// 64 bits for the backoff's jitter: a xorshift of the clock, good enough
/// to keep restarts of many actors from marching in step.
fn random_bits() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64 ^ d.as_secs());
    let mut x = nanos | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
