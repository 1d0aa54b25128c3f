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
mod actor_ref;
mod arena;
mod ask;
mod base;
mod batch;
mod cell;
mod commands;
mod context;
mod dead_letters;
mod dispatch;
mod lifecycle;
mod link;
mod local_waits;
mod mesh;
mod metrics;
mod outbox;
pub mod registry;
mod restart;
mod room;
mod send_many;
mod shard;
mod slots;
mod snapshot;
mod spawn;
mod supervisor;
mod system;
pub mod time;
mod timer_thread;
mod turn;
mod types;
mod watch;

pub use actor::{Actor, AfterPanic};
pub use actor_ref::ActorRef;
pub use ask::{Ask, Reply};
pub use batch::Batch;
pub use bumpalo;
pub use context::{Context, TimerHandle};
pub use dispatch::{run_shard, LOW_SHARE, NORMAL_SHARE, PASS_BUDGET};
pub use mesh::Mesh;
pub use metrics::MAX_TIMED_ACTORS;
pub use shard::spawn_program;
pub use snapshot::{ActorState, ActorStats, HandlingTime, PeerStats, ShardStats, Snapshot};
pub use spawn::{spawn_on, spawn_on_with};
pub use supervisor::{
    spawn_supervisor, ChildError, ChildInfo, ChildSpec, ChildState, Strategy, Supervisor,
    SupervisorMsg, SupervisorRef,
};
pub use system::{Placement, Shutdown, SpawnOptions, System};
pub use types::config::{ConfigError, ShardConfig, MAX_RING_MEMORY, MAX_SHARDS, MIN_RING_CAPACITY};
pub use types::error::{AskError, SendError, SpawnError};
pub use types::failure::StopReason;
pub use types::restart_policy::{MailboxOnRestart, Restart, RestartPolicy};
pub use types::schedule::{Priority, Schedule, HIGH_CHECK_EVERY};
pub use types::stats::{DeadLetterCause, DeadLetterHook, DeadLetters, ShutdownReport, Stats};

/// Whether the calling thread runs a shard of `mesh`, and which.
pub fn current_shard(mesh: &Mesh) -> Option<usize> {
    shard::with_current(|shard| shard.filter(|s| s.mesh.id == mesh.id).map(|s| s.id as usize))
}
