//! One whirl shard per core: the actor slots, dispatch loop, turn budget,
//! timers and the ring mesh between shards. Most programs use the `whirl`
//! crate, which builds on this one and re-exports what users need.
//!
//! # How a message travels
//!
//! * Same shard: [`ActorRef::send`] writes an entry (run function, slot and
//!   generation, the message inline) into the shard's run queue; the
//!   actor's mailbox bound is a counter in its slot. No atomic, no
//!   allocation in steady state.
//! * Another shard: the same entry goes into the ring between the two shards
//!   (`whirl_mailbox::entry_ring`), published once per pass or batch; the
//!   receiving shard runs it in place. Only a parked shard is woken, through
//!   its doorbell.
//! * Outside the runtime: through the target shard's bounded injection queue.
//!
//! # Fairness
//!
//! A pass runs the run queue strictly in order, so actors interleave as
//! their messages do; after a pass budget of entries the shard yields to its
//! executor's other tasks (I/O, timers, piped jobs).
//!
//! # Failure
//!
//! A panic or [`Context::fail`] fails one actor; its [`RestartPolicy`]
//! decides whether it is built again in place, behind the same refs.

mod actor;
mod base;
mod mesh;
mod refs;
mod shard;
mod supervision;
mod system;
mod types;

pub use base::time;
pub use refs::registry;

pub use actor::batch::Batch;
pub use actor::context::{Context, TimerHandle};
pub use actor::spawn::{spawn_on, spawn_on_with};
pub use actor::{Actor, AfterPanic};
pub use base::tunables::{
    HIGH_CHECK_EVERY, LOW_SHARE, MAX_TIMED_ACTORS, NORMAL_SHARE, PASS_BUDGET,
};
pub use bumpalo;
pub use mesh::Mesh;
pub use refs::actor_ref::ActorRef;
pub use refs::ask::{Ask, Reply};
pub use shard::ops::pass::run_shard;
pub use shard::ops::tasks::spawn_program;
pub use supervision::supervisor::{
    spawn_supervisor, ChildError, ChildInfo, ChildSpec, ChildState, Strategy, Supervisor,
    SupervisorMsg, SupervisorRef,
};
pub use system::{Placement, Shutdown, SpawnOptions, System};
pub use types::config::{
    ConfigError, ShardConfig, MAX_RING_MEMORY, MAX_SHARDS, MAX_SPIN_BEFORE_PARK, MIN_RING_CAPACITY,
};
pub use types::error::{AskError, SendError, SpawnError};
pub use types::failure::StopReason;
pub use types::restart_policy::{MailboxOnRestart, Restart, RestartPolicy};
pub use types::schedule::{Priority, Schedule};
pub use types::snapshot::{ActorState, ActorStats, HandlingTime, PeerStats, ShardStats, Snapshot};
pub use types::stats::{DeadLetterCause, DeadLetterHook, DeadLetters, ShutdownReport, Stats};

/// Whether the calling thread runs a shard of `mesh`, and which.
pub fn current_shard(mesh: &Mesh) -> Option<usize> {
    shard::with_current(|shard| shard.filter(|s| s.mesh.id == mesh.id).map(|s| s.id as usize))
}
