//! Who waits for room, and where: actors held back by a full receiver
//! with messages in their outbox, outboxes waiting for a local mailbox,
//! outboxes of actors that stopped for good, and tasks waiting for room in
//! a full ring. The behaviour is `shard::ops::backpressure` and
//! `shard::ops::room`.

use std::cell::{Cell, RefCell};
use std::task::Waker;

use crate::shard::parts::local_waits::LocalWaits;
use crate::shard::parts::outbox::Outbox;

/// A shard's waiting senders.
pub(crate) struct Backpressure {
    /// Actors with messages in their outbox, as `(slot, generation)`; each
    /// once.
    outboxes: RefCell<Vec<(u32, u32)>>,
    /// Actors whose outbox waits for room in the mailbox of an actor of
    /// this shard, by that actor (not in `outboxes` meanwhile).
    local_waits: RefCell<LocalWaits>,
    /// Outboxes of actors that stopped for good, still to be delivered.
    orphans: RefCell<Vec<Outbox>>,
    /// Actors of this shard that are held back (`Slot::held_back`).
    held_back_actors: Cell<u32>,
    /// Tasks waiting for room in a full outgoing ring (see `shard::ops::room`).
    room_waiters: RefCell<Vec<RoomWaiter>>,
    /// The wakers `wake_room_waiters` is about to wake (kept for its
    /// capacity).
    woken: RefCell<Vec<Waker>>,
}

impl Backpressure {
    pub(crate) fn new() -> Self {
        Self {
            outboxes: RefCell::new(Vec::new()),
            local_waits: RefCell::default(),
            orphans: RefCell::new(Vec::new()),
            held_back_actors: Cell::new(0),
            room_waiters: RefCell::new(Vec::with_capacity(8)),
            woken: RefCell::new(Vec::with_capacity(8)),
        }
    }

    /// Actors with messages in their outbox.
    pub(crate) fn outboxes(&self) -> &RefCell<Vec<(u32, u32)>> {
        &self.outboxes
    }

    /// Outboxes waiting for room in a local mailbox.
    pub(crate) fn local_waits(&self) -> &RefCell<LocalWaits> {
        &self.local_waits
    }

    /// Outboxes of actors that stopped for good.
    pub(crate) fn orphans(&self) -> &RefCell<Vec<Outbox>> {
        &self.orphans
    }

    /// Whether any actor of the shard is held back.
    #[inline(always)]
    pub(crate) fn any_held_back(&self) -> bool {
        self.held_back_actors.get() > 0
    }

    /// An actor is held back.
    pub(crate) fn hold_back(&self) {
        self.held_back_actors.set(self.held_back_actors.get() + 1);
    }

    /// A held-back actor is let go.
    pub(crate) fn let_go(&self) {
        self.held_back_actors.set(self.held_back_actors.get() - 1);
    }

    /// Tasks waiting for room in a full ring.
    pub(crate) fn room_waiters(&self) -> &RefCell<Vec<RoomWaiter>> {
        &self.room_waiters
    }

    /// The wakers about to be woken (kept for their capacity).
    pub(crate) fn woken(&self) -> &RefCell<Vec<Waker>> {
        &self.woken
    }
}

/// A task's wait for `words` free words in the ring to shard `to`: one per
/// `RoomFor` (`shard::ops::room`), removed when it is woken or dropped.
pub(crate) struct RoomWaiter {
    pub(crate) id: u64,
    pub(crate) to: u16,
    pub(crate) words: usize,
    pub(crate) waker: Waker,
}
