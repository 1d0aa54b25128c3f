//! Backpressure from handlers: [`Context::send`](crate::Context::send), a
//! send that never drops and never blocks the shard.
//!
//! A handler cannot await. When its send finds the receiver's mailbox (same
//! shard) or the ring to the receiver's shard full, the message waits in
//! the sending actor's *outbox*, in order, and the sender is *held back*:
//! it is handed nothing new. Messages that reach it meanwhile wait in its
//! *inbox*, counted against its own mailbox bound, so its senders on its
//! shard find it full in turn. Once its mailbox is full it is published as
//! *full* (`ShardShared::full`): `Context::send`s on other shards then keep
//! their messages for it in their own outboxes, and are woken when it has
//! room again. (A ring does not wait for a held-back actor, as it does for
//! a restarting one: the actor's release may need that very ring to drain,
//! even with no cycle among the actors, since every actor of two shards
//! shares it. Plain `ActorRef::send`s from other shards are therefore kept
//! past the bound.) Backpressure flows upstream through the actor graph,
//! like tokio's `Sender::reserve`, without an await.
//!
//! At the end of each pass the shard moves what fits from each outbox to
//! its receivers, as words, in order. An outbox that empties *releases* its
//! actor: the messages in its inbox run, in order, until it is held back
//! again or the inbox is empty. The outbox and inbox of an actor are two
//! [`RunQueue`]s kept for the actor's life, so holding it back again
//! allocates nothing.
//!
//! An actor that stops for good with messages in its outbox leaves them to
//! be delivered (an *orphan* outbox); what waited in its inbox is counted as
//! dead letters, like the rest of a stopped actor's mailbox. Actors that
//! wait on each other in a cycle, each with a full mailbox, wait forever, as
//! bounded channels in a cycle do.

use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, Ordering};

use whirl_mailbox::entry_ring::WriteError;

use crate::base::entry::{self, EntryFn, How, Kind, MAX_ENTRY_WORDS};
use crate::shard::parts::outbox::{Backlog, Outbox};
use crate::shard::parts::slots::{Slot, Slots, State};
use crate::shard::Shard;
use crate::types::stats::DeadLetterCause;
use crate::SendError;

/// How far one outbox got.
enum Drained {
    /// Everything went out.
    Empty,
    /// Its first entry waits for room in the mailbox of the actor of this
    /// shard at `(slot, generation)`.
    Here((u32, u32)),
    /// Its first entry waits: for `words` free words in the ring to shard
    /// `to` (`Some((to, words))`), or (`None`) for a full actor on another
    /// shard, whose shard wakes this one.
    Waiting(Option<(u16, usize)>),
}

