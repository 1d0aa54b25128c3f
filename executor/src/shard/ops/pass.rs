//! The shard's dispatch loop: run what came in from other shards, from
//! outside the runtime, and the run queue; publish outgoing entries; park
//! when idle; walk through the shutdown phases.
//!
//! # A pass
//!
//! 1. Each ring from another shard: its entries run in place, in order
//!    (their messages go straight from the ring to their actors: no second
//!    queue, no copy), up to one ring's worth. A ring whose front entry is
//!    for an actor restarting with a full mailbox is paused (skipped, not
//!    polled) until a restart resumes it: its sender finds it full.
//! 2. The injection queue (threads outside the runtime): its messages join
//!    the run queue, within their mailboxes' bounds.
//! 3. The run queues, one per priority class, `High` first (see
//!    [`Schedule`](crate::Schedule)): each runs strictly in order, in a
//!    tight loop, within [`PASS_BUDGET`] messages. Every
//!    [`HIGH_CHECK_EVERY`] messages the outgoing rings are published, so a
//!    reply to another shard does not wait for the end of a long pass, and
//!    what came for `High` actors runs.
//! 4. Outboxes of actors held back by a full receiver move what fits, in
//!    order, and release the actors whose outbox emptied (see `shard::ops::backpressure`).
//! 5. Outgoing rings are published, one release store each.
//!
//! After a pass that did work the shard yields to its executor's other
//! tasks (I/O, timers, piped jobs), so they wait at most one pass. A panic
//! in a handler is caught once per pass, not per message: the pass records
//! which actor runs, and resumes after failing it.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures_lite::future::yield_now;
use whirl_mailbox::entry_ring::{EntryConsumer, WriteError};

use crate::base::entry::{self, How};
use crate::base::tunables::{
    DONE_GRACE, HIGH_CHECK_EVERY, INJECTOR_BATCH, LOW_SHARE, NORMAL_SHARE, PASS_BUDGET,
    RELEASE_EVERY,
};
use crate::mesh::{phase, Mesh};
use crate::shard::{CurrentShard, Shard};
use crate::types::schedule::Priority;
use crate::types::stats::DeadLetterCause;

/// Runs shard `id` of `mesh` on the current glommio executor until the mesh
/// has shut down. Resolves to `false` at once if that shard already runs or
/// ran.
///
/// The shard's ring ends are taken now, not at the first poll: from here on
/// the mesh counts on this future. However it ends (shutdown, a panic, or the
/// program dropping it, even unpolled), the shard is then marked exited, so
/// shutdown never waits for it, and whatever it still held (actors, queued
/// messages, entries in its rings) is stopped and counted as dead letters.
pub fn run_shard(mesh: Arc<Mesh>, id: usize) -> impl Future<Output = bool> {
    let ends = mesh.take_ends(id).map(|ends| (ends, ExitGuard { mesh: mesh.clone(), id }));
    async move {
        let Some((ends, _exit)) = ends else { return false };
        let shard = Shard::new(mesh, id, ends);
        let _current = CurrentShard::enter(shard.clone());
        // Dropped first: the shard is still current while it cleans up.
        let _cleanup = Cleanup(shard.clone());
        shard.dispatch_loop().await;
        true
    }
}

/// Marks its shard exited when dropped (see [`run_shard`]).
struct ExitGuard {
    mesh: Arc<Mesh>,
    id: usize,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.mesh.shard_exited(self.id);
    }
}

/// Stops what a shard still holds when its loop ends, however it ends.
struct Cleanup(Rc<Shard>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let shard = &self.0;
        // Nothing injected from now on is kept.
        shard.mesh.shard_exited(shard.id as usize);
        shard.parking.set_in_pass(false);
        shard.cancel_all_jobs();
        shard.stop_all();
        shard.cancel_programs();
        shard.discard_everything();
        shard.wake_all_room_waiters();
        shard.report_dead_letters();
        tracing::debug!(shard = shard.id, "shard exited");
    }
}

