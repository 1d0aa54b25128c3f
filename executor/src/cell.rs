//! An actor's state behind a type-erased interface the shard can run.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::shard::Shard;
use crate::{Actor, Context};

/// How a turn ended.
pub(crate) struct Turn {
    /// Messages handled.
    pub(crate) handled: usize,
    /// The actor asked to stop (or failed) and must be stopped now.
    pub(crate) stop: bool,
}

/// An actor of any type, as the shard's slot table holds it.
pub(crate) trait RunActor {
    /// Calls `started`.
    fn start(&mut self, shard: &Shard, slot: u32, generation: u32) -> bool;
    /// Handles up to `budget` messages from the slot's inbox.
    fn run(&mut self, shard: &Shard, slot: u32, generation: u32, budget: usize) -> Turn;
    /// Calls `stopped`.
    fn stop(&mut self, shard: &Shard, slot: u32, generation: u32);
}

/// An actor and the factory it was built from. The factory is kept so the
/// actor can be rebuilt in place when it is restarted.
pub(crate) struct ActorCell<A: Actor> {
    actor: A,
    #[allow(dead_code)] // used by restarts (supervision)
    factory: Box<dyn Fn() -> A + Send>,
}

impl<A: Actor> ActorCell<A> {
    pub(crate) fn new(factory: Box<dyn Fn() -> A + Send>) -> Self {
        Self { actor: factory(), factory }
    }
}

impl<A: Actor> RunActor for ActorCell<A> {
    fn start(&mut self, shard: &Shard, slot: u32, generation: u32) -> bool {
        let mut ctx = Context::new(shard, slot, generation);
        let ok = catch_unwind(AssertUnwindSafe(|| self.actor.started(&mut ctx))).is_ok();
        if !ok {
            tracing::error!(shard = shard.id, slot, "actor panicked in `started`; stopping it");
        }
        ok && !ctx.stop_requested()
    }

    fn run(&mut self, shard: &Shard, slot: u32, generation: u32, budget: usize) -> Turn {
        let mut ctx = Context::new(shard, slot, generation);
        let mut handled = 0;
        let result = catch_unwind(AssertUnwindSafe(|| {
            while handled < budget && !ctx.stop_requested() {
                let Some(msg) = shard.pop_message::<A::Msg>(slot, generation) else { break };
                handled += 1;
                self.actor.handle(msg, &mut ctx);
            }
        }));
        if result.is_err() {
            tracing::error!(shard = shard.id, slot, "actor panicked in `handle`; stopping it");
            return Turn { handled, stop: true };
        }
        Turn { handled, stop: ctx.stop_requested() }
    }

    fn stop(&mut self, shard: &Shard, slot: u32, generation: u32) {
        let mut ctx = Context::new(shard, slot, generation);
        if catch_unwind(AssertUnwindSafe(|| self.actor.stopped(&mut ctx))).is_err() {
            tracing::error!(shard = shard.id, slot, "actor panicked in `stopped`");
        }
    }
}
