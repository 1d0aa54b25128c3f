//! Names for actors, valid across the runtime.

use std::any::TypeId;
use std::fmt;
use std::sync::atomic::Ordering;

use crate::mesh::{Mesh, Registration};
use crate::ActorRef;

/// Why a name could not be registered or looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// The name belongs to another actor; it frees itself when that actor
    /// stops for good.
    NameTaken(String),
    /// No actor has this name.
    NotFound(String),
    /// The actor of this name handles another message type.
    WrongType {
        /// The name looked up.
        name: String,
        /// The message type asked for.
        expected: &'static str,
        /// The message type the actor handles.
        found: &'static str,
    },
    /// The ref belongs to another runtime.
    OtherRuntime,
    /// The runtime has shut down.
    ShutDown,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NameTaken(name) => write!(f, "the name {name:?} is already registered"),
            Self::NotFound(name) => write!(f, "no actor is registered as {name:?}"),
            Self::WrongType { name, expected, found } => {
                write!(f, "the actor registered as {name:?} handles {found}, not {expected}")
            }
            Self::OtherRuntime => f.write_str("the actor belongs to another runtime"),
            Self::ShutDown => f.write_str("the runtime has shut down"),
        }
    }
}

impl std::error::Error for RegistryError {}

/// Registers `actor` as `name`. The name frees itself when the actor stops
/// for good; an actor that had already stopped when it was registered keeps
/// the name until [`unregister`].
///
/// # Errors
///
/// [`RegistryError::NameTaken`] if the name is in use,
/// [`RegistryError::OtherRuntime`] if the ref is not of this runtime,
/// [`RegistryError::ShutDown`] once the runtime has shut down.
pub fn register<M: Send + 'static>(
    mesh: &Mesh,
    name: &str,
    actor: ActorRef<M>,
) -> Result<(), RegistryError> {
    if actor.mesh_id() != mesh.id {
        return Err(RegistryError::OtherRuntime);
    }
    if mesh.is_shut_down() {
        return Err(RegistryError::ShutDown);
    }
    let mut registry = mesh.registry.lock().unwrap_or_else(|e| e.into_inner());
    if registry.contains_key(name) {
        return Err(RegistryError::NameTaken(name.to_owned()));
    }
    let (slot, generation) = actor.slot();
    registry.insert(
        name.to_owned(),
        Registration {
            type_id: TypeId::of::<M>(),
            type_name: std::any::type_name::<M>(),
            shard: actor.shard() as u16,
            slot,
            generation,
            fns: actor.fns(),
        },
    );
    let Some(shard) = mesh.shards.get(actor.shard()) else {
        return Err(RegistryError::OtherRuntime);
    };
    shard.registered.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// The actor registered as `name`, if it handles `M`.
///
/// # Errors
///
/// [`RegistryError::NotFound`] or [`RegistryError::WrongType`].
pub fn lookup<M: Send + 'static>(mesh: &Mesh, name: &str) -> Result<ActorRef<M>, RegistryError> {
    let registry = mesh.registry.lock().unwrap_or_else(|e| e.into_inner());
    let entry = registry.get(name).ok_or_else(|| RegistryError::NotFound(name.to_owned()))?;
    if entry.type_id != TypeId::of::<M>() {
        return Err(RegistryError::WrongType {
            name: name.to_owned(),
            expected: std::any::type_name::<M>(),
            found: entry.type_name,
        });
    }
    Ok(ActorRef::new(mesh.id, entry.shard, entry.slot, entry.generation, entry.fns))
}

/// Frees `name`; returns whether it was registered.
pub fn unregister(mesh: &Mesh, name: &str) -> bool {
    let mut registry = mesh.registry.lock().unwrap_or_else(|e| e.into_inner());
    match registry.remove(name) {
        Some(entry) => {
            mesh.shards[entry.shard as usize].registered.fetch_sub(1, Ordering::Relaxed);
            true
        }
        None => false,
    }
}
