//! The arenas of one shard's actors and its pool of spares (the behaviour
//! is `shard::ops::arena`).

use bumpalo::Bump;

use crate::base::by_slot::BySlot;
use crate::base::tunables::POOL_ARENAS;

/// The arenas of one shard's actors, and its spares.
#[derive(Debug, Default)]
pub(crate) struct Arenas {
    /// Boxed so an arena stays put while the table changes: a handler holds
    /// `&Bump` for its call.
    by_slot: BySlot<Box<Bump>>,
    /// Budgets set at spawn, by slot (kept across restarts).
    budgets: BySlot<usize>,
    /// Boxed too: they move into `by_slot` as they are.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<Bump>>,
}

impl Arenas {
    pub(crate) fn set_budget(&mut self, slot: u32, bytes: usize) {
        self.budgets.insert(slot, bytes);
    }

    /// The arena of `slot`, made (or taken from the pool) on first use with
    /// the slot's budget, or `default` if it has none.
    pub(crate) fn get_or_make(&mut self, slot: u32, default: Option<usize>) -> *const Bump {
        let budget = self.budgets.get(&slot).copied().or(default);
        let pool = &mut self.pool;
        let arena = self.by_slot.entry(slot).or_insert_with(|| {
            let arena = pool.pop().unwrap_or_default();
            arena.set_allocation_limit(budget);
            arena
        });
        &**arena
    }

    /// Resets the arena of a restarting actor.
    pub(crate) fn reset(&mut self, slot: u32) {
        if let Some(arena) = self.by_slot.get_mut(&slot) {
            arena.reset();
        }
    }

    /// An actor stopped for good: its arena, reset, goes back to the pool.
    pub(crate) fn release(&mut self, slot: u32) {
        self.budgets.remove(&slot);
        if let Some(mut arena) = self.by_slot.remove(&slot) {
            if self.pool.len() < POOL_ARENAS {
                arena.reset();
                arena.set_allocation_limit(None);
                self.pool.push(arena);
            }
        }
    }

    /// Bytes the arena of `slot` holds (its chunks; 0 before first use),
    /// and its budget (the slot's own, else `default`).
    pub(crate) fn usage(&self, slot: u32, default: Option<usize>) -> (usize, Option<usize>) {
        let bytes = self.by_slot.get(&slot).map_or(0, |arena| arena.allocated_bytes());
        (bytes, self.budgets.get(&slot).copied().or(default))
    }

    /// The budget of the arena of `slot`, if it has an arena with one.
    pub(crate) fn budget(&self, slot: u32) -> Option<usize> {
        self.by_slot.get(&slot)?.allocation_limit()
    }
}
