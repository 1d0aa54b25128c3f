//! The typed side of putting an actor on a slot: build its cell from the
//! factory and hand the shard the cell and the functions that run it
//! (`Shard::install`, which knows no actor type).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::actor::cell::{self, fns_of};
use crate::mesh::phase;
use crate::shard::ops::lifecycle::Setup;
use crate::shard::Shard;
use crate::{Actor, ActorRef, SpawnError};

impl Shard {
    /// Spawns an actor on this shard, in a free slot or a fresh one.
    pub(crate) fn spawn_here<A: Actor, F: Fn() -> A + 'static>(
        &self,
        setup: Setup,
        factory: F,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        if self.mesh.phase() != phase::RUNNING {
            return Err(SpawnError::ShuttingDown);
        }
        let reused = self.slots.with(|slots| slots.free.pop());
        let slot = match reused {
            Some(slot) => slot,
            None => self.shared().take_slot(false)?.0,
        };
        let generation = self.install_actor(slot, setup, factory);
        Ok(ActorRef::new(self.mesh.id, self.id, slot, generation, fns_of::<A>()))
    }

    /// Builds an `A` with `factory` and makes it live at `slot` (see
    /// [`Shard::install`]). Returns the slot's generation.
    pub(crate) fn install_actor<A: Actor, F: Fn() -> A + 'static>(
        &self,
        slot: u32,
        setup: Setup,
        factory: F,
    ) -> u32 {
        let built = catch_unwind(AssertUnwindSafe(|| cell::build(factory)));
        let lifecycle = cell::lifecycle_of::<A, F>();
        self.install(slot, setup, built, lifecycle, std::any::type_name::<A>())
    }
}
