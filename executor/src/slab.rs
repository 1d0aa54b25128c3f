//! The shard's table of actor slots, addressed by index and generation.

use glommio::task::JoinHandle;

use crate::cell::RunActor;
use crate::envelope::Envelope;
use crate::inbox::AnyInbox;

/// What a slot holds.
pub(crate) enum SlotState {
    /// Free; its index is on the free list (or retired, see [`Slab::free`]).
    Vacant,
    /// Handed out to a spawn on another shard or thread whose `Spawn`
    /// envelope has not arrived yet; messages for it wait in `pending`.
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
    /// this slot no longer match. Never wraps: a slot whose generation
    /// reaches `u32::MAX` is retired.
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

    /// Empties `slot` and bumps its generation, so refs to the old actor no
    /// longer match. Returns the new generation if the slot may be used
    /// again; the caller puts it on the free list or hands it out. A slot
    /// whose generation would wrap is retired instead: it stays vacant for
    /// good, so no stale ref can ever reach a later actor in it.
    pub(crate) fn free(&mut self, slot: u32) -> Option<u32> {
        let entry = &mut self.slots[slot as usize];
        entry.state = SlotState::Vacant;
        entry.generation = entry.generation.checked_add(1)?;
        (entry.generation != u32::MAX).then_some(entry.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_whose_generation_would_wrap_is_retired() {
        let mut slab = Slab::default();
        slab.ensure(0).generation = u32::MAX - 2;
        assert_eq!(slab.free(0), Some(u32::MAX - 1));
        assert_eq!(slab.free(0), None, "generation u32::MAX is never handed out");
        assert_eq!(slab.free(0), None);
        assert_eq!(slab.slots[0].generation, u32::MAX);
    }
}
