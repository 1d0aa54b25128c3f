//! Per-actor bump arenas, owned by the shard.
//!
//! An actor gets its arena on first use ([`Context::arena`]): a
//! `bumpalo::Bump` from the shard's pool of spare arenas, or a new one. The
//! arena lives in the shard's table, not in the actor, so it outlives
//! incarnations: when the actor restarts, its arena is **reset** (bumpalo
//! keeps its largest chunk, so once an incarnation's use fits in that chunk
//! a restart and the new incarnation's use take nothing from the system);
//! when the actor stops for good, the reset arena goes back to the pool (up
//! to [`POOL_ARENAS`]).
//!
//! A budget (per actor, or the runtime's default) is the arena's bumpalo
//! allocation limit: an allocation that would grow the arena past it panics
//! inside the handler, which fails that actor alone with
//! [`StopReason::ArenaBudget`].
//!
//! [`Context::arena`]: crate::Context::arena
//! [`StopReason::ArenaBudget`]: crate::StopReason::ArenaBudget

use bumpalo::Bump;

use crate::base::by_slot::BySlot;
use crate::shard::Shard;
use crate::StopReason;

/// Spare arenas a shard keeps for later actors.
pub(crate) const POOL_ARENAS: usize = 64;

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
    fn get_or_make(&mut self, slot: u32, default: Option<usize>) -> *const Bump {
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
    fn reset(&mut self, slot: u32) {
        if let Some(arena) = self.by_slot.get_mut(&slot) {
            arena.reset();
        }
    }

    /// An actor stopped for good: its arena, reset, goes back to the pool.
    fn release(&mut self, slot: u32) {
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
    fn budget(&self, slot: u32) -> Option<usize> {
        self.by_slot.get(&slot)?.allocation_limit()
    }
}

impl Shard {
    /// The arena of the actor at `slot`, valid until the actor restarts or
    /// stops (never during one of its calls).
    pub(crate) fn arena(&self, slot: u32) -> *const Bump {
        let default = self.mesh.config.arena_budget;
        self.arenas.with(|arenas| arenas.get_or_make(slot, default))
    }

    pub(crate) fn reset_arena(&self, slot: u32) {
        self.arenas.with(|arenas| arenas.reset(slot));
    }

    pub(crate) fn release_arena(&self, slot: u32) {
        self.arenas.with(|arenas| arenas.release(slot));
    }

    /// Why a panic fails the actor at `slot`: bumpalo's out-of-memory panic
    /// in an actor whose arena has a budget is that budget exceeded.
    pub(crate) fn failure_of(&self, slot: u32, panic: &(dyn std::any::Any + Send)) -> StopReason {
        let reason = StopReason::from_panic(panic);
        if matches!(&reason, StopReason::Panicked(message) if message == "out of memory") {
            if let Some(budget) = self.arenas.with(|arenas| arenas.budget(slot)) {
                return StopReason::ArenaBudget(budget);
            }
        }
        reason
    }
}