impl Shard {
    /// Puts `msg` (for the actor at `target` on shard `to`, run by `run`) at
    /// the end of the outbox of the actor at `from` and holds the actor
    /// back; `Full` if its outbox holds a mailbox's worth.
    #[cold]
    #[inline(never)]
    pub(crate) fn keep_in_outbox<M: Send + 'static>(
        &self,
        from: (u32, u32),
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), SendError<M>> {
        let (slot, generation) = from;
        let capacity = self.mailbox_capacity as usize;
        let kept = self.slots.with(|slots| {
            let backlog = slots.backlogs.entry(slot).or_insert_with(Backlog::boxed);
            if backlog.outbox.len() >= capacity {
                return Err(msg);
            }
            backlog.keep_sent(to, entry::entry_words::<M>(), |w| entry::write(w, run, target, msg));
            let first = backlog.outbox.len() == 1;
            let s = &mut slots.slots[slot as usize];
            if s.generation == generation {
                self.hold_back(s);
            }
            Ok(first)
        });
        match kept {
            Ok(first) => {
                if first {
                    self.backpressure.outboxes().borrow_mut().push((slot, generation));
                }
                Ok(())
            }
            Err(msg) => Err(SendError::Full(msg)),
        }
    }

    /// Marks the actor in `s` held back (counted in `held_back_actors`).
    pub(crate) fn hold_back(&self, s: &mut Slot) {
        if !s.held_back {
            s.held_back = true;
            self.backpressure.hold_back();
        }
    }

    /// Lets the actor in `s` be handed messages again.
    pub(crate) fn let_go(&self, s: &mut Slot) {
        if s.held_back {
            s.held_back = false;
            self.backpressure.let_go();
        }
    }

    /// A message (or stop) reached the held-back actor at `slot`: it waits
    /// in the actor's inbox. `count`: add it to the slot's `queued` (it was
    /// not counted on its way: from a ring, or a stop).
    pub(crate) fn keep_for_later<T>(
        &self,
        slot: u32,
        generation: u32,
        run: EntryFn,
        value: T,
        count: bool,
    ) {
        let is_stop = run.kind == Kind::Stop;
        let full = self.slots.with(|slots| {
            let s = &mut slots.slots[slot as usize];
            if count && !is_stop {
                s.queued += 1;
            }
            let full = s.queued >= self.mailbox_capacity;
            let backlog = slots.backlogs.entry(slot).or_insert_with(Backlog::boxed);
            let target = entry::target_word(slot, generation);
            backlog.keep_received(is_stop, entry::entry_words::<T>(), |w| {
                entry::write(w, run, target, value)
            });
            full
        });
        if full {
            self.publish_full(slot, generation, true);
        }
    }

    /// Publishes whether the actor at `slot` is held back with a full
    /// mailbox. Only this shard writes its `full` table.
    ///
    /// Clearing wakes the shards whose outboxes wait for it: the store and
    /// the swap of `full_waiters` are separated by a SeqCst fence, as are a
    /// waiter's `fetch_or` and its second look at the flag
    /// ([`wait_for_room_at`]): either the waiter sees the flag cleared, or
    /// this sees its bit and rings its doorbell.
    pub(crate) fn publish_full(&self, slot: u32, generation: u32, full: bool) {
        let shared = self.shared();
        let value = if full { generation.wrapping_add(1) } else { 0 };
        if shared.full.get(slot) == value {
            return;
        }
        shared.full.set(slot, value);
        if full {
            return;
        }
        fence(Ordering::SeqCst);
        let waiters = shared.full_waiters.swap(0, Ordering::SeqCst);
        for (i, other) in self.mesh.shards.iter().enumerate() {
            if waiters & waiter_bit(i) != 0 {
                // Before the ring: a loop that is not parked yet sees it in
                // `should_wake` (the doorbell's own barriers order the two).
                other.room_news.store(true, Ordering::SeqCst);
                other.doorbell.ring(&mut 0);
            }
        }
    }

    /// Step 4 of a pass: moves what fits from every outbox to its receivers
    /// and releases the actors whose outbox emptied. Returns the entries
    /// moved. Each outbox is taken out of its place while it drains and put
    /// back (no allocation: the place keeps its capacity).
    pub(crate) fn flush_outboxes(&self) -> usize {
        let mut moved = 0;
        // News of room is acted on now; later news sets it again.
        self.shared().room_news.store(false, Ordering::SeqCst);
        self.rings.room_wanted().borrow_mut().fill(0);
        let mut i = 0;
        loop {
            let Some(mut orphan) = take_at(&mut self.backpressure.orphans().borrow_mut(), i) else {
                break;
            };
            match self.drain(&mut orphan, &mut moved) {
                Drained::Empty => {}
                waiting => {
                    if let Drained::Waiting(room) = waiting {
                        self.want_room(room);
                    }
                    put_at(&mut self.backpressure.orphans().borrow_mut(), i, orphan);
                    i += 1;
                }
            }
        }
        self.flush_local_waits(&mut moved);
        let mut i = 0;
        loop {
            let Some(&sender) = self.backpressure.outboxes().borrow().get(i) else { break };
            match self.drain_outbox_of(sender, &mut moved) {
                None => {
                    self.backpressure.outboxes().borrow_mut().swap_remove(i);
                }
                Some(Drained::Here(target)) => {
                    self.backpressure.outboxes().borrow_mut().swap_remove(i);
                    self.backpressure.local_waits().borrow_mut().push_back(target, sender);
                }
                Some(Drained::Waiting(room)) => {
                    self.want_room(room);
                    i += 1;
                }
                Some(Drained::Empty) => {
                    self.backpressure.outboxes().borrow_mut().swap_remove(i);
                    self.release(sender.0, sender.1);
                }
            }
        }
        moved
    }

    /// Moves the outboxes that wait for actors of this shard, each actor's
    /// in turn while it has room. No borrow of the waits is held while an
    /// outbox drains or an actor is released (a handler runs then, and may
    /// stop senders that wait).
    fn flush_local_waits(&self, moved: &mut usize) {
        let mut w = 0;
        loop {
            let target = self.backpressure.local_waits().borrow().target(w);
            let Some(target) = target else { break };
            loop {
                let (slot, generation) = target;
                let full = self.slots.with(|slots| {
                    room_here(slots, slot, generation, self.mailbox_capacity) == Room::Full
                });
                if full {
                    break;
                }
                let Some(sender) = self.backpressure.local_waits().borrow_mut().pop_front(w) else {
                    break;
                };
                match self.drain_outbox_of(sender, moved) {
                    None => {}
                    Some(Drained::Here(again)) if again == target => {
                        self.backpressure.local_waits().borrow_mut().push_front(w, target, sender);
                        break;
                    }
                    Some(Drained::Here(other)) => {
                        self.backpressure.local_waits().borrow_mut().push_back(other, sender)
                    }
                    Some(Drained::Waiting(room)) => {
                        self.want_room(room);
                        self.backpressure.outboxes().borrow_mut().push(sender);
                    }
                    Some(Drained::Empty) => self.release(sender.0, sender.1),
                }
            }
            if !self.backpressure.local_waits().borrow_mut().end_if_empty(w) {
                w += 1;
            }
        }
    }

    /// Drains the outbox of the held-back actor `sender`; `None` if it has
    /// none (it stopped: its backlog is gone, or its slot has a new actor).
    fn drain_outbox_of(&self, sender: (u32, u32), moved: &mut usize) -> Option<Drained> {
        let (slot, generation) = sender;
        let mut backlog = self.slots.with(|slots| {
            let same = slots.slots.get(slot as usize).is_some_and(|s| s.generation == generation);
            if same {
                slots.backlogs.remove(&slot)
            } else {
                None
            }
        })?;
        let drained = self.drain(&mut backlog.outbox, moved);
        self.slots.with(|slots| slots.backlogs.insert(sender.0, backlog));
        Some(drained)
    }

    /// Records that an outbox waits for `words` free words in the ring to
    /// shard `to` (so the loop asks that ring to wake it before parking).
    fn want_room(&self, room: Option<(u16, usize)>) {
        if let Some((to, words)) = room {
            let mut wanted = self.rings.room_wanted().borrow_mut();
            let want = &mut wanted[to as usize];
            *want = if *want == 0 { words } else { (*want).min(words) };
        }
    }

    /// Moves the entries of `outbox` that fit, in order, as words.
    fn drain(&self, outbox: &mut Outbox, moved: &mut usize) -> Drained {
        let capacity = self.mailbox_capacity;
        let mut undeliverable: Vec<entry::EntryBuffer> = Vec::new();
        let drained = loop {
            let Some((at, to, words)) = outbox.front() else { break Drained::Empty };
            // SAFETY: `words` initialised words of the entry at `at`.
            let src = unsafe { std::slice::from_raw_parts(at.cast::<MaybeUninit<u64>>(), words) };
            if to == self.id {
                // SAFETY: a complete entry; word 1 is its target.
                let (slot, generation) = unsafe { entry::target(at) };
                let room = self.slots.with(|slots| {
                    let room = room_here(slots, slot, generation, capacity);
                    if room == Room::Counted {
                        slots.slots[slot as usize].queued += 1;
                    }
                    room
                });
                match room {
                    Room::Full => break Drained::Here((slot, generation)),
                    // Queued like a send from this shard: counted if its
                    // actor is there; a gone actor's is a dead letter when it
                    // comes up.
                    Room::Counted | Room::Gone => self
                        .queues
                        .of(self.priority_of(slot))
                        .with(|q| q.push(words, |w| w.copy_from_slice(src))),
                    Room::Reserved => {
                        // Behind what came before the actor: as `keep_pending`.
                        let mut buffer = Box::new_uninit_slice(words);
                        buffer.copy_from_slice(src);
                        self.slots.with(|slots| {
                            slots.ensure(slot);
                            slots.pending.entry(slot).or_default().push_back(buffer)
                        });
                    }
                }
            } else if !self.rings.overflow().borrow()[to as usize].is_empty() {
                // Commands wait for that ring first.
                break Drained::Waiting(Some((to, words)));
            } else if self.wait_for_room_at(to, at) {
                break Drained::Waiting(None);
            } else {
                let wrote =
                    self.rings.outbound().with(|outbound| match outbound[to as usize].as_mut() {
                        // SAFETY: one complete entry, moved (not duplicated) into
                        // the ring: it is popped from the outbox right after.
                        Some(producer) => unsafe {
                            producer.try_write(words, |w| w.copy_from_slice(src))
                        },
                        None => Err(WriteError::Closed),
                    });
                match wrote {
                    Ok(()) => {}
                    Err(WriteError::Full) => break Drained::Waiting(Some((to, words))),
                    Err(WriteError::Closed) => {
                        // Its shard has exited: a dead letter, dropped once
                        // no borrow is held.
                        let mut buffer = Box::new_uninit_slice(words);
                        buffer.copy_from_slice(src);
                        undeliverable.push(buffer);
                    }
                }
            }
            outbox.pop_front(words);
            *moved += 1;
        };
        for buffer in undeliverable {
            self.drop_entry_buffer(DeadLetterCause::ShardExited, buffer);
        }
        drained
    }

    /// Whether the entry at `at`, for an actor of shard `to`, must wait
    /// because that actor is held back with a full mailbox. Registers this
    /// shard to be woken when it has room, and looks again (see
    /// [`publish_full`](Self::publish_full)).
    fn wait_for_room_at(&self, to: u16, at: *mut u64) -> bool {
        // SAFETY: a complete entry; word 1 is its target.
        let (slot, generation) = unsafe { entry::target(at) };
        let other = &self.mesh.shards[to as usize];
        if !full_at(other, slot, generation) {
            return false;
        }
        other.full_waiters.fetch_or(waiter_bit(self.id as usize), Ordering::SeqCst);
        fence(Ordering::SeqCst);
        full_at(other, slot, generation)
    }

    /// The outbox of the held-back actor at `slot` is empty, or a wait of
    /// it finished: the results of its waits run, then, once it awaits
    /// nothing, its inbox, in order, until it is held back again or nothing
    /// is left; then it is handed messages again. Nothing runs unless the
    /// actor is live.
    pub(crate) fn release(&self, slot: u32, generation: u32) {
        let mut held = [MaybeUninit::<u64>::uninit(); MAX_ENTRY_WORDS];
        loop {
            let next = self.slots.with(|slots| {
                let Slots { slots: table, backlogs, .. } = slots;
                let s = table.get_mut(slot as usize)?;
                if s.generation != generation || s.state != State::Live {
                    return None;
                }
                let backlog = backlogs.get_mut(&slot);
                let Some(backlog) = backlog.filter(|b| b.outbox.is_empty()) else {
                    // Held back again (or never was).
                    return None;
                };
                // The results of its waits first; its inbox once it awaits
                // nothing.
                let (at, result) = if let Some(at) = backlog.results.front() {
                    (at, true)
                } else if backlog.waits > 0 {
                    return None;
                } else if let Some(at) = backlog.inbox.front() {
                    (at, false)
                } else {
                    self.let_go(s);
                    return None;
                };
                // SAFETY: a complete entry of the results or the inbox (a
                // message or stop).
                let (words, kind) = unsafe { (entry::measure(at), entry::kind(at)) };
                // SAFETY: `words` words of the entry, copied out before the
                // queue is popped, so user code may push to it meanwhile.
                unsafe { std::ptr::copy_nonoverlapping(at.cast(), held.as_mut_ptr(), words) };
                if result {
                    backlog.results.pop_front(words);
                } else {
                    backlog.pop_received(kind == Kind::Stop, words);
                }
                // Handed this one; held back again below if more wait.
                self.let_go(s);
                Some(())
            });
            if next.is_none() {
                break;
            }
            // SAFETY: one complete entry in a buffer of its own, run once,
            // read where it lies (`How::Held`).
            let ran = catch_unwind(AssertUnwindSafe(|| unsafe {
                entry::run(self.erased(), held.as_mut_ptr().cast(), How::Held)
            }));
            if let Err(panic) = ran {
                self.handler_panicked(&*panic);
            }
            self.slots.with(|slots| {
                let more =
                    slots.backlogs.get(&slot).is_some_and(|b| b.has_received() || b.waits > 0);
                if let Some(s) = slots.live(slot, generation).filter(|_| more) {
                    self.hold_back(s);
                }
            });
        }
        let still_full = self.slots.with(|slots| {
            slots.slots.get(slot as usize).is_some_and(|s| {
                s.generation == generation && s.held_back && s.queued >= self.mailbox_capacity
            })
        });
        if !still_full {
            self.publish_full(slot, generation, false);
        }
    }

    /// The actor at `slot` stops for good: what waits in its inbox is
    /// counted as dead letters (`cause`), and its outbox is left to be
    /// delivered.
    pub(crate) fn drop_backlog(&self, slot: u32, backlog: Backlog, cause: DeadLetterCause) {
        self.publish_full(slot, 0, false);
        let messages = backlog.inbox_messages();
        let Backlog { outbox, inbox, results, awaits, .. } = backlog;
        self.cancel_waits(awaits);
        self.count_dead_letters(cause, messages);
        // Dropping a queue drops its entries (a panic in one's `Drop` is
        // caught by its run function).
        drop(inbox);
        drop(results);
        let mut outboxes = self.backpressure.outboxes().borrow_mut();
        if let Some(at) = outboxes.iter().position(|&(s, _)| s == slot) {
            outboxes.swap_remove(at);
        }
        drop(outboxes);
        // A wait for it here is skipped when it comes up (`drain_outbox_of`).
        if !outbox.is_empty() {
            self.backpressure.orphans().borrow_mut().push(outbox);
        }
    }

    /// Shutdown: everything in outboxes and inboxes is a dead letter.
    pub(crate) fn discard_backlogs(&self, cause: DeadLetterCause) {
        let backlogs: Vec<Box<Backlog>> =
            self.slots.with(|slots| slots.backlogs.drain().map(|(_, b)| b).collect());
        let orphans: Vec<Outbox> = self.backpressure.orphans().borrow_mut().drain(..).collect();
        self.backpressure.outboxes().borrow_mut().clear();
        self.backpressure.local_waits().borrow_mut().clear();
        for mut backlog in backlogs {
            self.count_dead_letters(cause, backlog.outbox.len() + backlog.inbox_messages());
            self.cancel_waits(backlog.end_waits());
            drop(backlog);
        }
        for outbox in orphans {
            self.count_dead_letters(cause, outbox.len());
            drop(outbox);
        }
    }

    /// Whether any outbox still waits (the shutdown drain is not over).
    pub(crate) fn outboxes_wait(&self) -> bool {
        !self.backpressure.outboxes().borrow().is_empty()
            || !self.backpressure.local_waits().borrow().is_empty()
            || !self.backpressure.orphans().borrow().is_empty()
    }
}