impl Shard {
    async fn dispatch_loop(self: &Rc<Self>) {
        let mut draining = false;
        let mut stopped = false;
        let mut done_at = None;
        loop {
            // Read before the pass: whatever the mesh does after this is
            // noticed by `should_wake` before the shard parks.
            let seen = self.mesh_view();
            self.parking.take_recheck();
            let phase = seen.phase;
            if phase == phase::DRAINING {
                if !draining {
                    draining = true;
                    self.cancel_all_jobs();
                    self.end_all_waits();
                }
                if self.mesh.until_deadline().is_some_and(|left| left.is_zero()) {
                    self.mesh.drain_timed_out();
                    continue;
                }
            }
            if phase >= phase::STOPPING && !stopped {
                stopped = true;
                self.cancel_all_jobs();
                self.stop_all();
                self.mesh.shard_stopped(self.id as usize);
            }
            let work = self.pass();
            self.report_dead_letters();
            if work > 0 {
                // Let the executor's other tasks (piped futures, timers,
                // block_on) run between passes.
                yield_now().await;
                continue;
            }
            if phase == phase::DONE {
                // Every actor is stopped. Programs awaiting the shutdown on
                // a shard get a moment to see it (they were woken); then
                // programs still waiting on something else are cancelled
                // (their `block_on` returns `ShutDown`), and one more turn
                // of the executor drops them.
                let done_at = *done_at.get_or_insert_with(Instant::now);
                let waiting = self.mesh.shutdown_waiters_on_shards() > 0;
                if !waiting || done_at.elapsed() >= DONE_GRACE {
                    self.cancel_programs();
                    yield_now().await;
                    break;
                }
                let since = Instant::now();
                futures_lite::future::or(
                    self.park(seen),
                    glommio::timer::sleep(DONE_GRACE.saturating_sub(done_at.elapsed())),
                )
                .await;
                self.metrics.waited(since);
                continue;
            }
            if phase == phase::DRAINING && self.is_quiescent() {
                self.mesh.note_quiet(self.id as usize);
            }
            let waited = self.idle_wait(seen, Instant::now()).await;
            self.metrics.add_idle(waited);
        }
    }

    /// One pass (see the module's docs). Returns the entries it ran.
    pub(crate) fn pass(&self) -> usize {
        if self.mesh.drain.is_quiet(self.id as usize) {
            // Shutdown drain: become busy before taking anything (see
            // `Quiescence`), or take nothing.
            if !self.has_work() {
                // Tasks waiting for room in a ring that has room now must
                // still be woken, or the loop would see that room, run an
                // empty pass, and see it again.
                self.wake_room_waiters();
                return 0;
            }
            self.mesh.note_busy(self.id as usize);
        }
        let was_in_dispatch = self.parking.set_in_pass(true);
        debug_assert!(!was_in_dispatch, "passes do not nest");
        let mut work = 0;
        loop {
            let body = catch_unwind(AssertUnwindSafe(|| self.pass_body(&mut work)));
            match body {
                Ok(()) => break,
                Err(panic) => self.handler_panicked(&*panic),
            }
        }
        self.flush_outbound();
        self.parking.set_in_pass(false);
        self.offer_free_slots();
        self.wake_room_waiters();
        self.shared().queued.store(self.queues.len(), Ordering::Relaxed);
        work
    }

    /// A pass run by a task of this shard (an ask or a send waiting for
    /// room) instead of the dispatch loop, so the answer or the room comes
    /// without switching tasks. Wakes the loop if work is left for it.
    pub(crate) fn pass_from_task(&self) -> usize {
        let ran = self.pass();
        if self.has_work() {
            self.wake_dispatcher();
        }
        ran
    }

    /// Steps 1-4 of a pass. Resumable: after a panic the pass calls it again.
    fn pass_body(&self, work: &mut usize) {
        *work += self.run_rings();
        *work += self.drain_injector();
        *work += self.run_queues();
        *work += self.flush_outboxes();
    }

