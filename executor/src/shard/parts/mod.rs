//! The parts a [`Shard`](super::Shard) is made of: one struct per file,
//! each with its own fields and methods, none of which knows the shard.
//!
//! 1. [`slots`]: every actor's slot (state, generation, mailbox count).
//! 2. [`turn`]: the handler call running now and its budget.
//! 3. [`metrics`]: what the shard counts about itself and its actors.
//! 4. [`local_waits`]: outboxes waiting for room in a local mailbox.
//! 5. [`replies`]: the asks pending on this shard.

pub(crate) mod link;
pub(crate) mod local_waits;
pub(crate) mod metrics;
pub(crate) mod outbox;
pub(crate) mod replies;
pub(crate) mod restarts;
pub(crate) mod slots;
pub(crate) mod turn;
