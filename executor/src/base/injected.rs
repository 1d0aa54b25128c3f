//! What threads outside the runtime put in a shard's injection queue.

use whirl_mailbox::Payload;

use crate::base::entry::Kind;

/// Delivers an injected payload on its shard; hands it back if the target
/// mailbox is full (the shard holds it and retries).
///
/// # Safety
///
/// The caller must ensure: `shard` is the shard the envelope was injected
/// into, running on this thread, as its run functions take it (erased, see
/// [`RunFn`](crate::base::entry::RunFn)); the payload is of the type this
/// function was chosen for.
pub(crate) type DeliverFn =
    unsafe fn(shard: *const (), target: u64, payload: Payload) -> Result<(), Payload>;

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
    /// Delivers it on `shard` (the shard that drains the injector, erased);
    /// hands it back if its mailbox is full.
    ///
    /// # Safety
    ///
    /// As [`DeliverFn`], for `shard`.
    pub(crate) unsafe fn deliver(self, shard: *const ()) -> Result<(), Self> {
        let Self { deliver, target, payload, kind } = self;
        // SAFETY: `deliver` was chosen with the payload's type when the
        // envelope was made; the shard is the caller's (the contract).
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

/// A closure to run on the shard that takes it, from outside (`Mesh::run_on`).
pub(crate) type RunOnShard = Box<dyn FnOnce() + Send>;

/// Injected: runs the closure in the payload; a panic is caught and logged.
///
/// # Safety
///
/// As [`DeliverFn`], with a [`RunOnShard`] payload.
unsafe fn deliver_run(_: *const (), _: u64, payload: Payload) -> Result<(), Payload> {
    let run: RunOnShard = payload.downcast().unwrap_or_else(|_| unreachable!("run payload"));
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
        tracing::error!("a closure run on a shard panicked");
    }
    Ok(())
}

/// The envelope that runs `f` on the shard that takes it.
pub(crate) fn injected_run(f: RunOnShard) -> Injected {
    Injected { deliver: deliver_run, target: 0, payload: Payload::new(f), kind: Kind::Command }
}
