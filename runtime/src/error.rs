//! The one setup-time error of the runtime.

use std::fmt;

pub use whirl_executor::ConfigError;

/// Why a runtime could not be built or a program could not run on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The configuration breaks a rule; the message says what to change.
    Config(ConfigError),
    /// glommio could not start a shard's executor.
    Executor(String),
    /// The metrics endpoint's address could not be bound.
    Endpoint(String),
    /// The runtime is shutting down or gone.
    ShutDown,
    /// `block_on` was called on one of the runtime's own shards.
    BlockOnShard,
    /// The shard's injection queue was full.
    Busy,
    /// There is no shard with this index.
    NoSuchShard {
        /// The index asked for.
        index: usize,
        /// How many shards the runtime has.
        shards: usize,
    },
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => error.fmt(f),
            Self::Executor(why) => write!(f, "could not start a glommio executor: {why}"),
            Self::Endpoint(why) => f.write_str(why),
            Self::ShutDown => f.write_str("the runtime is shut down"),
            Self::BlockOnShard => f.write_str(
                "block_on called from a shard of the same runtime: it would wait for itself; \
                 spawn a task or an actor instead",
            ),
            Self::Busy => f.write_str("the shard's injection queue is full; try again"),
            Self::NoSuchShard { index, shards } => {
                write!(f, "no shard {index}: the runtime has {shards} shards (0..{shards})")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            _ => None,
        }
    }
}
