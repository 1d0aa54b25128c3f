//! What a shard does, one feature a file, each an `impl Shard` block.
//!
//! 1. [`pass`]: the dispatch loop — a pass over rings, injector and run
//!    queues; [`park`]: waiting for work; [`send`]: writing entries (and
//!    opening them); [`tasks`]: the shard's program tasks.
//! 2. [`lifecycle`]: an actor's start, stop and removal; [`restart`]: a
//!    new incarnation in place; [`link`]: the child–supervisor link.
//! 3. [`backpressure`]: outboxes that wait for room; [`room`]: tasks that
//!    wait for room in a ring; [`awaits`]: actors that await a future or
//!    take a stream's items as their mailbox has room.
//! 4. [`commands`]: stops, spawns and replies as entries; [`replies`]:
//!    answers to this shard's asks.
//! 5. [`watch`], [`arena`], [`snapshot`], [`report`] (dead letters).

pub(crate) mod arena;
pub(crate) mod awaits;
pub(crate) mod backpressure;
pub(crate) mod commands;
pub(crate) mod lifecycle;
pub(crate) mod link;
pub(crate) mod park;
pub(crate) mod pass;
pub(crate) mod replies;
pub(crate) mod report;
pub(crate) mod restart;
pub(crate) mod room;
pub(crate) mod send;
pub(crate) mod snapshot;
pub(crate) mod tasks;
pub(crate) mod watch;
