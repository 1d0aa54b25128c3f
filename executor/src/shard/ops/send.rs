//! Writing entries — messages within the mailbox bound, commands past it,
//! on this shard or into the ring to another — and opening them again (the
//! first step of every run function).

use std::sync::atomic::Ordering;

use crate::base::actor_fns::ActorFns;
use crate::base::drop_caught;
use crate::base::entry::{self, EntryFn, How};
use crate::base::tunables::PUBLISH_BATCH_WORDS;
use crate::shard::current::wake_other_shard;
use crate::shard::parts::slots::State;
use crate::shard::Shard;
use crate::types::schedule::Priority;
use crate::types::stats::DeadLetterCause;
use crate::SendError;

/// Why a message could not be queued.
pub(crate) enum Refusal {
    Full,
    Closed,
}

impl Shard {
    /// Called before a task (not a handler in a pass) sends anything: during
    /// the shutdown drain, a quiet shard becomes busy again (see
    /// [`Mesh::note_busy`]). Returns false once the drain is over: the send
    /// must be refused.
    ///
    /// Once the drain is over every send from a task is refused, also after
    /// its shard became busy again, so nothing is sent into shards that are
    /// exiting.
    #[inline(always)]
    pub(crate) fn note_send_outside_pass(&self) -> bool {
        if self.parking.in_pass() {
            return true;
        }
        if !self.mesh.drain.is_quiet(self.id as usize) {
            return !self.mesh.drain.is_sealed();
        }
        let busy = self.mesh.note_busy(self.id as usize);
        // The send may come to nothing (a stopped actor): make the loop look
        // at quiescence again anyway.
        self.parking.set_recheck();
        self.wake_dispatcher();
        busy
    }

