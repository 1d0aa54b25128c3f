//! Spawning an actor on a chosen shard from anywhere.

use std::sync::Arc;

use whirl_mailbox::Payload;

use crate::actor::cell::fns_of;
use crate::base::entry;
use crate::base::injected::Injected;
use crate::mesh::{phase, InjectError, Mesh};
use crate::shard::ops::commands::{deliver_spawn, run_spawn, SpawnFn};
use crate::shard::ops::lifecycle::Setup;
use crate::shard::{with_current, Shard};
use crate::{Actor, ActorRef, RestartPolicy, SpawnError};

/// Spawns the actor `factory` builds on shard `shard` of `mesh`, from any
/// thread. The factory runs on that shard (now, or when the spawn request
/// arrives there) and is kept for restarts.
///
/// The ref is returned at once: on another shard its slot is reserved, and
/// messages that reach the shard before the actor is built wait for it.
///
/// # Errors
///
/// [`SpawnError::NoSuchShard`], [`SpawnError::ShuttingDown`], or
/// [`SpawnError::Busy`] when spawning from outside the runtime into a full
/// injection queue.
pub fn spawn_on<A: Actor>(
    mesh: &Arc<Mesh>,
    shard: usize,
    factory: impl Fn() -> A + Send + 'static,
) -> Result<ActorRef<A::Msg>, SpawnError> {
    spawn_on_with(mesh, shard, RestartPolicy::never(), factory)
}

/// As [`spawn_on`], with a restart policy: a failed actor is built again by
/// `factory` in its slot, behind the same refs, as `policy` says.
///
/// # Errors
///
/// As [`spawn_on`].
pub fn spawn_on_with<A: Actor>(
    mesh: &Arc<Mesh>,
    shard: usize,
    policy: RestartPolicy,
    factory: impl Fn() -> A + Send + 'static,
) -> Result<ActorRef<A::Msg>, SpawnError> {
    spawn_set_up(mesh, shard, Setup { policy, ..Setup::default() }, factory)
}

/// Spawns `actor` on the current shard, if it is one of `mesh`'s; never
/// restarted.
///
/// # Errors
///
/// [`SpawnError::NotOnAShard`] elsewhere, [`SpawnError::ShuttingDown`].
pub(crate) fn spawn_local<A: Actor>(
    mesh: &Arc<Mesh>,
    actor: A,
) -> Result<ActorRef<A::Msg>, SpawnError> {
    let setup = Setup { policy: RestartPolicy::never(), ..Setup::default() };
    let actor = std::cell::Cell::new(Some(actor));
    // Never restarted: the factory is called once.
    let build = move || actor.take().expect("a local actor is built once");
    with_current(|current| match current {
        Some(current) if current.mesh.id == mesh.id => current.spawn_here(setup, build),
        _ => Err(SpawnError::NotOnAShard),
    })
}

/// As [`spawn_on_with`], set up as `setup` says.
pub(crate) fn spawn_set_up<A: Actor>(
    mesh: &Arc<Mesh>,
    shard: usize,
    setup: Setup,
    factory: impl Fn() -> A + Send + 'static,
) -> Result<ActorRef<A::Msg>, SpawnError> {
    let shards = mesh.shard_count();
    if shard >= shards {
        return Err(SpawnError::NoSuchShard { shard, shards });
    }
    if mesh.phase() != phase::RUNNING {
        return Err(SpawnError::ShuttingDown);
    }
    with_current(|current| match current {
        Some(current) if current.mesh.id == mesh.id && current.id as usize == shard => {
            current.spawn_here(setup, factory)
        }
        current => {
            let target = &mesh.shards[shard];
            let from_outside = current.is_none_or(|c| c.mesh.id != mesh.id);
            let (slot, generation) = target.take_slot(from_outside)?;
            let spawn: SpawnFn = Box::new(move |shard: &Shard, slot, generation| {
                let installed = shard.install_actor(slot, setup, factory);
                debug_assert_eq!(installed, generation, "reserved under this generation");
            });
            let word = entry::target_word(slot, generation);
            match current {
                Some(current) if current.mesh.id == mesh.id => {
                    current.send_command(
                        shard as u16,
                        entry::EntryFn::command(run_spawn),
                        word,
                        spawn,
                    );
                }
                _ => {
                    let envelope = Injected {
                        deliver: deliver_spawn,
                        target: word,
                        payload: Payload::new(spawn),
                        kind: entry::Kind::Command,
                    };
                    if let Err(error) = target.inject(envelope) {
                        target.untake_slot(slot, generation);
                        return Err(match error {
                            InjectError::Full(_) => SpawnError::Busy,
                            InjectError::Exited(_) => SpawnError::ShuttingDown,
                        });
                    }
                }
            }
            Ok(ActorRef::new(mesh.id, shard as u16, slot, generation, fns_of::<A>()))
        }
    })
}