/// Takes the element at `i` out of `list` (the last one takes its place).
fn take_at<T>(list: &mut Vec<T>, i: usize) -> Option<T> {
    (i < list.len()).then(|| list.swap_remove(i))
}

/// Puts `value` back at `i`, where `take_at` took it from.
fn put_at<T>(list: &mut Vec<T>, i: usize, value: T) {
    list.push(value);
    let last = list.len() - 1;
    list.swap(i, last);
}

/// Where a message for an actor of this shard goes now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    /// Into the run queue, counted in its actor's `queued`.
    Counted,
    /// Its mailbox is full: it waits.
    Full,
    /// With the messages that wait for its spawn to arrive.
    Reserved,
    /// Into the run queue, uncounted: its actor is gone (a dead letter when
    /// it comes up).
    Gone,
}

fn room_here(slots: &Slots, slot: u32, generation: u32, capacity: u32) -> Room {
    match slots.slots.get(slot as usize) {
        Some(s) if s.generation == generation => match s.state {
            State::Live | State::Restarting if !s.stopping && s.queued >= capacity => Room::Full,
            State::Live | State::Restarting => Room::Counted,
            State::Reserved => Room::Reserved,
            _ => Room::Gone,
        },
        Some(_) => Room::Gone,
        // An index reserved by a spawn from another shard, not built yet.
        None => Room::Reserved,
    }
}

/// Whether the actor at `slot` and `generation` of the shard that shares
/// `shared` is published as full (`ShardShared::full` holds generation + 1).
pub(crate) fn full_at(shared: &crate::mesh::ShardShared, slot: u32, generation: u32) -> bool {
    shared.full.get(slot) == generation.wrapping_add(1)
}

/// The bit of shard `i` in `full_waiters`.
fn waiter_bit(i: usize) -> u64 {
    1 << i.min(63)
}
