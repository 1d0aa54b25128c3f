//! Backpressure from handlers: [`Context::send`](crate::Context::send), a
//! send that never drops and never blocks the shard.
//!
//! A handler cannot await. When its send finds the receiver's mailbox (same
//! shard) or the ring to the receiver's shard full, the message waits in
//! the sending actor's *outbox*, in order, and the sender is *held back*:
//! it is handed nothing new. Messages that reach it meanwhile wait in its
//! *inbox*, counted against its own mailbox bound, so its senders find it
//! full in turn (a ring from another shard waits, as for a restarting
//! actor). Backpressure flows upstream through the actor graph, like tokio's
//! `Sender::reserve`, without an await.
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

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

use whirl_mailbox::entry_ring::WriteError;

use crate::entry::{self, How, RunFn, MAX_ENTRY_WORDS};
use crate::run_queue::RunQueue;
use crate::shard::Shard;
use crate::slots::{Slot, Slots, State};
use crate::stats::DeadLetterCause;
use crate::{ActorRef, SendError};

/// First buffer of an outbox or inbox, in words (grows as needed).
const BACKLOG_WORDS: usize = 128;

/// Messages an actor sent that wait for room at their receivers, in order.
#[derive(Debug)]
pub(crate) struct Outbox {
    entries: RunQueue,
    /// The shard of each entry's receiver, in the same order.
    to: VecDeque<u16>,
}

/// What an actor held back by a full receiver keeps.
#[derive(Debug)]
pub(crate) struct Backlog {
    pub(crate) outbox: Outbox,
    /// Messages (and stops) for the actor that came while it was held back,
    /// in order; counted in its slot's `queued`.
    pub(crate) inbox: RunQueue,
}

impl Backlog {
    fn new() -> Self {
        Self {
            outbox: Outbox { entries: RunQueue::with_words(BACKLOG_WORDS), to: VecDeque::new() },
            inbox: RunQueue::with_words(BACKLOG_WORDS),
        }
    }
}

impl Backlog {
    /// Nothing waits in it.
    pub(crate) fn is_empty(&self) -> bool {
        self.outbox.is_empty() && self.inbox.is_empty()
    }

    /// Takes what waits in the inbox, leaving it empty (a new buffer: only
    /// when a restart drops a mailbox).
    pub(crate) fn take_inbox(&mut self) -> RunQueue {
        std::mem::replace(&mut self.inbox, RunQueue::with_words(BACKLOG_WORDS))
    }
}

impl Outbox {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The shard and length (in words) of the first entry, if any.
    fn front(&mut self) -> Option<(*mut u64, u16, usize)> {
        let at = self.entries.front()?;
        // SAFETY: a complete message entry, written by `Shard::send_from_handler`.
        let words = unsafe { entry::measure(at) };
        Some((at, self.to[0], words))
    }

    fn pop_front(&mut self, words: usize) {
        self.entries.pop_front(words);
        self.to.pop_front();
    }
}

/// How far one outbox got.
enum Drained {
    /// Everything went out.
    Empty,
    /// Its first entry waits for room: in the ring to this shard for
    /// `words` words, or (`None`) in a mailbox here.
    Waiting(Option<(u16, usize)>),
}

