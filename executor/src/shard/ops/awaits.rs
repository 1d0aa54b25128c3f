//! Actors that await: [`Context::wait`](crate::Context::wait) holds an
//! actor's mailbox while a future runs, and
//! [`Context::add_stream`](crate::Context::add_stream) polls a stream only
//! while the actor's mailbox has room.
//!
//! **Waits.** A wait holds its actor back (see `shard::ops::backpressure`):
//! messages that reach it meanwhile wait in its inbox, counted against its
//! mailbox bound, so its senders feel the backpressure. The futures of an
//! actor's waits run one after the other, in the order they were started,
//! polled by one task per incarnation (`shard::parts::awaits`). A finished
//! wait's message goes to the actor's *results*, and a release entry in the
//! run queue hands the results to the actor before anything in its inbox;
//! once no wait is left, its inbox runs and it is let go. A restart or a
//! stop cancels its waits: their futures are dropped unfinished.
//!
//! **Streams.** A stream attached to an actor is a task of the actor that
//! takes an item only when the actor's mailbox has room, and sends it as a
//! message. While the mailbox is full the task sleeps; the next message the
//! actor is handed wakes it (`Slot::room_wanted`).

use std::task::{Context, Poll};

use crate::base::entry::{self, EntryFn, How};
use crate::mesh::phase;
use crate::shard::parts::awaits::Awaits;
use crate::shard::parts::outbox::Backlog;
use crate::shard::parts::slots::{Slots, State};
use crate::shard::{with_current, Shard};
use crate::types::stats::DeadLetterCause;

/// Entry: hand the actor at the target the results of its finished waits,
/// then, once it awaits nothing, its inbox (written with `()`).
const RELEASE: EntryFn = EntryFn::command(run_release);

/// The run function of [`RELEASE`].
///
/// # Safety
///
/// As [`entry::RunFn`], for an entry written with `()` and this function.
unsafe fn run_release(shard: *const (), at: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller; the entry holds a `()`.
    if let Some((shard, (slot, generation), ())) = unsafe { Shard::open_entry(shard, at, how) } {
        shard.release(slot, generation);
    }
    entry::entry_words::<()>()
}

impl Shard {
    /// Starts `future` (which ends by calling [`wait_finished`]) for the
    /// live actor at `slot` and holds the actor back until it finishes.
    /// False, and `future` dropped unpolled, if the actor is not live or
    /// the runtime is shutting down.
    ///
    /// [`wait_finished`]: Self::wait_finished
    pub(crate) fn start_wait(
        &self,
        slot: u32,
        generation: u32,
        future: impl std::future::Future<Output = ()> + 'static,
    ) -> bool {
        if self.mesh.phase() != phase::RUNNING {
            return false;
        }
        let started = self.slots.with(|slots| {
            let s = slots.live(slot, generation)?;
            self.hold_back(s);
            let backlog = slots.backlogs.entry(slot).or_insert_with(Backlog::boxed);
            backlog.waits += 1;
            let first = backlog.awaits.is_none();
            let awaits = backlog.awaits.get_or_insert_with(Default::default).clone();
            Some((awaits, first))
        });
        let Some((awaits, first)) = started else { return false };
        if first {
            let polled = awaits.clone();
            let (mesh, incarnation) = (self.mesh.id, self.incarnation(slot));
            self.start_job(slot, generation, async move {
                std::future::poll_fn(|cx| {
                    drive(&polled, cx, mesh, (slot, generation, incarnation))
                })
                .await;
            });
        }
        awaits.push(future);
        true
    }

