//! What threads outside the runtime put in a shard's injection queue.

use whirl_mailbox::Payload;

use crate::base::entry::Kind;
use crate::shard::Shard;

/// Delivers an injected payload on its shard; hands it back if the target
/// mailbox is full (the shard holds it and retries).
///
/// # Safety
///
/// The caller must ensure: `shard` is the shard the envelope was injected
/// into, running on this thread; the payload is of the type this function
/// was chosen for.
pub(crate) type DeliverFn =
    unsafe fn(shard: &Shard, target: u64, payload: Payload) -> Result<(), Payload>;

/// A message or command from outside the runtime.
pub(crate) struct Injected {
    pub(crate) deliver: DeliverFn,
    /// Slot and generation (or reply entry), as in an entry's word 1.
    pub(crate) target: u64,
    pub(crate) payload: Payload,
    /// What it is, as an entry's kind: a dropped envelope is a dead letter
    /// only if it is a letter ([`Kind::is_letter`]).
    pub(crate) kind: Kind,
}

impl Injected {
    /// Delivers it on `shard`; hands it back if its mailbox is full.
    pub(crate) fn deliver(self, shard: &Shard) -> Result<(), Self> {
        let Self { deliver, target, payload, kind } = self;
        // SAFETY: `deliver` was chosen with the payload's type when the
        // envelope was made, and the shard that drains the injector calls it.
        unsafe { deliver(shard, target, payload) }.map_err(|payload| Self {
            deliver,
            target,
            payload,
            kind,
        })
    }
}

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injected").field("target", &self.target).finish_non_exhaustive()
    }
}
