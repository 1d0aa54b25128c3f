//! Spawning an actor on a chosen shard from anywhere.

use std::sync::Arc;

use crate::mesh::{phase, Mesh};
use crate::shard::{spawn_envelope, with_current};
use crate::{Actor, ActorRef, SpawnError};

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
    let shards = mesh.shard_count();
    if shard >= shards {
        return Err(SpawnError::NoSuchShard { shard, shards });
    }
    if mesh.phase() != phase::RUNNING {
        return Err(SpawnError::ShuttingDown);
    }
    let factory: Box<dyn Fn() -> A + Send> = Box::new(factory);
    with_current(|current| match current {
        Some(current) if current.mesh.id == mesh.id && current.id as usize == shard => {
            current.spawn_here(factory)
        }
        current => {
            let target = &mesh.shards[shard];
            let slot = target.reserve_slot()?;
            let envelope = spawn_envelope(slot, factory);
            match current {
                Some(current) if current.mesh.id == mesh.id => {
                    current.send_control(shard as u16, envelope);
                }
                _ => {
                    if target.inject(envelope).is_err() {
                        // The reserved slot stays unused: a message to it
                        // would wait forever, but no ref to it exists.
                        return Err(SpawnError::Busy);
                    }
                }
            }
            Ok(ActorRef::new(mesh.id, shard as u16, slot, 0))
        }
    })
}
