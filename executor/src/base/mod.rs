//! The bottom layer: what a shard is built from, knowing nothing of shards,
//! actors or the mesh. Files here import only each other.
//!
//! 1. [`entry`]: an entry's layout (run function, target, kind, message),
//!    and the one shape of run functions (the shard as `*const ()`).
//! 2. [`run_queue`]: the shard's flat FIFO of entries.
//! 3. [`by_slot`]: small maps keyed by slot; [`liveness`]: generations of
//!    every slot, readable from any thread.
//! 4. [`local_cell`]: a cell for single-threaded state that no borrow may
//!    outlive; [`restart_window`]: the sliding window of restart intensity.
//! 5. [`injected`]: the envelope of work from outside the runtime, and
//!    [`actor_fns`]: the two functions that deliver an actor type's
//!    messages (both take the shard erased, as run functions do).
//! 6. [`drop_caught`]: dropping a value whose `Drop` (user code) may panic.
//! 7. [`reused_future`]: one future at a time in a buffer kept for the
//!    next (what `Context::wait` awaits in).
//! 8. [`tunables`]: every tunable constant; [`time`] and [`timer_thread`]:
//!    timers for tasks and for asks from any thread.

pub(crate) mod actor_fns;
pub(crate) mod by_slot;
pub(crate) mod entry;
pub(crate) mod injected;
pub(crate) mod liveness;
pub(crate) mod local_cell;
pub(crate) mod restart_window;
pub(crate) mod reused_future;
pub(crate) mod run_queue;
pub mod time;
pub(crate) mod timer_thread;
pub(crate) mod tunables;

/// Drops `value`, catching a panic of its `Drop` (user code on a message or
/// closure nobody will handle): logged, and never allowed to unwind into the
/// shard's loop.
pub(crate) fn drop_caught<T>(value: T) {
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value)));
    if dropped.is_err() {
        tracing::error!("a dead letter's drop panicked");
    }
}
