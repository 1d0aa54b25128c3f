//! What an actor held back by a full receiver keeps: its outbox (messages
//! it sent that wait for room) and its inbox (what came for it meanwhile).
//! The behaviour is `shard::ops::backpressure`.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

use crate::base::entry;
use crate::base::run_queue::RunQueue;

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
    /// in order; the messages are counted in its slot's `queued`.
    pub(crate) inbox: RunQueue,
    /// Stops among the inbox's entries.
    stops: usize,
}

impl Backlog {
    /// Boxed: the table of backlogs then moves a pointer, not the two
    /// queues, when it grows.
    pub(crate) fn boxed() -> Box<Self> {
        Box::new(Self {
            outbox: Outbox { entries: RunQueue::unallocated(), to: VecDeque::new() },
            inbox: RunQueue::unallocated(),
            stops: 0,
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

    /// Nothing waits in it.
    pub(crate) fn is_empty(&self) -> bool {
        self.outbox.is_empty() && self.inbox.is_empty()
    }

    /// Messages (not stops) in the inbox.
    pub(crate) fn inbox_messages(&self) -> usize {
        self.inbox.len() - self.stops
    }

    /// Takes what waits in the inbox and how many of its entries are
    /// messages, leaving it empty (allocating nothing: only when a restart drops
    /// a mailbox).
    pub(crate) fn take_inbox(&mut self) -> (RunQueue, usize) {
        let messages = self.inbox_messages();
        self.stops = 0;
        (std::mem::replace(&mut self.inbox, RunQueue::unallocated()), messages)
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