impl Shard {
    /// [`Context::send`](crate::Context::send) from the actor at `from`.
    pub(crate) fn send_from_handler<M: Send + 'static>(
        &self,
        from: (u32, u32),
        to: &ActorRef<M>,
        msg: M,
    ) -> Result<(), SendError<M>> {
        let (slot, generation) = from;
        if to.mesh != self.mesh_id {
            // Another runtime's actor: no outbox can wait for it.
            return to.send(msg);
        }
        let waiting = self.slots.with(|slots| {
            slots.backlogs.get(&slot).is_some_and(|backlog| !backlog.outbox.is_empty())
        });
        let msg = if waiting {
            // Behind what waits already, so each receiver gets them in order.
            if to.stopped_in(&self.mesh) {
                return Err(SendError::Closed(msg));
            }
            msg
        } else {
            match to.send(msg) {
                Err(SendError::Full(msg)) => msg,
                done => return done,
            }
        };
        let capacity = self.mailbox_capacity as usize;
        let target = entry::target_word(to.slot, to.generation);
        let kept = self.slots.with(|slots| {
            let backlog = slots.backlogs.entry(slot).or_insert_with(Backlog::new);
            if backlog.outbox.len() >= capacity {
                return Err(msg);
            }
            let outbox = &mut backlog.outbox;
            outbox
                .entries
                .push(entry::entry_words::<M>(), |w| entry::write(w, to.fns().run, target, msg));
            outbox.to.push_back(to.shard);
            let first = outbox.len() == 1;
            if let Some(s) = slots.live(slot, generation) {
                self.hold_back(s);
            }
            Ok(first)
        });
        match kept {
            Ok(first) => {
                if first {
                    self.outboxes.borrow_mut().push((slot, generation));
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
            self.held_back_actors.set(self.held_back_actors.get() + 1);
        }
    }

    /// Lets the actor in `s` be handed messages again.
    pub(crate) fn let_go(&self, s: &mut Slot) {
        if s.held_back {
            s.held_back = false;
            self.held_back_actors.set(self.held_back_actors.get() - 1);
        }
    }

    /// A message (or stop) reached the held-back actor at `slot`: it waits
    /// in the actor's inbox. `count`: add it to the slot's `queued` (it was
    /// not counted on its way: from a ring, or a stop).
    pub(crate) fn keep_for_later<T>(
        &self,
        slot: u32,
        generation: u32,
        run: RunFn,
        value: T,
        count: bool,
    ) {
        self.slots.with(|slots| {
            if count {
                slots.slots[slot as usize].queued += 1;
            }
            let backlog = slots.backlogs.entry(slot).or_insert_with(Backlog::new);
            let target = entry::target_word(slot, generation);
            backlog.inbox.push(entry::entry_words::<T>(), |w| entry::write(w, run, target, value));
        });
    }

    /// Step 4 of a pass: moves what fits from every outbox to its receivers
    /// and releases the actors whose outbox emptied. Returns the entries
    /// moved. Each outbox is taken out of its place while it drains and put
    /// back (no allocation: the place keeps its capacity).
    pub(crate) fn flush_outboxes(&self) -> usize {
        let mut moved = 0;
        self.room_wanted.borrow_mut().fill(0);
        let mut i = 0;
        loop {
            let Some(mut orphan) = take_at(&mut self.orphans.borrow_mut(), i) else { break };
            match self.drain(&mut orphan, &mut moved) {
                Drained::Empty => {}
                Drained::Waiting(room) => {
                    self.want_room(room);
                    put_at(&mut self.orphans.borrow_mut(), i, orphan);
                    i += 1;
                }
            }
        }
        let mut i = 0;
        loop {
            let Some(&(slot, generation)) = self.outboxes.borrow().get(i) else { break };
            let Some(mut backlog) = self.slots.with(|slots| slots.backlogs.remove(&slot)) else {
                self.outboxes.borrow_mut().swap_remove(i);
                continue;
            };
            let drained = self.drain(&mut backlog.outbox, &mut moved);
            self.slots.with(|slots| slots.backlogs.insert(slot, backlog));
            match drained {
                Drained::Waiting(room) => {
                    self.want_room(room);
                    i += 1;
                }
                Drained::Empty => {
                    self.outboxes.borrow_mut().swap_remove(i);
                    self.release(slot, generation);
                }
            }
        }
        moved
    }

    /// Records that an outbox waits for `words` free words in the ring to
    /// shard `to` (so the loop asks that ring to wake it before parking).
    fn want_room(&self, room: Option<(u16, usize)>) {
        if let Some((to, words)) = room {
            let mut wanted = self.room_wanted.borrow_mut();
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
                let room = self.slots.with(|slots| room_here(slots, slot, generation, capacity));
                match room {
                    // Queued like a send from this shard (counted if its
                    // actor is there; a gone actor's is a dead letter when it
                    // comes up).
                    Some(counted) => {
                        if counted {
                            self.slots.with(|slots| slots.slots[slot as usize].queued += 1);
                        }
                        self.queue.with(|q| q.push(words, |w| w.copy_from_slice(src)));
                    }
                    None => break Drained::Waiting(None),
                }
            } else {
                let wrote = self.outbound.with(|outbound| match outbound[to as usize].as_mut() {
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

    /// The outbox of the held-back actor at `slot` is empty: its inbox runs,
    /// in order, until it is held back again or nothing is left; then it is
    /// handed messages again. Nothing runs unless the actor is live.
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
                let Some(at) = backlog.inbox.front() else {
                    self.let_go(s);
                    return None;
                };
                // SAFETY: a complete entry of the inbox (a message or stop).
                let words = unsafe { entry::measure(at) };
                // SAFETY: `words` words of the entry, copied out before the
                // inbox is popped, so user code may push to it meanwhile.
                unsafe { std::ptr::copy_nonoverlapping(at.cast(), held.as_mut_ptr(), words) };
                backlog.inbox.pop_front(words);
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
                let more = slots.backlogs.get(&slot).is_some_and(|b| !b.inbox.is_empty());
                if let Some(s) = slots.live(slot, generation).filter(|_| more) {
                    self.hold_back(s);
                }
            });
        }
        // Its mailbox has room again: a ring may wait for it.
        self.stop_waiting_rings();
    }

    /// The actor at `slot` stops for good: what waits in its inbox is
    /// counted as dead letters (`cause`), and its outbox is left to be
    /// delivered.
    pub(crate) fn drop_backlog(&self, slot: u32, backlog: Backlog, cause: DeadLetterCause) {
        let Backlog { outbox, inbox } = backlog;
        self.count_dead_letters(cause, inbox.len());
        // Dropping the queue drops its entries (a panic in one's `Drop` is
        // caught by its run function).
        drop(inbox);
        let mut outboxes = self.outboxes.borrow_mut();
        if let Some(at) = outboxes.iter().position(|&(s, _)| s == slot) {
            outboxes.swap_remove(at);
        }
        drop(outboxes);
        if !outbox.is_empty() {
            self.orphans.borrow_mut().push(outbox);
        }
    }

    /// Shutdown: everything in outboxes and inboxes is a dead letter.
    pub(crate) fn discard_backlogs(&self, cause: DeadLetterCause) {
        let backlogs: Vec<Backlog> =
            self.slots.with(|slots| slots.backlogs.drain().map(|(_, b)| b).collect());
        let orphans: Vec<Outbox> = self.orphans.borrow_mut().drain(..).collect();
        self.outboxes.borrow_mut().clear();
        for Backlog { outbox, inbox } in backlogs {
            self.count_dead_letters(cause, outbox.len() + inbox.len());
            drop((outbox, inbox));
        }
        for outbox in orphans {
            self.count_dead_letters(cause, outbox.len());
            drop(outbox);
        }
    }

    /// Whether any outbox still waits (the shutdown drain is not over).
    pub(crate) fn outboxes_wait(&self) -> bool {
        !self.outboxes.borrow().is_empty() || !self.orphans.borrow().is_empty()
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

/// Whether a message for `slot` may be queued here now: `Some(counted)`
/// (counted: in its actor's `queued`), or `None` while its mailbox is full.
fn room_here(slots: &mut Slots, slot: u32, generation: u32, capacity: u32) -> Option<bool> {
    match slots.slots.get(slot as usize) {
        Some(s)
            if s.generation == generation && matches!(s.state, State::Live | State::Restarting) =>
        {
            if !s.stopping && s.queued >= capacity {
                None
            } else {
                Some(true)
            }
        }
        // Reserved for a spawn on its way, stopping or gone: queued
        // uncounted; delivery sorts it out.
        _ => Some(false),
    }
}
