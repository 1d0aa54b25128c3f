//! The one setup-time error of the runtime.

use std::fmt;

/// Why a runtime could not be built or a program could not run on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `shards(0)`.
    NoShards,
    /// More shards than CPUs this process may run on, with pinning on.
    TooManyShards {
        /// Shards asked for.
        requested: usize,
        /// CPUs in the affinity mask.
        cpus: usize,
    },
    /// The ring capacity is not a power of two of at least 2.
    RingCapacity(usize),
    /// A zero capacity (mailbox or injection queue).
    ZeroCapacity(&'static str),
    /// The fairness budget is zero.
    ZeroBudget,
    /// glommio could not start an executor.
    Executor(String),
    /// The runtime is shutting down or gone.
    ShutDown,
    /// `block_on` was called on one of the runtime's own shards.
    BlockOnShard,
    /// The shard's injection queue was full.
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoShards => {
                f.write_str("a runtime needs at least one shard: use .shards(1) or more")
            }
            Self::TooManyShards { requested, cpus } => write!(
                f,
                "{requested} pinned shards but only {cpus} CPUs in this process's affinity mask: \
                 use .shards({cpus}) or fewer, or .pin(false)"
            ),
            Self::RingCapacity(n) => write!(
                f,
                "ring capacity {n} is not a power of two of at least 2: use {}",
                (*n).max(2).next_power_of_two()
            ),
            Self::ZeroCapacity(what) => write!(f, "{what} must be at least 1"),
            Self::ZeroBudget => f.write_str("the fairness budget must be at least 1 message"),
            Self::Executor(why) => write!(f, "could not start a glommio executor: {why}"),
            Self::ShutDown => f.write_str("the runtime is shut down"),
            Self::BlockOnShard => f.write_str(
                "block_on called from a shard of the same runtime: it would wait for itself; \
                 spawn a task or an actor instead",
            ),
            Self::Busy => f.write_str("the shard's injection queue is full; try again"),
        }
    }
}

impl std::error::Error for Error {}