    /// A wait of the actor at `slot` finished with `msg` (for `run`): it
    /// joins the actor's results, handed to it by a release entry. A dead
    /// letter if the actor is no longer live (cancelled while it finished).
    pub(crate) fn wait_finished<M: Send + 'static>(
        &self,
        slot: u32,
        generation: u32,
        incarnation: u32,
        run: EntryFn,
        msg: M,
    ) {
        let target = entry::target_word(slot, generation);
        let mut stale = false;
        let kept = self.slots.with(|slots| {
            // Started by an incarnation that has restarted since (the wait
            // was cancelled while its future finished): not for this one.
            stale = slots.incarnation(slot) != incarnation;
            let waiting = !stale
                && slots.live(slot, generation).is_some()
                && slots.backlogs.get(&slot).is_some_and(|b| b.waits > 0);
            if !waiting {
                return Err(msg);
            }
            slots.slots[slot as usize].queued += 1;
            let backlog = slots.backlogs.get_mut(&slot).expect("it waits");
            backlog.waits -= 1;
            backlog.keep_result(entry::entry_words::<M>(), |w| entry::write(w, run, target, msg));
            Ok(())
        });
        match kept {
            Ok(()) => self.release_later(slot, generation),
            Err(msg) => {
                let restarting =
                    stale || self.slots.with(|slots| slots.is_restarting(slot, generation));
                let cause = if restarting {
                    DeadLetterCause::DroppedOnRestart
                } else {
                    self.mesh.stop_cause()
                };
                self.dead_letter(cause, msg);
            }
        }
    }

    /// A wait of incarnation `incarnation` of the actor at `slot`
    /// panicked: it is over (with no result), and the panic is a failure
    /// of the actor.
    fn wait_panicked(
        &self,
        slot: u32,
        generation: u32,
        incarnation: u32,
        panic: &(dyn std::any::Any + Send),
    ) {
        if self.incarnation(slot) != incarnation {
            // Of an incarnation already gone.
            return;
        }
        let live = self.slots.with(|slots| {
            slots.live(slot, generation)?;
            let backlog = slots.backlogs.get_mut(&slot).filter(|b| b.waits > 0)?;
            backlog.waits -= 1;
            Some(())
        });
        if live.is_some() {
            self.release_later(slot, generation);
        }
        self.task_panicked(slot, generation, panic);
    }

    /// Queues a release entry for the actor at `slot` (and wakes the loop).
    fn release_later(&self, slot: u32, generation: u32) {
        // During the shutdown drain, a quiet shard has work again.
        let _ = self.note_send_outside_pass();
        self.push_command(RELEASE, entry::target_word(slot, generation), ());
    }

    /// The shutdown drain begins, and every job with it is cancelled: the
    /// waits end (their futures are dropped, no result comes) and each
    /// waiting actor is released, so what waits in its inbox is handled in
    /// the drain.
    pub(crate) fn end_all_waits(&self) {
        let ended: Vec<_> = self.slots.with(|slots| {
            let Slots { slots: table, backlogs, .. } = slots;
            backlogs
                .iter_mut()
                .filter(|(_, b)| b.waits > 0 || b.awaits.is_some())
                .map(|(&slot, b)| (slot, table[slot as usize].generation, b.end_waits()))
                .collect()
        });
        for (slot, generation, awaits) in ended {
            self.cancel_waits(awaits);
            self.push_command(RELEASE, entry::target_word(slot, generation), ());
        }
    }

    /// Cancels the waits of the actor whose backlog handed them over
    /// (`Backlog::end_waits`): their futures are dropped, here, outside
    /// any borrow.
    pub(crate) fn cancel_waits(&self, awaits: Option<std::rc::Rc<Awaits>>) {
        if let Some(awaits) = awaits {
            awaits.cancel();
        }
    }

    /// Whether the mailbox of incarnation `incarnation` of the actor at
    /// `slot` has room: `Ready(true)` if it has, `Ready(false)` if that
    /// incarnation is gone, `Pending` (with the task's waker kept for the
    /// next message it is handed) if it is full. The waker is always a
    /// glommio task's (a stream's task of this shard): waking or dropping
    /// it under the slots' borrow only schedules or frees that task.
    pub(crate) fn poll_room(
        &self,
        slot: u32,
        generation: u32,
        incarnation: u32,
        cx: &mut Context<'_>,
    ) -> Poll<bool> {
        let capacity = self.mailbox_capacity;
        self.slots.with(|slots| {
            if slots.incarnation(slot) != incarnation {
                return Poll::Ready(false);
            }
            let s = match slots.slots.get_mut(slot as usize) {
                Some(s)
                    if s.generation == generation
                        && matches!(s.state, State::Live | State::Restarting) =>
                {
                    s
                }
                _ => return Poll::Ready(false),
            };
            if s.queued < capacity {
                return Poll::Ready(true);
            }
            s.room_wanted = true;
            let wakers = slots.room_wakers.entry(slot).or_default();
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

/// The body of the task that polls the waits of an actor's incarnation
/// (`actor`: its slot, generation and incarnation): a panic in one is a
/// failure of the actor.
fn drive(awaits: &Awaits, cx: &mut Context<'_>, mesh: u32, actor: (u32, u32, u32)) -> Poll<()> {
    let (slot, generation, incarnation) = actor;
    awaits.poll(cx, |panic| {
        with_current(|shard| {
            if let Some(shard) = shard.filter(|s| s.mesh.id == mesh) {
                shard.wait_panicked(slot, generation, incarnation, &*panic);
            }
        });
    })
}
