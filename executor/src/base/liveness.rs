//! Which incarnation chain each slot of a shard holds, readable from any
//! thread: what [`ActorRef::is_alive`](crate::ActorRef::is_alive) asks.
//!
//! A slot's generation changes only when the slot is freed, that is when its
//! actor stops for good (see `Slots::free`). The shard mirrors each new
//! generation here; a ref is alive while the mirror still holds its
//! generation. The table grows in segments that are never moved or freed
//! before the runtime is dropped, so a reader needs no lock: segment `k`
//! holds `BASE << k` slots and is built, zeroed, the first time a slot in it
//! is freed (generation 0, the first of every slot, needs no entry).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::base::entry::MAX_SLOTS;

/// Slots in the first segment.
const BASE: u32 = 1024;
/// Segments enough for `MAX_SLOTS` slots: `BASE * (2^SEGMENTS - 1) >=
/// MAX_SLOTS`.
const SEGMENTS: usize = 22;

const _: () = assert!(BASE as u64 * ((1u64 << SEGMENTS) - 1) >= MAX_SLOTS as u64);

/// The generation of every slot of one shard, as its shard last freed it.
pub(crate) type Generations = Table<AtomicU32>;

/// A value per slot (or per reply entry) of one shard, written by that
/// shard, read from anywhere; 0 until written.
#[derive(Debug, Default)]
pub(crate) struct Table<A> {
    segments: [OnceLock<Box<[A]>>; SEGMENTS],
}

/// An atomic a [`Table`] holds.
pub(crate) trait Atomic: Default {
    type Value: Copy + Default;
    fn load(&self, order: Ordering) -> Self::Value;
    fn store(&self, value: Self::Value, order: Ordering);
}

impl Atomic for AtomicU32 {
    type Value = u32;
    fn load(&self, order: Ordering) -> u32 {
        AtomicU32::load(self, order)
    }
    fn store(&self, value: u32, order: Ordering) {
        AtomicU32::store(self, value, order);
    }
}

impl Atomic for AtomicU64 {
    type Value = u64;
    fn load(&self, order: Ordering) -> u64 {
        AtomicU64::load(self, order)
    }
    fn store(&self, value: u64, order: Ordering) {
        AtomicU64::store(self, value, order);
    }
}

/// The segment of `slot` and its index there.
fn locate(slot: u32) -> (usize, usize) {
    let run = slot / BASE + 1;
    let segment = (u32::BITS - 1 - run.leading_zeros()) as usize;
    let first = BASE * ((1 << segment) - 1);
    (segment, (slot - first) as usize)
}

impl<A: Atomic> Table<A> {
    /// The value of `slot` now (for generations: the generation it is at).
    /// Acquire: pairs with the Release in [`set`](Self::set), so a reader
    /// that sees a slot freed also sees what its actor did before it was
    /// freed (its `stopped` hook ran).
    pub(crate) fn get(&self, slot: u32) -> A::Value {
        let (segment, index) = locate(slot);
        match self.segments.get(segment).and_then(OnceLock::get) {
            Some(values) => values[index].load(Ordering::Acquire),
            None => A::Value::default(),
        }
    }

    /// Sets the value of `slot` (for generations: it moved on to
    /// `value`). Only the owning shard calls this.
    pub(crate) fn set(&self, slot: u32, value: A::Value) {
        let (segment, index) = locate(slot);
        let values = self.segments[segment].get_or_init(|| {
            // The last segment stops at `MAX_SLOTS`.
            let first = BASE * ((1 << segment) - 1);
            let len = (BASE << segment).min(MAX_SLOTS - first);
            (0..len).map(|_| A::default()).collect()
        });
        // Release: see `get`.
        values[index].store(value, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_map_onto_segments_without_gaps() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(BASE - 1), (0, BASE as usize - 1));
        assert_eq!(locate(BASE), (1, 0));
        assert_eq!(locate(3 * BASE - 1), (1, 2 * BASE as usize - 1));
        assert_eq!(locate(3 * BASE), (2, 0));
        let (segment, index) = locate(MAX_SLOTS - 1);
        assert!(segment < SEGMENTS);
        assert!(index < (BASE as usize) << segment);
    }

    #[test]
    fn an_unset_slot_is_at_generation_zero_and_set_ones_read_back() {
        let generations = Generations::default();
        assert_eq!(generations.get(5000), 0);
        generations.set(5000, 3);
        generations.set(0, 1);
        assert_eq!(generations.get(5000), 3);
        assert_eq!(generations.get(0), 1);
        assert_eq!(generations.get(5001), 0);
    }
}
