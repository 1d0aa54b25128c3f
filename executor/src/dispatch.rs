//! The shard's dispatch loop: drain the rings, run ready actors under a
//! fairness budget, publish outgoing batches once per pass, park when idle,
//! and walk through the shutdown phases.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::future::yield_now;
use whirl_mailbox::PushError;

use crate::mesh::{phase, Mesh};
use crate::shard::{CurrentShard, Shard};
use crate::stats::DeadLetterCause;

/// Envelopes taken from the injection queue per pass, so foreign threads
/// cannot starve the rings.
const INJECTOR_BATCH: usize = 256;

/// Runs shard `id` of `mesh` on the current glommio executor until the mesh
/// has shut down. Resolves to `false` at once if that shard already runs or
/// ran.
///
/// The shard's ring ends are taken now, not at the first poll: from here on
/// the mesh counts on this future. However it ends (shutdown, a panic, or the
/// program dropping it, even unpolled), the shard is then marked exited, so
/// shutdown never waits for it and work sent to it is dropped as dead
/// letters instead of kept forever.
pub fn run_shard(mesh: Arc<Mesh>, id: usize) -> impl Future<Output = bool> {
    let ends = mesh.take_ends(id).map(|ends| (ends, ExitGuard { mesh: mesh.clone(), id }));
    async move {
        let Some((ends, _exit)) = ends else { return false };
        let shard = Shard::new(mesh, id, ends);
        let _current = CurrentShard::enter(shard.clone());
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

impl Shard {
    async fn dispatch_loop(self: &Rc<Self>) {
        let mut draining = false;
        let mut stopped = false;
        loop {
            // Read before the pass: whatever the mesh does after this is
            // noticed by `should_wake` before the shard parks.
            let seen = self.mesh_view();
            let phase = seen.phase;
            if phase == phase::DRAINING {
                if !draining {
                    draining = true;
                    self.cancel_all_jobs();
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
            if work > 0 {
                // Let the executor's other tasks (piped futures, timers,
                // block_on) run between passes.
                yield_now().await;
                continue;
            }
            if phase == phase::DONE && self.mesh.shutdown_waiters_on_shards() == 0 {
                // Every actor is stopped and no program awaits the shutdown
                // on a shard. Programs still waiting on something else are
                // cancelled (their `block_on` returns `ShutDown`); one more
                // turn of the executor drops them.
                self.cancel_programs();
                yield_now().await;
                break;
            }
            if phase == phase::DRAINING && self.is_quiescent() {
                self.mesh.note_quiet(self.id as usize);
            }
            if self.overflow_blocked() {
                // A ring we must write to is full and its consumer will not
                // ring us when it drains: look again shortly.
                glommio::timer::sleep(Duration::from_micros(50)).await;
                continue;
            }
            self.idle_wait(seen).await;
        }
    }

    /// One pass: drain inbound rings and the injector, run every actor that
    /// was ready when the pass began for up to its budget, then publish every
    /// outgoing ring once. Returns the envelopes and messages processed.
    pub(crate) fn pass(&self) -> usize {
        if self.mesh.drain.is_quiet(self.id as usize) {
            // Shutdown drain: become busy before taking anything (see
            // `Mesh::note_busy`), or take nothing.
            if !self.has_work() {
                return 0;
            }
            self.mesh.note_busy(self.id as usize);
        }
        self.in_dispatch.set(true);
        let mut work = self.drain_inbound();
        let ready = self.ready.borrow().len();
        for _ in 0..ready {
            let Some(slot) = self.ready.borrow_mut().pop_front() else { break };
            work += self.run_turn(slot).max(1);
        }
        self.flush_outbound();
        self.in_dispatch.set(false);
        self.offer_free_slots();
        let shared = self.shared();
        shared.queued.store(self.queued.get(), Ordering::Relaxed);
        shared.slots.store(self.slab.borrow().slots.len(), Ordering::Relaxed);
        work
    }

    fn drain_inbound(&self) -> usize {
        let mut work = 0;
        let rings = self.inbound.borrow().len();
        for from in 0..rings {
            // Take the ring out while delivering: delivery runs user code
            // (hooks, factories) that never touches inbound rings, but the
            // borrow must not be held across it.
            let Some(mut ring) = self.inbound.borrow_mut()[from].take() else { continue };
            let capacity = ring.capacity();
            // A message for a full mailbox stops this ring until the actor
            // has made room: backpressure to the sending shard.
            work += ring.pop_until(capacity, |envelope| self.offer(envelope)).unwrap_or(0);
            self.inbound.borrow_mut()[from] = Some(ring);
        }
        work + self.drain_injector()
    }

    /// Delivers envelopes from threads outside the runtime, bounded like
    /// everything else: a message for a full mailbox is held, and the
    /// injector waits behind it, so its senders see `Full`.
    fn drain_injector(&self) -> usize {
        let mut work = 0;
        let held = self.held.borrow_mut().take();
        if let Some(envelope) = held {
            if let Err(envelope) = self.offer(envelope) {
                *self.held.borrow_mut() = Some(envelope);
                return 0;
            }
            work += 1;
        }
        let injector = &self.shared().injector;
        for _ in 0..INJECTOR_BATCH {
            let Some(envelope) = injector.pop() else { break };
            work += 1;
            if let Err(envelope) = self.offer(envelope) {
                *self.held.borrow_mut() = Some(envelope);
                break;
            }
        }
        work
    }

    /// Moves waiting control envelopes into their rings and publishes every
    /// ring with staged envelopes: one release store per ring per pass.
    fn flush_outbound(&self) {
        let mut undeliverable = Vec::new();
        {
            let mut outbound = self.outbound.borrow_mut();
            let mut overflow = self.overflow.borrow_mut();
            let mut wakes = 0;
            for (producer, waiting) in outbound.iter_mut().zip(overflow.iter_mut()) {
                let Some(producer) = producer else { continue };
                while let Some(envelope) = waiting.pop_front() {
                    match producer.stage(envelope) {
                        Ok(()) => {}
                        Err(PushError::Full(envelope)) => {
                            waiting.push_front(envelope);
                            break;
                        }
                        Err(PushError::Closed(envelope)) => {
                            undeliverable.push(envelope);
                            undeliverable.extend(waiting.drain(..));
                        }
                    }
                }
                producer.publish();
                wakes += producer.wakes();
            }
            self.shared().wakes.store(wakes, Ordering::Relaxed);
        }
        // User code may run in these drops: only now that no borrow is held.
        for envelope in undeliverable {
            self.dead_letter(DeadLetterCause::ShardExited, envelope);
        }
    }

    /// The mesh state the loop acted on.
    fn mesh_view(&self) -> MeshView {
        MeshView { phase: self.mesh.phase(), nudges: self.mesh.nudges.load(Ordering::SeqCst) }
    }

    /// Work arrived, or the mesh moved on since `seen`.
    fn should_wake(&self, seen: MeshView) -> bool {
        self.has_work() || self.mesh_view() != seen
    }

    /// Whether a pass now would find something to do.
    pub(crate) fn has_work(&self) -> bool {
        if !self.ready.borrow().is_empty()
            || !self.shared().injector.is_empty()
            || self.held.borrow().is_some()
        {
            return true;
        }
        self.inbound.borrow_mut().iter_mut().flatten().any(|ring| !ring.is_empty())
    }

    /// Control envelopes wait for a full ring.
    fn overflow_blocked(&self) -> bool {
        self.overflow.borrow().iter().any(|queue| !queue.is_empty())
    }

    /// Nothing queued here and everything this shard sent has been taken by
    /// its receivers.
    fn is_quiescent(&self) -> bool {
        !self.has_work()
            && !self.overflow_blocked()
            && self
                .outbound
                .borrow_mut()
                .iter_mut()
                .flatten()
                .all(|ring| ring.staged() == 0 && ring.free_slots() == ring.capacity())
    }

    /// Waits for work: polls for `spin_before_park`, then parks on the
    /// doorbell until a ring, the injector or a local sender wakes us.
    ///
    /// The poll checks the rings in a tight loop and lets the executor's
    /// other tasks run only every [`SPIN_CHECKS_PER_YIELD`] checks: a yield
    /// costs a trip through glommio's scheduler, which would otherwise sit
    /// between a message's arrival and its notice.
    async fn idle_wait(&self, seen: MeshView) {
        let spin = self.mesh.config.spin_before_park;
        if !spin.is_zero() {
            let until = Instant::now() + spin;
            'spin: loop {
                for _ in 0..SPIN_CHECKS_PER_YIELD {
                    if self.should_wake(seen) {
                        return;
                    }
                    std::hint::spin_loop();
                }
                if Instant::now() >= until {
                    break 'spin;
                }
                yield_now().await;
                if self.should_wake(seen) {
                    return;
                }
            }
        }
        let park = Park { shard: self, seen, parked: false };
        match self.mesh.until_deadline().filter(|_| seen.phase == phase::DRAINING) {
            // Draining: wake up for the deadline too.
            Some(left) => futures_lite::future::or(park, glommio::timer::sleep(left)).await,
            None => park.await,
        }
    }
}

/// What a shard last saw of the mesh: its phase, and how many times shards
/// were asked to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MeshView {
    phase: u8,
    nudges: u64,
}

/// Ring checks between two yields to the executor while spinning.
const SPIN_CHECKS_PER_YIELD: usize = 64;

/// Parks the dispatch loop: announce on the doorbell, re-check, sleep.
struct Park<'a> {
    shard: &'a Shard,
    seen: MeshView,
    parked: bool,
}

impl Future for Park<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shard = self.shard;
        let doorbell = &shard.shared().doorbell;
        if self.parked {
            // Woken by a ring, the injector, a local sender or the mesh.
            self.parked = false;
            doorbell.cancel_park();
            shard.idle.set(false);
            return Poll::Ready(());
        }
        {
            let mut dispatcher = shard.dispatcher.borrow_mut();
            if !dispatcher.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *dispatcher = Some(cx.waker().clone());
            }
        }
        shard.idle.set(true);
        doorbell.prepare_park(cx.waker());
        if shard.should_wake(self.seen) {
            doorbell.cancel_park();
            shard.idle.set(false);
            return Poll::Ready(());
        }
        self.parked = true;
        Poll::Pending
    }
}

impl Drop for Park<'_> {
    fn drop(&mut self) {
        // Dropped while parked (the shutdown deadline came first): running.
        if self.parked {
            self.shard.shared().doorbell.cancel_park();
            self.shard.idle.set(false);
        }
    }
}