    /// The first step of every run function, for an entry holding a `T`:
    /// moves the `T` out and tells where the entry was consumed from. A
    /// run-queue entry is popped at once (user code may push, and grow the
    /// queue, next); a ring entry's length is noted for the pass, which
    /// advances the ring. For `How::Drop` the `T` is dropped here (a panic in
    /// its `Drop` caught) and `None` comes back.
    ///
    /// # Safety
    ///
    /// As [`RunFn`], for an entry written by `entry::write::<T>`.
    #[inline(always)]
    pub(crate) unsafe fn open_entry<'a, T>(
        shard: *const (),
        at: *mut u64,
        how: How,
    ) -> Option<(&'a Shard, (u32, u32), T)> {
        if how == How::Measure {
            return None;
        }
        // SAFETY: a complete entry holding a `T`, read once.
        let (target, value) = unsafe { (entry::target(at), entry::read::<T>(at)) };
        if how == How::Drop {
            drop_caught(value);
            return None;
        }
        // SAFETY: not `Drop`, so `shard` is the running shard.
        let shard = unsafe { Shard::from_erased(shard) };
        match how {
            How::FromQueue => {
                shard.queues.serving().with(|q| q.pop_front(entry::entry_words::<T>()))
            }
            How::FromRing => shard.rings.set_consumed(entry::entry_words::<T>()),
            How::Held | How::Drop | How::Measure => {}
        }
        Some((shard, target, value))
    }

    // ----- local delivery ------------------------------------------------

    /// Queues `msg` for the actor at `slot` of this shard, within its
    /// mailbox bound. Messages for a slot reserved by a spawn still on its
    /// way wait for the actor.
    ///
    pub(crate) fn send_local<M: Send + 'static>(
        &self,
        fns: &'static ActorFns,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        let msg = match self.try_push_local(fns, slot, generation, msg) {
            Ok(()) => {
                self.wake_dispatcher();
                return Ok(());
            }
            Err(msg) => msg,
        };
        // Not queued: a live actor that is not stopping has a full mailbox;
        // a reserved slot keeps the message for its actor; anything else is
        // gone.
        let capacity = self.mailbox_capacity;
        let waits = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation => match s.state {
                State::Live if !s.stopping => Err(Refusal::Full),
                State::Reserved => Ok(false),
                // Restarting: queued within the bound like a live actor's
                // messages, and held for the new incarnation when it comes up.
                State::Restarting if !s.stopping && s.queued < capacity => {
                    s.queued += 1;
                    Ok(true)
                }
                State::Restarting if !s.stopping => Err(Refusal::Full),
                _ => Err(Refusal::Closed),
            },
            Some(_) => Err(Refusal::Closed),
            None if self.is_reserved_beyond(slot, generation) => Ok(false),
            None => Err(Refusal::Closed),
        });
        let target = entry::target_word(slot, generation);
        match waits {
            Ok(true) => {
                self.push_command(fns.run, target, msg);
                Ok(())
            }
            Ok(false) => {
                self.keep_pending(slot, fns.run, target, msg);
                Ok(())
            }
            Err(Refusal::Full) => Err(SendError::Full(msg)),
            Err(Refusal::Closed) => Err(SendError::Closed(msg)),
        }
    }

    /// Whether a send may take the fast paths ([`try_push_local`],
    /// [`try_write_remote`]): in a pass, or while the shard is not quiet in
    /// the shutdown drain (which [`note_send_outside_pass`] would have to
    /// record) and the drain is not over.
    ///
    /// [`try_push_local`]: Self::try_push_local
    /// [`try_write_remote`]: Self::try_write_remote
    /// [`note_send_outside_pass`]: Self::note_send_outside_pass
    #[inline(always)]
    pub(crate) fn may_send_fast(&self) -> bool {
        self.parking.in_pass()
            || (!self.mesh.drain.is_quiet(self.id as usize) && !self.mesh.drain.is_sealed())
    }

    /// Queues `msg` for the live actor at `slot` if it has room in its
    /// mailbox; hands it back otherwise (stopped, full, reserved, stale:
    /// [`send_local`](Self::send_local) sorts those out). A few compares and
    /// a push, inlined into the sender; it wakes nothing (the caller wakes
    /// the dispatch loop if it is parked). Only when
    /// [`may_send_fast`](Self::may_send_fast) or after
    /// [`note_send_outside_pass`](Self::note_send_outside_pass).
    #[inline(always)]
    pub(crate) fn try_push_local<M: Send + 'static>(
        &self,
        fns: &'static ActorFns,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), M> {
        let capacity = self.mailbox_capacity;
        let room = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s)
                if s.generation == generation
                    && s.state == State::Live
                    && !s.stopping
                    && s.queued < capacity =>
            {
                s.queued += 1;
                Some(s.priority)
            }
            _ => None,
        });
        let Some(priority) = room else { return Err(msg) };
        if priority != Priority::Normal {
            // Off the common path, so the `Normal` queue's address does not
            // wait for the slot's load.
            self.push_entry_of_class(priority, fns.run, entry::target_word(slot, generation), msg);
            return Ok(());
        }
        let at = self.queues.of(Priority::Normal).with(|q| q.reserve(entry::entry_words::<M>()));
        // SAFETY: the words just reserved, written before the queue is used
        // again. Written here, not in a closure, so the message is copied
        // once, from the sender's hands into the queue.
        unsafe { entry::write_at(at, fns.run, entry::target_word(slot, generation), msg) };
        Ok(())
    }

    /// Queues an entry in the run queue of class `priority` (off the common
    /// path of [`try_push_local`](Self::try_push_local), which is for
    /// `Normal` actors).
    #[cold]
    #[inline(never)]
    pub(crate) fn push_entry_of_class<M>(
        &self,
        priority: Priority,
        run: EntryFn,
        target: u64,
        msg: M,
    ) {
        self.queues
            .of(priority)
            .with(|q| q.push(entry::entry_words::<M>(), |w| entry::write(w, run, target, msg)));
    }

    /// Writes `msg` into the ring to shard `to` if there is room and no
    /// command waits for it; hands it back otherwise
    /// ([`send_remote`](Self::send_remote) tells full from closed).
    /// Published at once outside a pass; in one, at its end or once a batch
    /// is big. Only when [`may_send_fast`](Self::may_send_fast) or after
    /// [`note_send_outside_pass`](Self::note_send_outside_pass).
    #[inline(always)]
    pub(crate) fn try_write_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), M> {
        self.try_stage_remote(to, run, target, msg)?;
        let in_dispatch = self.parking.in_pass();
        self.publish_remote(to, in_dispatch);
        Ok(())
    }

    /// As [`try_write_remote`](Self::try_write_remote), without publishing:
    /// the caller publishes with [`publish_remote`](Self::publish_remote).
    #[inline(always)]
    pub(crate) fn try_stage_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), M> {
        if self.rings.overflow_waiting(to) {
            // Keep order behind commands still waiting for room.
            return Err(msg);
        }
        let words = entry::entry_words::<M>();
        let reserved = self.rings.outbound().with(|outbound| {
            let producer = outbound.get_mut(to as usize).and_then(Option::as_mut)?;
            // SAFETY: an entry of `entry_words::<M>` words, written whole
            // just below before the producer is used again; `M: Send`;
            // `entry::drop_entry` reads any entry.
            unsafe { producer.reserve(words) }.ok()
        });
        let Some(at) = reserved else { return Err(msg) };
        // SAFETY: the words just reserved. Written here, not in a closure, so
        // the message is copied once, into the ring.
        unsafe { entry::write_at(at, run, target, msg) };
        Ok(())
    }

    /// Publishes what is staged in the ring to shard `to` (one release
    /// store, at most one wake-up), unless `in_dispatch` and the batch is
    /// still small: the pass publishes it.
    #[inline(always)]
    pub(crate) fn publish_remote(&self, to: u16, in_dispatch: bool) {
        let wake = self.rings.outbound().with(|outbound| {
            let producer = outbound.get_mut(to as usize).and_then(Option::as_mut)?;
            if in_dispatch && producer.staged() < PUBLISH_BATCH_WORDS {
                return None;
            }
            producer.publish_deferring_wake()
        });
        if let Some(waker) = wake {
            wake_other_shard(waker);
        }
    }

    /// Whether `slot`, known to lie past the end of the table, was reserved by a spawn
    /// from another shard or thread (generation 0, index handed out).
    pub(crate) fn is_reserved_beyond(&self, slot: u32, generation: u32) -> bool {
        generation == 0 && slot < self.shared().next_slot.load(Ordering::Relaxed)
    }

    /// Keeps an entry for `msg` until the actor of reserved `slot` is built.
    pub(crate) fn keep_pending<M>(&self, slot: u32, run: EntryFn, target: u64, msg: M) {
        let words = entry::entry_words::<M>();
        let mut buffer = Box::new_uninit_slice(words);
        entry::write(&mut buffer, run, target, msg);
        self.slots.with(|slots| {
            slots.ensure(slot);
            slots.pending.entry(slot).or_default().push_back(buffer);
        });
    }

    /// Queues the entries that waited in [`Slots::pending`] for the actor at
    /// `slot`, in order. `count`: they were not counted against its mailbox
    /// yet (they waited for a spawn), so they are now, past the bound if
    /// they must; entries held for a restart are counted already.
    ///
    /// [`Slots::pending`]: crate::shard::parts::slots::Slots::pending
    pub(crate) fn queue_pending(
        &self,
        slot: u32,
        generation: u32,
        pending: std::collections::VecDeque<entry::EntryBuffer>,
        count: bool,
    ) {
        if count && !pending.is_empty() {
            self.slots.with(|slots| {
                if let Some(s) = slots.live(slot, generation) {
                    s.queued += pending.len() as u32;
                }
            });
        }
        let queue = self.queues.of(self.priority_of(slot));
        for buffer in pending {
            queue.with(|q| q.push(buffer.len(), |w| w.copy_from_slice(&buffer)));
        }
    }

    /// The class of the actor at `slot` (`Normal` for a slot not in use).
    pub(crate) fn priority_of(&self, slot: u32) -> Priority {
        self.slots
            .with(|slots| slots.slots.get(slot as usize).map_or(Priority::Normal, |s| s.priority))
    }

    /// Queues an entry for the actor at slot `target` behind what is queued
    /// in its class's run queue: a command for it (stop, restart, notice),
    /// or a message its caller has counted against its mailbox. Wakes the
    /// dispatch loop if it is parked.
    pub(crate) fn push_command<T>(&self, run: EntryFn, target: u64, payload: T) {
        self.push_entry_of_class(self.priority_of(target as u32), run, target, payload);
        self.wake_dispatcher();
    }

    // ----- remote delivery -------------------------------------------------

    /// Writes `msg` into the ring to shard `to`; published at the end of the
    /// current pass (or once a batch is big), or at once outside a pass.
    #[inline]
    pub(crate) fn send_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        match self.try_write_remote(to, run, target, msg) {
            Ok(()) => Ok(()),
            Err(msg) if self.ring_closed(to) => Err(SendError::Closed(msg)),
            // The ring is full, or commands wait for room before it.
            Err(msg) => Err(SendError::Full(msg)),
        }
    }

    /// Whether the ring to shard `to` is gone (that shard has exited).
    pub(crate) fn ring_closed(&self, to: u16) -> bool {
        self.rings.outbound().with(|outbound| {
            outbound.get(to as usize).and_then(Option::as_ref).is_none_or(|p| p.is_closed())
        })
    }

    /// Sends a command (stop, spawn, reply) to shard `to`; never refused: if
    /// the ring is full it waits in the overflow queue, and if the shard has
    /// exited it is a dead letter.
    pub(crate) fn send_command<T: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        payload: T,
    ) {
        // During the drain commands still mark the shard busy, and after it
        // they still go out (replies complete asks until the shards exit).
        let _ = self.note_send_outside_pass();
        match self.try_write_remote(to, run, target, payload) {
            Ok(()) => {}
            Err(payload) if self.ring_closed(to) => {
                self.count_dead_letters(
                    DeadLetterCause::ShardExited,
                    usize::from(run.kind.is_letter()),
                );
                drop_caught(payload);
            }
            Err(payload) => {
                // The ring is full, or commands wait before it: wait in line.
                let mut buffer = Box::new_uninit_slice(entry::entry_words::<T>());
                entry::write(&mut buffer, run, target, payload);
                self.rings.overflow().borrow_mut()[to as usize].push_back(buffer);
                self.wake_dispatcher();
            }
        }
    }
}
