//! Errors of sending, asking and spawning.

use std::fmt;

/// A send that did not happen; the message comes back inside.
///
/// `Full` keeps the usual two-variant shape (tokio's `TrySendError`) so a
/// retry loop stays one pattern; which queue was full follows from where the
/// send came from: the actor's mailbox from its own shard, the ring to its
/// shard from another shard, its shard's injection queue from outside the
/// runtime.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendError<M> {
    /// No room right now: the actor's mailbox (same shard), the ring to its
    /// shard (another shard) or its shard's injection queue (outside the
    /// runtime) is full; `send_async` waits for room instead.
    Full(M),
    /// The actor is stopped for good (or the runtime is shutting down).
    Closed(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::Full(m) | Self::Closed(m) => m,
        }
    }

    /// Whether the mailbox or ring was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the actor is gone.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str(
                "no room: the actor's mailbox, or the queue to its shard, is full; retry or use \
                 send_async",
            ),
            Self::Closed(_) => f.write_str("the actor has stopped (or the runtime shut down)"),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

/// Why an ask produced no answer.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum AskError {
    /// The actor is stopped, or it dropped the reply handle without replying.
    Closed,
    /// No reply within the time given to [`Ask::timeout`](crate::Ask::timeout).
    Timeout,
    /// The handler failed while it held the reply handle: it panicked, or
    /// called [`Context::fail`](crate::Context::fail), before answering.
    Failed,
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("ask failed: the actor stopped or dropped the reply"),
            Self::Timeout => f.write_str("ask timed out"),
            Self::Failed => f.write_str("ask failed: the handler failed before answering"),
        }
    }
}

impl std::error::Error for AskError {}

/// Why an actor could not be spawned.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum SpawnError {
    /// There is no shard with this index.
    NoSuchShard {
        /// The index asked for.
        shard: usize,
        /// How many shards the runtime has.
        shards: usize,
    },
    /// The runtime is shutting down and accepts no new actors.
    ShuttingDown,
    /// The target shard's injection queue is full (spawning from a thread
    /// outside the runtime); try again.
    Busy,
    /// The shard has handed out all 2^30 slot indices.
    TooManyActors,
    /// [`System::spawn_local`](crate::System::spawn_local) was called off
    /// the runtime's shards (a plain thread, another runtime): a value that
    /// is not `Send` can only be spawned on the shard it is on.
    NotOnAShard,
    /// A supervisor's spec is wrong (a child on a shard the runtime does
    /// not have, two children with one id); the message says which and what
    /// to do.
    InvalidSupervisor(String),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchShard { shard, shards } => write!(
                f,
                "cannot spawn on shard {shard}: the runtime has {shards} shards (0..{shards})"
            ),
            Self::ShuttingDown => f.write_str("cannot spawn: the runtime is shutting down"),
            Self::Busy => f.write_str("cannot spawn: the shard's injection queue is full"),
            Self::TooManyActors => {
                f.write_str("cannot spawn: the shard has used all 2^30 actor slots")
            }
            Self::NotOnAShard => f.write_str(
                "cannot spawn a local actor here: call spawn_local on one of the runtime's \
                 shards (in a handler, a piped job or a program task), or spawn_once from \
                 elsewhere",
            ),
            Self::InvalidSupervisor(why) => write!(f, "cannot spawn the supervisor: {why}"),
        }
    }
}

impl std::error::Error for SpawnError {}
