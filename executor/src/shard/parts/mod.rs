//! The parts a [`Shard`](super::Shard) is made of: one struct per file,
//! grouped by who touches what, each with private fields and its own
//! methods; none of them names the shard. Cells stay inside the parts, so
//! hot paths compile as before.
//!
//! 1. [`slots`]: every actor's slot (state, generation, mailbox count),
//!    with the data it keeps per actor: [`link`] (supervisor),
//!    [`restarts`], [`outbox`] (what a held-back actor keeps, with the
//!    futures it [`awaits`]), watchers.
//! 2. [`turn`]: the handler call running now and its budget.
//! 3. [`queues`]: the run queues by priority class.
//! 4. [`rings`]: the rings to and from other shards, their overflow and
//!    waits.
//! 5. [`parking`]: whether the loop runs a pass or sleeps, and its waker;
//!    [`idle_poll`]: how long it polls before it sleeps.
//! 6. [`backpressure`]: senders waiting for room (with [`local_waits`]).
//! 7. [`injection`]: an injected message held for a full mailbox.
//! 8. [`jobs`]: program tasks and ids; [`rebuilds`]: restarts in flight.
//! 9. [`replies`]: the asks pending on this shard.
//! 10. [`arenas`], [`watches`], [`metrics`], [`reported`] (dead letters).

pub(crate) mod arenas;
pub(crate) mod awaits;
pub(crate) mod backpressure;
pub(crate) mod idle_poll;
pub(crate) mod injection;
pub(crate) mod jobs;
pub(crate) mod link;
pub(crate) mod local_waits;
pub(crate) mod metrics;
pub(crate) mod outbox;
pub(crate) mod parking;
pub(crate) mod queues;
pub(crate) mod rebuilds;
pub(crate) mod replies;
pub(crate) mod reported;
pub(crate) mod restarts;
pub(crate) mod rings;
pub(crate) mod slots;
pub(crate) mod turn;
pub(crate) mod watches;
