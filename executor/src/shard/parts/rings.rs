//! This shard's ends of the ring mesh: the rings from every other shard
//! (inbound) and to every other shard (outbound), and what waits around
//! them — commands that found a ring full, rings that wait for a
//! restarting actor, the ring whose entries run now.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use whirl_mailbox::entry_ring::{EntryConsumer, EntryProducer};

use crate::base::entry::EntryBuffer;
use crate::base::local_cell::LocalCell;

/// One shard's rings, by peer shard.
pub(crate) struct Rings {
    /// `inbound[i]`: the ring from shard `i`.
    inbound: RefCell<Vec<Option<EntryConsumer>>>,
    /// `outbound[i]`: the ring to shard `i`.
    outbound: LocalCell<Vec<Option<EntryProducer>>>,
    /// `overflow[i]`: commands (stops, spawns, replies) that found the ring
    /// to shard `i` full; they go first at the next flush, and messages
    /// wait behind them.
    overflow: RefCell<Vec<VecDeque<EntryBuffer>>>,
    /// `paused[i]`: the ring from shard `i` is paused, its front entry left
    /// in place, for an actor that is restarting with a full mailbox (see
    /// `Shard::ring_must_pause`); passes skip it until a restarting actor is
    /// rebuilt, stops, or waits for its supervisor again.
    paused: RefCell<Vec<bool>>,
    /// The ring whose entries run now, taken out of `inbound` (a batch reads
    /// on from it).
    in_use: LocalCell<Option<EntryConsumer>>,
    /// Words of the ring entry being run (its run function reports them
    /// before any user code runs, so a panic does not run it twice).
    consumed: Cell<usize>,
    /// `room_wanted[i]`: words the first outbox entry waiting for the ring
    /// to shard `i` needs (0: none), as of the last pass.
    room_wanted: RefCell<Vec<usize>>,
}

impl Rings {
    pub(crate) fn new(
        inbound: Vec<Option<EntryConsumer>>,
        outbound: Vec<Option<EntryProducer>>,
    ) -> Self {
        let shards = outbound.len();
        Self {
            inbound: RefCell::new(inbound),
            outbound: LocalCell::new(outbound),
            overflow: RefCell::new((0..shards).map(|_| VecDeque::new()).collect()),
            paused: RefCell::new(vec![false; shards]),
            in_use: LocalCell::new(None),
            consumed: Cell::new(0),
            room_wanted: RefCell::new(vec![0; shards]),
        }
    }

    /// The rings from other shards, by sender.
    pub(crate) fn inbound(&self) -> &RefCell<Vec<Option<EntryConsumer>>> {
        &self.inbound
    }

    /// The rings to other shards, by receiver.
    #[inline(always)]
    pub(crate) fn outbound(&self) -> &LocalCell<Vec<Option<EntryProducer>>> {
        &self.outbound
    }

    /// Commands waiting for room in the rings, by receiver.
    pub(crate) fn overflow(&self) -> &RefCell<Vec<VecDeque<EntryBuffer>>> {
        &self.overflow
    }

    /// Commands wait for room in the ring to shard `to` (so messages wait
    /// behind them).
    #[inline(always)]
    pub(crate) fn overflow_waiting(&self, to: u16) -> bool {
        self.overflow.borrow().get(to as usize).is_some_and(|q| !q.is_empty())
    }

    /// Commands wait for room in some ring.
    pub(crate) fn overflow_blocked(&self) -> bool {
        self.overflow.borrow().iter().any(|queue| !queue.is_empty())
    }

    /// Pauses the ring from shard `from` until [`resume_all`](Self::resume_all).
    pub(crate) fn pause(&self, from: usize) {
        self.paused.borrow_mut()[from] = true;
    }

    /// Whether the ring from shard `from` is paused.
    pub(crate) fn is_paused(&self, from: usize) -> bool {
        self.paused.borrow()[from]
    }

    /// Resumes every paused ring; returns whether one was.
    pub(crate) fn resume_all(&self) -> bool {
        let mut paused = self.paused.borrow_mut();
        let any = paused.contains(&true);
        paused.fill(false);
        any
    }

    /// Whether a ring that is not paused has entries.
    pub(crate) fn any_unpaused_entries(&self) -> bool {
        let paused = self.paused.borrow();
        let mut inbound = self.inbound.borrow_mut();
        inbound.iter_mut().zip(paused.iter()).any(|(ring, &paused)| {
            // A paused ring has work only once a restart resumes it.
            !paused && ring.as_mut().is_some_and(|ring| !ring.is_empty())
        })
    }

    /// The ring whose entries run now.
    #[inline(always)]
    pub(crate) fn in_use(&self) -> &LocalCell<Option<EntryConsumer>> {
        &self.in_use
    }

    /// The running ring entry is `words` long (its run function reports
    /// it).
    #[inline(always)]
    pub(crate) fn set_consumed(&self, words: usize) {
        self.consumed.set(words);
    }

    /// The words the running ring entry reported, reset to 0.
    #[inline(always)]
    pub(crate) fn take_consumed(&self) -> usize {
        self.consumed.replace(0)
    }

    /// Words wanted by outboxes, by receiver.
    pub(crate) fn room_wanted(&self) -> &RefCell<Vec<usize>> {
        &self.room_wanted
    }
}
