//! Per-actor bump arenas, owned by the shard.
//!
//! An actor gets its arena on first use ([`Context::arena`]): a
//! `bumpalo::Bump` from the shard's pool of spare arenas, or a new one. The
//! arena lives in the shard's table, not in the actor, so it outlives
//! incarnations: when the actor restarts, its arena is **reset** (bumpalo
//! keeps its largest chunk, so once an incarnation's use fits in that chunk
//! a restart and the new incarnation's use take nothing from the system);
//! when the actor stops for good, the reset arena goes back to the pool (up
//! to `base::tunables::POOL_ARENAS`).
//!
//! A budget (per actor, or the runtime's default) is the arena's bumpalo
//! allocation limit: an allocation that would grow the arena past it panics
//! inside the handler, which fails that actor alone with
//! [`StopReason::ArenaBudget`].
//!
//! [`Context::arena`]: crate::Context::arena
//! [`StopReason::ArenaBudget`]: crate::StopReason::ArenaBudget

use bumpalo::Bump;

use crate::shard::Shard;
use crate::StopReason;

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
