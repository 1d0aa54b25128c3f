//! Parking: when a pass finds nothing to do, the loop polls for as long as
//! `IdlePoll` learned (at most `spin_before_park`), then sleeps on its
//! doorbell until a ring, the injector, a local sender or the mesh wakes
//! it. A shard's tasks look on its behalf while it sleeps (`task_polled`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::future::yield_now;
use std::sync::atomic::Ordering;

use crate::base::tunables::{SPIN_CHECKS_PER_YIELD, TURNS_PER_CLOCK_READ};
use crate::mesh::phase;
use crate::shard::parts::parking::MeshView;
use crate::shard::Shard;

impl Shard {
    /// Wakes the dispatch loop if it is parked and the caller is not the
    /// dispatch loop itself (a task, a timer, a piped future).
    ///
    /// The waker is taken out before it is called: the wake-up may run
    /// arbitrary code of an embedding program (even drop this shard's
    /// future, see [`with_current`]), so no borrow may be held across it.
    #[inline(always)]
    pub(crate) fn wake_dispatcher(&self) {
        if self.parking.is_idle() && !self.parking.in_pass() {
            let waker = self.parking.take_dispatcher();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// The mesh state the loop acted on.
    pub(crate) fn mesh_view(&self) -> MeshView {
        MeshView { phase: self.mesh.phase(), nudges: self.mesh.nudges.load(Ordering::SeqCst) }
    }

    /// Work arrived, the mesh moved on since `seen`, a task's send during
    /// the drain asks the loop to look at quiescence again, or a full ring
    /// that commands or tasks wait on has room.
    fn should_wake(&self, seen: MeshView) -> bool {
        self.parking.recheck()
            || self.has_work()
            || self.mesh_view() != seen
            || self.room_appeared()
            || self.shared().room_news.load(Ordering::SeqCst)
    }

    /// A task of the shard was polled (see [`spawn_task`]): count it, and
    /// if the loop is parked, look on its behalf at everything that would
    /// wake it, and wake it (locally: at once) if something came.
    ///
    /// [`spawn_task`]: crate::shard::spawn_task
    pub(crate) fn task_polled(&self) {
        self.parking.count_task_poll();
        if let Some(seen) = self.parking.parked_on() {
            if self.should_wake(seen) {
                self.wake_dispatcher();
            }
        }
    }

    /// Whether a pass now would find something to do.
    pub(crate) fn has_work(&self) -> bool {
        // The injector waits behind a held message, and a held message that
        // waits for a restart to end is no work until it ends.
        let injected = self.injection.has_work(|| self.shared().injector.is_empty());
        if injected || self.queues.any_queued() {
            return true;
        }
        self.rings.any_unpaused_entries()
    }

    /// Waits for work: polls for the bound `IdlePoll` learned (at most
    /// `spin_before_park`), then parks on the doorbell until a ring, the
    /// injector or a local sender wakes us; then learns from how long it
    /// waited since `started`, and returns that (one clock read for both).
    ///
    /// The poll checks the rings in a tight loop and lets the executor's
    /// other tasks run only every [`SPIN_CHECKS_PER_YIELD`] checks: a yield
    /// costs a trip through glommio's scheduler, which would otherwise sit
    /// between a message's arrival and its notice.
    pub(crate) async fn idle_wait(&self, seen: MeshView, started: Instant) -> Duration {
        let limit = self.mesh.config.spin_before_park;
        let awaiting_answers = self.replies.borrow().open_asks() > 0;
        let spin = self.idle_poll.start(limit, awaiting_answers);
        let parked = self.poll_then_park(seen, started, spin).await;
        let waited = started.elapsed();
        self.idle_poll.ended(awaiting_answers, waited, parked, limit);
        waited
    }

    /// The idle period: polls for `spin`, then parks. Returns whether it
    /// parked.
    async fn poll_then_park(&self, seen: MeshView, started: Instant, spin: Duration) -> bool {
        if !spin.is_zero() {
            // At most a second after `started` (`ShardConfig::validate`).
            let until = started + spin;
            let mut checks = SPIN_CHECKS_PER_YIELD;
            let mut turns = 0u32;
            'spin: loop {
                for _ in 0..checks {
                    if self.should_wake(seen) {
                        return false;
                    }
                    std::hint::spin_loop();
                }
                // While other tasks run, a turn is one check and a yield, and
                // reading the clock each turn would be a fifth of it (and of
                // how long a task spinning beside us waits for its turn):
                // read it every `TURNS_PER_CLOCK_READ` turns then.
                turns = turns.wrapping_add(1);
                let read_clock = checks > 0 || turns % TURNS_PER_CLOCK_READ == 0;
                if read_clock && Instant::now() >= until {
                    break 'spin;
                }
                let polls = self.parking.task_polls();
                yield_now().await;
                if self.should_wake(seen) {
                    return false;
                }
                // A task of the shard ran meanwhile: it shares this core and
                // spins or works too, so check once per turn (the check just
                // above), not a batch of checks that would delay it by a
                // microsecond each turn.
                checks = if self.parking.task_polls() == polls { SPIN_CHECKS_PER_YIELD } else { 0 };
            }
        }
        match self.mesh.until_deadline().filter(|_| seen.phase == phase::DRAINING) {
            // Draining: wake up for the deadline too.
            Some(left) => {
                futures_lite::future::or(self.park(seen), glommio::timer::sleep(left)).await
            }
            None => self.park(seen).await,
        }
        true
    }

    pub(crate) fn park(&self, seen: MeshView) -> Park<'_> {
        Park { shard: self, seen, parked: false }
    }
}

/// Parks the dispatch loop: announce on the doorbell (and on each full ring
/// that something waits to write to), re-check, sleep.
pub(crate) struct Park<'a> {
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
            shard.parking.set_parked_on(None);
            shard.metrics.count_wakeup();
            tracing::trace!(shard = shard.id, "shard woke");
            doorbell.cancel_park();
            shard.parking.set_idle(false);
            return Poll::Ready(());
        }
        shard.parking.set_dispatcher(cx.waker());
        shard.parking.set_idle(true);
        doorbell.prepare_park(cx.waker());
        // A ring we wait to write to wakes us too when it frees words.
        if shard.arm_room_waits(cx.waker()) || shard.should_wake(self.seen) {
            doorbell.cancel_park();
            shard.parking.set_idle(false);
            return Poll::Ready(());
        }
        self.parked = true;
        shard.parking.set_parked_on(Some(self.seen));
        shard.metrics.count_park();
        tracing::trace!(shard = shard.id, "shard parks");
        Poll::Pending
    }
}

impl Drop for Park<'_> {
    fn drop(&mut self) {
        // Dropped while parked (the shutdown deadline came first): running.
        if self.parked {
            self.shard.parking.set_parked_on(None);
            self.shard.shared().doorbell.cancel_park();
            self.shard.parking.set_idle(false);
        }
    }
}
