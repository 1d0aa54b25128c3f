//! The shard's table of actor slots, addressed by index and generation.

use glommio::task::JoinHandle;

use crate::cell::RunActor;
use crate::envelope::Envelope;
use crate::inbox::AnyInbox;

/// What a slot holds.
pub(crate) enum SlotState {
    /// Free; its index is on the free list.
    Vacant,
    /// Handed out by a spawn on another shard whose `Spawn` envelope has not
    /// arrived yet; messages for it wait in `pending`.
    Reserved { pending: Vec<Envelope> },
    /// An actor lives here.
    Live(Live),
}

/// A live actor's slot.
pub(crate) struct Live {
    pub(crate) inbox: Box<dyn AnyInbox>,
    /// `None` while the actor runs (its handler may send to itself, which
    /// only needs the inbox).
    pub(crate) actor: Option<Box<dyn RunActor>>,
    /// In the shard's ready queue.
    pub(crate) scheduled: bool,
    /// Stop after handling this many more messages (`Some(0)`: at once).
    pub(crate) stop_after: Option<usize>,
    /// Shard-local tasks (timers, piped futures) cancelled when it stops.
    pub(crate) jobs: Vec<(u64, JoinHandle<()>)>,
}

impl Live {
    /// Marks the actor as having a turn coming; returns whether it must be
    /// put on the ready queue (it was not there yet).
    pub(crate) fn claim_turn(&mut self) -> bool {
        !std::mem::replace(&mut self.scheduled, true)
    }
}

/// One slot: a generation and what it holds.
pub(crate) struct Slot {
    /// Bumped each time the slot is freed, so refs to an earlier actor in
    /// this slot no longer match.
    pub(crate) generation: u32,
    pub(crate) state: SlotState,
}

/// The slots of one shard.
#[derive(Default)]
pub(crate) struct Slab {
    pub(crate) slots: Vec<Slot>,
    pub(crate) free: Vec<u32>,
}

impl Slab {
    /// The live actor at `slot` if it has `generation`.
    #[inline]
    pub(crate) fn live(&mut self, slot: u32, generation: u32) -> Option<&mut Live> {
        match self.slots.get_mut(slot as usize) {
            Some(Slot { generation: g, state: SlotState::Live(live) }) if *g == generation => {
                Some(live)
            }
            _ => None,
        }
    }

    /// Makes sure `slot` exists; indices skipped on the way were reserved by
    /// other shards and are marked so.
    pub(crate) fn ensure(&mut self, slot: u32) -> &mut Slot {
        while self.slots.len() <= slot as usize {
            self.slots
                .push(Slot { generation: 0, state: SlotState::Reserved { pending: Vec::new() } });
        }
        &mut self.slots[slot as usize]
    }

    /// Frees `slot`: bumps its generation and puts it on the free list.
    pub(crate) fn free(&mut self, slot: u32) {
        let entry = &mut self.slots[slot as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.state = SlotState::Vacant;
        self.free.push(slot);
    }
}
