//! Restarts in flight on a shard: how many actors are restarting (the
//! shutdown drain waits for them, so messages held for a new incarnation
//! reach it), and whether a rebuild runs now.

use std::cell::Cell;

/// The shard-wide state of restarts.
#[derive(Default)]
pub(crate) struct Rebuilds {
    /// Actors of this shard in `State::Restarting`.
    restarting: Cell<u32>,
    /// A restarted actor's `started` runs: a restart it leads to is queued,
    /// not run inside this one.
    rebuilding: Cell<bool>,
}

impl Rebuilds {
    /// An actor of the shard starts restarting.
    pub(crate) fn begin(&self) {
        self.restarting.set(self.restarting.get() + 1);
    }

    /// A restarting actor was rebuilt or stopped.
    pub(crate) fn end(&self) {
        self.restarting.set(self.restarting.get() - 1);
    }

    /// Whether any actor of the shard is restarting.
    #[inline(always)]
    pub(crate) fn any(&self) -> bool {
        self.restarting.get() > 0
    }

    /// Whether a rebuild runs now.
    pub(crate) fn rebuilding(&self) -> bool {
        self.rebuilding.get()
    }

    /// Marks whether a rebuild runs; returns what it was.
    pub(crate) fn set_rebuilding(&self, rebuilding: bool) -> bool {
        self.rebuilding.replace(rebuilding)
    }
}
