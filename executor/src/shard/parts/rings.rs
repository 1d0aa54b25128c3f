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
    /// `waiting[i]`: the ring from shard `i` waits, its front entry left in
    /// place, for an actor that is restarting with a full mailbox (see
    /// `Shard::ring_must_wait`); passes skip it until a restarting actor is
    /// rebuilt, stops, or waits for its supervisor again.
    waiting: RefCell<Vec<bool>>,
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
            waiting: RefCell::new(vec![false; shards]),
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

    /// Which inbound rings wait for a restarting actor, by sender.
    pub(crate) fn waiting(&self) -> &RefCell<Vec<bool>> {
        &self.waiting
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