    /// Step 1: each ring from another shard that does not wait.
    fn run_rings(&self) -> usize {
        let mut ran = 0;
        let rings = self.rings.inbound().borrow().len();
        for from in 0..rings {
            if self.rings.is_paused(from) {
                continue;
            }
            // An empty ring (the usual case for most of them) is not taken
            // out: nothing to run, nothing to release.
            let taken = self.rings.inbound().borrow_mut()[from].take_if(|ring| !ring.is_empty());
            let Some(ring) = taken else { continue };
            let ring = RingInUse::new(self, from, ring);
            ran += ring.run_entries();
        }
        ran
    }

    /// Step 3: the run queues, `High` first, within the pass budget; `Normal`
    /// and `Low` keep their share when they have work (see `schedule`).
    fn run_queues(&self) -> usize {
        let has_work = |p: Priority| !self.queues.of(p).with(|q| q.is_empty());
        let low_share = if has_work(Priority::Low) { LOW_SHARE } else { 0 };
        let normal_share = if has_work(Priority::Normal) { NORMAL_SHARE } else { 0 };
        let high_limit = PASS_BUDGET - normal_share - low_share;
        let high = self.run_queue(Priority::High, high_limit, None);
        let mut checks = HighChecks { left: high_limit - high, ran: 0 };
        let normal =
            self.run_queue(Priority::Normal, PASS_BUDGET - high - low_share, Some(&mut checks));
        let low = self.run_queue(Priority::Low, PASS_BUDGET - high - normal, Some(&mut checks));
        high + normal + low + checks.ran
    }

    /// Runs the run queue of class `priority`, in order, until it is empty
    /// or `limit` messages have run. Every [`HIGH_CHECK_EVERY`] messages
    /// the outgoing rings are published and, on a shard with `High` actors,
    /// what came for them runs (`checks`, for a lower class).
    fn run_queue(
        &self,
        priority: Priority,
        limit: usize,
        mut checks: Option<&mut HighChecks>,
    ) -> usize {
        let queue = self.queues.of(priority);
        let mut ran = 0;
        let mut next_check = HIGH_CHECK_EVERY;
        self.queues.serve(priority);
        while ran < limit {
            let Some(at) = queue.with(|q| q.front()) else { break };
            self.turn.limit(limit - ran);
            // SAFETY: the front entry of the run queue being served, run
            // once; its run function pops it before any user code runs.
            unsafe { entry::run(self.erased(), at, How::FromQueue) };
            ran += 1 + self.turn.take_extra();
            if ran >= next_check {
                next_check = ran + HIGH_CHECK_EVERY;
                self.publish_outbound();
                if let Some(checks) = checks.as_deref_mut() {
                    if checks.left > 0 && self.slots.with(|slots| slots.high_actors > 0) {
                        let served = self.serve_high(checks.left);
                        checks.ran += served;
                        checks.left = checks.left.saturating_sub(served);
                        self.queues.serve(priority);
                    }
                }
            }
        }
        self.turn.unlimited();
        ran
    }

    /// Runs what came for `High` actors during a lower class's run: the
    /// rings, the injection queue, and the `High` queue (at most `limit`
    /// messages of it).
    fn serve_high(&self, limit: usize) -> usize {
        self.turn.unlimited();
        let arrived = self.run_rings() + self.drain_injector();
        arrived + self.run_queue(Priority::High, limit.saturating_sub(arrived), None)
    }

    /// A handler panicked: its actor fails (and is restarted if its policy
    /// says so); the message it was handling is a dead letter; the pass goes
    /// on.
    #[cold]
    pub(crate) fn handler_panicked(&self, panic: &(dyn std::any::Any + Send)) {
        let Some((slot, generation)) = self.turn.panicked() else { return };
        let reason = self.failure_of(slot, panic);
        if let Some(end) = self.resumes_after(&reason, slot, generation) {
            tracing::warn!(shard = self.id, slot, %reason, "actor resumes after a panic in `handle`");
            self.count_dead_letters(DeadLetterCause::FailedHandling, 1);
            // A stop asked for while it ran, or by its hook, still holds.
            self.handler_returned(slot, generation, end);
            return;
        }
        self.turn.returned();
        tracing::error!(shard = self.id, slot, %reason, "actor failed in `handle`");
        self.handler_ended(slot, generation, Some((reason, false)));
    }

