//! One whirl shard per core: the actor slots, dispatch loop, fairness budget,
//! timers and the ring mesh between shards. Most programs use the `whirl`
//! crate, which builds on this one and re-exports what users need.
//!
//! # How a message travels
//!
//! * Same shard: [`ActorRef::send`] pushes onto the actor's typed mailbox and
//!   puts the actor on the shard's ready queue. No atomic, no allocation in
//!   steady state.
//! * Another shard: the message is wrapped in an envelope (inline for
//!   values up to 16 bytes, in a 32-byte envelope, two to a cache line) and
//!   staged on the SPSC ring to that shard; a
//!   dispatch pass publishes each ring once. The receiving shard polls its
//!   rings in user space; only a parked shard is woken, through its doorbell.
//! * Outside the runtime: through the target shard's bounded injection queue.
//!
//! # Fairness
//!
//! An actor handles at most `fairness_budget` messages per turn; the shard
//! then moves to the next ready actor, and yields to the executor's other
//! tasks (I/O, timers, piped jobs) after every pass.

mod actor;
mod actor_ref;
mod ask;
mod cell;
mod commands;
mod config;
mod context;
mod dispatch;
mod entry;
mod error;
mod failure;
mod injected;
mod lifecycle;
mod local_cell;
mod mesh;
pub mod registry;
mod restart;
mod restart_policy;
mod room;
mod run_queue;
mod shard;
mod slots;
mod spawn;
mod stats;
mod timer_thread;

pub use actor::Actor;
pub use actor_ref::ActorRef;
pub use ask::{Ask, Reply};
pub use config::{ConfigError, ShardConfig, MAX_RING_MEMORY, MAX_SHARDS, MIN_RING_CAPACITY};
pub use context::{Context, TimerHandle};
pub use dispatch::run_shard;
pub use error::{AskError, SendError, SpawnError};
pub use failure::StopReason;
pub use mesh::Mesh;
pub use restart_policy::{MailboxOnRestart, Restart, RestartPolicy};
pub use shard::spawn_program;
pub use spawn::{spawn_on, spawn_on_with};
pub use stats::{DeadLetterCause, ShutdownReport, Stats};

/// Whether the calling thread runs a shard of `mesh`, and which.
pub fn current_shard(mesh: &Mesh) -> Option<usize> {
    shard::with_current(|shard| shard.filter(|s| s.mesh.id == mesh.id).map(|s| s.id as usize))
}
