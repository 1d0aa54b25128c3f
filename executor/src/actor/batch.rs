//! [`Batch`]: the messages that follow the first in an actor's turn
//! ([`Actor::handle_batch`](crate::Actor::handle_batch)).
//!
//! A batch is read lazily, in place: each `next` moves the next message out
//! of the run queue (or the ring from another shard) the turn started in,
//! if it is for the same actor, and pops it before handing it over. So a
//! batch allocates nothing, a message is never in two places, and what the
//! handler has not taken when it returns or panics is still queued, in
//! order: after a panic it meets its actor's restart policy like any queued
//! message.

use std::marker::PhantomData;

use crate::base::entry::{self, Kind};
use crate::base::tunables::RELEASE_EVERY;
use crate::shard::parts::slots::Admit;
use crate::shard::Shard;
use crate::types::schedule::Priority;

/// The messages that follow the first of an actor's turn, oldest first: an
/// iterator that moves each message out of its mailbox as it is taken.
///
/// With the first, a turn holds at most the actor's turn budget
/// ([`Schedule::turn_budget`](crate::Schedule::turn_budget)) messages. They
/// are the messages next in line for the actor, one after another, from one
/// place: its shard's run queue (what actors of its shard and threads
/// outside the runtime sent), or the ring from one other shard. The batch
/// ends early once the actor asks to stop or fail, or is held back by a full
/// receiver of [`Context::send`](crate::Context::send). Messages not taken
/// stay queued for the next turn, in order.
pub struct Batch<'a, M> {
    shard: &'a Shard,
    slot: u32,
    generation: u32,
    source: Source,
    /// Messages it may still take.
    left: usize,
    /// Messages taken.
    taken: usize,
    _messages: PhantomData<fn() -> M>,
}

/// Where a batch reads on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The run queue of this class.
    Queue(Priority),
    /// The ring in use (`Shard::ring_in_use`).
    Ring,
    /// Nowhere: a message held for a restart or in an inbox comes alone.
    Alone,
}

impl<'a, M> Batch<'a, M> {
    /// The batch after a first message for the actor at `slot`, reading
    /// on from `source` for at most `left` messages.
    pub(crate) fn new(
        shard: &'a Shard,
        (slot, generation): (u32, u32),
        source: Source,
        left: usize,
    ) -> Self {
        Self { shard, slot, generation, source, left, taken: 0, _messages: PhantomData }
    }

    /// Messages taken.
    pub(crate) fn taken(&self) -> usize {
        self.taken
    }

    /// Whether the entry at `at` is a message for this actor.
    ///
    /// # Safety
    ///
    /// `at` points at a complete entry.
    unsafe fn is_mine(&self, at: *const u64) -> bool {
        const _: () = assert!(Kind::Message as u64 == 0);
        // SAFETY: as the contract says. Commands for this actor (stops,
        // restarts) share its target but not its kind; a message for its
        // target is of its type. A message's kind bits are 0, so word 1 of
        // one for this actor is exactly its target word: one compare.
        unsafe { entry::word1(at) == entry::target_word(self.slot, self.generation) }
    }

    /// Whether the next message may be taken, by the rule every message
    /// meets (`Slots::admit`): else it is left where it is, and the pass
    /// runs it as any other (into the inbox, or a dead letter).
    fn admit(&self, counted: bool) -> bool {
        let admit = self.shard.slots.with(|s| s.admit(self.slot, self.generation, counted));
        matches!(admit, Admit::Run(..))
    }

    fn next_from_queue(&mut self, priority: Priority) -> Option<M> {
        let queue = self.shard.queues.of(priority);
        let at = queue.with(|q| q.front())?;
        // SAFETY: the front entry of the queue is complete.
        if !unsafe { self.is_mine(at) } || !self.admit(true) {
            return None;
        }
        // SAFETY: a message for this actor (its target names it, hence its
        // type, whose messages are `M`s); read once, and popped below before
        // anything else touches the queue.
        let msg = unsafe { entry::read::<M>(at) };
        queue.with(|q| q.pop_front(entry::entry_words::<M>()));
        Some(msg)
    }

    fn next_from_ring(&mut self) -> Option<M> {
        let shard = self.shard;
        // The entry taken last is read: move past it now.
        let consumed = shard.rings.take_consumed();
        let release = (self.taken + 1) % RELEASE_EVERY == 0;
        let at = shard.rings.in_use().with(|ring| {
            let ring = ring.as_mut()?;
            if consumed > 0 {
                ring.advance(consumed);
            }
            if release {
                ring.release();
            }
            ring.front()
        })?;
        // SAFETY: the front entry of the ring is complete (published).
        if !unsafe { self.is_mine(at) } || !self.admit(false) {
            return None;
        }
        // SAFETY: as in `next_from_queue`; the pass advances past it
        // (`consumed`), also if a handler panics before the next `next`.
        let msg = unsafe { entry::read::<M>(at) };
        shard.rings.set_consumed(entry::entry_words::<M>());
        Some(msg)
    }
}

impl<M> Iterator for Batch<'_, M> {
    type Item = M;

    #[inline]
    fn next(&mut self) -> Option<M> {
        let shard = self.shard;
        if self.left == 0 || shard.turn.batch_ends() {
            return None;
        }
        let msg = match self.source {
            Source::Queue(priority) => self.next_from_queue(priority),
            Source::Ring => self.next_from_ring(),
            Source::Alone => None,
        }?;
        self.left -= 1;
        self.taken += 1;
        Some(msg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(if self.source == Source::Alone { 0 } else { self.left }))
    }
}

impl<M> std::fmt::Debug for Batch<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("taken", &self.taken).finish_non_exhaustive()
    }
}