    /// Delivers envelopes from threads outside the runtime, bounded like
    /// everything else: a message for a full mailbox is held, and the
    /// injector waits behind it, so its senders see `Full`.
    fn drain_injector(&self) -> usize {
        let mut work = 0;
        let held = self.injection.take();
        if let Some(envelope) = held {
            // SAFETY: this shard drains its own injector, on its thread.
            if let Err(envelope) = unsafe { envelope.deliver(self.erased()) } {
                self.injection.hold(envelope);
                // Refused while an actor restarts: perhaps for a restarting
                // actor at its bound, which only the restart's end makes room
                // in. Counting it as work then would spin the loop without
                // ever yielding to the timer that ends the restart.
                self.injection.set_waits(self.rebuilds.any());
                return 0;
            }
            self.injection.set_waits(false);
            work += 1;
        }
        let injector = &self.shared().injector;
        for _ in 0..INJECTOR_BATCH {
            let Some(envelope) = injector.pop() else { break };
            work += 1;
            // SAFETY: as above.
            if let Err(envelope) = unsafe { envelope.deliver(self.erased()) } {
                self.injection.hold(envelope);
                break;
            }
        }
        work
    }

    /// Publishes every outgoing ring with staged entries.
    fn publish_outbound(&self) {
        self.rings.outbound().with(|outbound| {
            for producer in outbound.iter_mut().flatten() {
                producer.publish();
            }
        });
    }

    /// Moves waiting commands into their rings and publishes every ring
    /// with staged entries: one release store per ring per pass.
    fn flush_outbound(&self) {
        let mut undeliverable = Vec::new();
        {
            let mut overflow = self.rings.overflow().borrow_mut();
            let wakes = self.rings.outbound().with(|outbound| {
                let mut wakes = 0;
                for (producer, waiting) in outbound.iter_mut().zip(overflow.iter_mut()) {
                    let Some(producer) = producer else { continue };
                    while let Some(buffer) = waiting.pop_front() {
                        // SAFETY: the buffer holds one complete entry, moved
                        // (not duplicated) into the ring.
                        let wrote = unsafe {
                            producer.try_write(buffer.len(), |w| w.copy_from_slice(&buffer))
                        };
                        match wrote {
                            Ok(()) => {}
                            Err(WriteError::Full) => {
                                waiting.push_front(buffer);
                                break;
                            }
                            Err(WriteError::Closed) => {
                                undeliverable.push(buffer);
                                undeliverable.extend(waiting.drain(..));
                            }
                        }
                    }
                    producer.publish();
                    wakes += producer.wakes();
                }
                wakes
            });
            self.shared().wakes.store(wakes, Ordering::Relaxed);
        }
        // User code may run in these drops: only now that no borrow is held.
        for buffer in undeliverable {
            self.drop_entry_buffer(DeadLetterCause::ShardExited, buffer);
        }
    }

    /// Drops everything still queued or in the rings into this shard, as
    /// dead letters (the shard is exiting).
    pub(crate) fn discard_everything(&self) {
        let cause = DeadLetterCause::ShardExited;
        for queue in self.queues.all() {
            while let Some(at) = queue.with(|q| q.front()) {
                // SAFETY: a complete entry.
                self.count_dead_letters(cause, usize::from(unsafe { entry::kind(at) }.is_letter()));
                // SAFETY: the front entry, dropped once (a panic in its
                // `Drop` is caught by its run function), then popped.
                let words = unsafe { entry::drop_entry(at) };
                queue.with(|q| q.pop_front(words));
            }
        }
        let rings: Vec<EntryConsumer> =
            self.rings.inbound().borrow_mut().iter_mut().filter_map(Option::take).collect();
        for mut ring in rings {
            while let Some(at) = ring.front() {
                // SAFETY: a complete entry.
                self.count_dead_letters(cause, usize::from(unsafe { entry::kind(at) }.is_letter()));
                // SAFETY: a complete entry, dropped once, then advanced past.
                let words = unsafe { entry::drop_entry(at) };
                ring.advance(words);
            }
            ring.release();
        }
        if let Some(envelope) = self.injection.take() {
            self.shared().discard(cause, envelope);
        }
        self.discard_backlogs(cause);
        let overflow: Vec<_> =
            self.rings.overflow().borrow_mut().iter_mut().flat_map(|q| q.drain(..)).collect();
        for buffer in overflow {
            self.drop_entry_buffer(cause, buffer);
        }
    }

