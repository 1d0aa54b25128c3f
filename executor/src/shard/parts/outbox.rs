//! What a held-back actor keeps: its outbox (messages it sent that wait
//! for room), its inbox (what came for it meanwhile), and what it awaits
//! (`Context::wait`) with the results that came back. The behaviour is
//! `shard::ops::backpressure` and `shard::ops::awaits`.

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::rc::Rc;

use crate::base::entry;
use crate::base::run_queue::RunQueue;
use crate::shard::parts::awaits::Awaits;

/// Messages an actor sent that wait for room at their receivers, in order.
#[derive(Debug)]
pub(crate) struct Outbox {
    entries: RunQueue,
    /// The shard of each entry's receiver, in the same order.
    to: VecDeque<u16>,
}

/// What a held-back actor keeps.
pub(crate) struct Backlog {
    pub(crate) outbox: Outbox,
    /// Messages (and stops) for the actor that came while it was held back,
    /// in order; the messages are counted in its slot's `queued`.
    pub(crate) inbox: RunQueue,
    /// Stops among the inbox's entries.
    stops: usize,
    /// The messages its finished waits made, in order: handed to it before
    /// its inbox (counted in its slot's `queued`).
    pub(crate) results: RunQueue,
    /// Waits started and not finished: its inbox waits for them.
    pub(crate) waits: u32,
    /// The futures of its waits, and their task (made at its first wait
    /// in an incarnation).
    pub(crate) awaits: Option<Rc<Awaits>>,
}

impl std::fmt::Debug for Backlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backlog")
            .field("outbox", &self.outbox.len())
            .field("inbox", &self.inbox.len())
            .field("results", &self.results.len())
            .field("waits", &self.waits)
            .finish()
    }
}

impl Backlog {
    /// Boxed: the table of backlogs then moves a pointer, not the two
    /// queues, when it grows.
    pub(crate) fn boxed() -> Box<Self> {
        Box::new(Self {
            outbox: Outbox { entries: RunQueue::unallocated(), to: VecDeque::new() },
            inbox: RunQueue::unallocated(),
            stops: 0,
            results: RunQueue::unallocated(),
            waits: 0,
            awaits: None,
        })
    }
}

impl Backlog {
    /// Appends an entry of `words` words for the actor at `target` on shard
    /// `to` to the outbox, written by `write`.
    pub(crate) fn keep_sent(
        &mut self,
        to: u16,
        words: usize,
        write: impl FnOnce(&mut [MaybeUninit<u64>]),
    ) {
        self.outbox.entries.push(words, write);
        self.outbox.to.push_back(to);
    }

    /// Appends an entry that came for the actor (a stop if `is_stop`) to
    /// the inbox, written by `write`.
    pub(crate) fn keep_received(
        &mut self,
        is_stop: bool,
        words: usize,
        write: impl FnOnce(&mut [MaybeUninit<u64>]),
    ) {
        self.inbox.push(words, write);
        self.stops += usize::from(is_stop);
    }

    /// Pops the inbox's front entry of `words` words (a stop if `is_stop`).
    pub(crate) fn pop_received(&mut self, is_stop: bool, words: usize) {
        self.inbox.pop_front(words);
        self.stops -= usize::from(is_stop);
    }

    /// Appends the message a finished wait made, written by `write`.
    pub(crate) fn keep_result(
        &mut self,
        words: usize,
        write: impl FnOnce(&mut [MaybeUninit<u64>]),
    ) {
        self.results.push(words, write);
    }

    /// Nothing waits in it.
    pub(crate) fn is_empty(&self) -> bool {
        self.outbox.is_empty() && !self.has_received()
    }

    /// Entries wait to be handed to the actor (in its inbox or results).
    pub(crate) fn has_received(&self) -> bool {
        !self.inbox.is_empty() || !self.results.is_empty()
    }

    /// Messages (not stops) waiting to be handed to the actor: its inbox's
    /// and its waits' results.
    pub(crate) fn inbox_messages(&self) -> usize {
        self.inbox.len() - self.stops + self.results.len()
    }

    /// Takes what waits in the inbox and the results, and how many of their
    /// entries are messages, leaving both empty (allocating nothing: only
    /// when a restart drops a mailbox).
    pub(crate) fn take_inbox(&mut self) -> ((RunQueue, RunQueue), usize) {
        let messages = self.inbox_messages();
        self.stops = 0;
        let inbox = std::mem::replace(&mut self.inbox, RunQueue::unallocated());
        let results = std::mem::replace(&mut self.results, RunQueue::unallocated());
        ((inbox, results), messages)
    }

    /// Forgets its waits (their futures are cancelled) and hands back their
    /// futures, for the caller to cancel outside any borrow.
    pub(crate) fn end_waits(&mut self) -> Option<Rc<Awaits>> {
        self.waits = 0;
        self.awaits.take()
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
    pub(crate) fn front(&mut self) -> Option<(*mut u64, u16, usize)> {
        let at = self.entries.front()?;
        // SAFETY: a complete message entry, written by `Shard::send_from_handler`.
        let words = unsafe { entry::measure(at) };
        Some((at, self.to[0], words))
    }

    pub(crate) fn pop_front(&mut self, words: usize) {
        self.entries.pop_front(words);
        self.to.pop_front();
    }
}
