//! What travels through the rings between shards and through the injection
//! queues from foreign threads.

use whirl_mailbox::Payload;

use crate::shard::Shard;

/// What an envelope asks the receiving shard to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Deliver `payload` (an `M`) to the actor at `slot`/`generation`.
    Message,
    /// Stop the actor at `slot`/`generation` after the messages already
    /// queued for it.
    Stop,
    /// Install an actor at the reserved `slot`; `payload` is a [`SpawnFn`].
    Spawn,
    /// Complete the ask waiting in reply entry `slot`/`generation` with
    /// `payload`.
    Reply,
    /// The ask waiting in reply entry `slot`/`generation` will get no reply.
    ReplyDropped,
    /// Run the closure in `payload` (a [`RunFn`]) on the receiving shard.
    Run,
}

/// Builds and installs an actor on the shard that receives it.
pub(crate) type SpawnFn = Box<dyn FnOnce(&Shard, u32) + Send>;

/// Runs on the shard that receives it (starts `block_on` tasks, for one).
pub(crate) type RunFn = Box<dyn FnOnce() + Send>;

/// One message or command for a shard.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
    pub(crate) kind: Kind,
    pub(crate) payload: Payload,
}

impl Envelope {
    pub(crate) fn new(kind: Kind, slot: u32, generation: u32, payload: Payload) -> Self {
        Self { slot, generation, kind, payload }
    }

    pub(crate) fn control(kind: Kind, slot: u32, generation: u32) -> Self {
        Self::new(kind, slot, generation, Payload::new(()))
    }
}