    /// Nothing queued here and everything this shard sent has been taken by
    /// its receivers (or they are gone).
    fn is_quiescent(&self) -> bool {
        !self.has_work()
            && !self.rebuilds.any()
            && !self.rings.overflow_blocked()
            && !self.outboxes_wait()
            && self.backpressure.room_waiters().borrow().is_empty()
            && self.rings.outbound().with(|outbound| {
                outbound
                    .iter_mut()
                    .flatten()
                    .all(|ring| ring.is_closed() || (ring.staged() == 0 && ring.is_drained()))
            })
    }
}

/// What a pass may still run for `High` actors between a lower class's
/// messages (`left`), and has run (`ran`).
struct HighChecks {
    left: usize,
    ran: usize,
}

/// A ring taken out of the shard while its entries run; put back (and
/// advanced past an entry whose handler panicked) when dropped.
struct RingInUse<'a> {
    shard: &'a Shard,
    from: usize,
}

impl<'a> RingInUse<'a> {
    /// Puts `ring` in `Shard::ring_in_use` until dropped.
    fn new(shard: &'a Shard, from: usize, ring: EntryConsumer) -> Self {
        shard.rings.in_use().with(|in_use| {
            debug_assert!(in_use.is_none(), "one ring at a time");
            *in_use = Some(ring);
        });
        Self { shard, from }
    }

    /// Runs the ring's entries in order, up to one ring's worth, or up to
    /// one its run function leaves in place (the ring then waits).
    fn run_entries(self) -> usize {
        let shard = self.shard;
        let (mut budget, mut ran) = (usize::MAX, 0);
        while let Some(at) = shard.rings.in_use().with(|ring| {
            let ring = ring.as_mut().expect("in use");
            if budget == usize::MAX {
                budget = ring.capacity();
            }
            ring.front()
        }) {
            shard.rings.set_consumed(0);
            // SAFETY: the oldest published entry of a ring into this shard,
            // run once; its run function (and a batch that reads on) reports
            // the length of the entry last read (`consumed`) before any user
            // code runs.
            let words = unsafe { entry::run(shard.erased(), at, How::FromRing) };
            if words == 0 {
                // Left in place for an actor restarting with a full mailbox:
                // the ring waits until a restart ends (`ring_must_pause`).
                shard.rings.pause(self.from);
                break;
            }
            let taken = 1 + shard.turn.take_extra();
            let consumed = shard.rings.take_consumed();
            let release = ran / RELEASE_EVERY != (ran + taken) / RELEASE_EVERY;
            shard.rings.in_use().with(|ring| {
                let ring = ring.as_mut().expect("in use");
                if consumed > 0 {
                    ring.advance(consumed);
                }
                // The sender keeps publishing while we run its entries:
                // hand their words back as we go, or it finds the ring full
                // with only a few messages in flight.
                if release {
                    ring.release();
                }
            });
            ran += taken;
            // Counted as they run: a panic later in the pass loses none.
            shard.metrics.received_from(self.from, taken);
            budget = budget.saturating_sub(words * taken);
            if budget == 0 {
                break;
            }
        }
        ran
    }
}

impl Drop for RingInUse<'_> {
    fn drop(&mut self) {
        let shard = self.shard;
        let mut ring = shard.rings.in_use().with(Option::take).expect("in use");
        // A handler panicked: its entry was read; move past it.
        let consumed = shard.rings.take_consumed();
        if consumed > 0 {
            ring.advance(consumed);
        }
        ring.release();
        shard.rings.inbound().borrow_mut()[self.from] = Some(ring);
    }
}
