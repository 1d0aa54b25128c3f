//! Work from threads outside the runtime that this shard could not take
//! yet: one injected message for a full mailbox, held while the injector
//! waits behind it (so its senders see `Full` instead of a growing
//! mailbox).

use std::cell::{Cell, RefCell};

use crate::base::injected::Injected;

/// The injected message a shard holds, if any.
#[derive(Default)]
pub(crate) struct Injection {
    held: RefCell<Option<Injected>>,
    /// The held message was refused while an actor restarts: it may wait
    /// for the restart to end, as a paused ring does, and is not work
    /// (`has_work`) until a restart ends (`resume_paused_rings`). Passes
    /// still try it each time.
    waits: Cell<bool>,
}

impl Injection {
    /// Takes the held message out (to deliver it with no borrow held).
    pub(crate) fn take(&self) -> Option<Injected> {
        self.held.borrow_mut().take()
    }

    /// Holds `envelope`, refused by a full mailbox.
    pub(crate) fn hold(&self, envelope: Injected) {
        *self.held.borrow_mut() = Some(envelope);
    }

    /// Marks whether the held message waits for a restart to end; returns
    /// what it was.
    pub(crate) fn set_waits(&self, waits: bool) -> bool {
        self.waits.replace(waits)
    }

    /// Whether the held message, or else the injector, is work for a pass
    /// (`injector_empty` looks at the injector, only when nothing is held).
    #[inline(always)]
    pub(crate) fn has_work(&self, injector_empty: impl FnOnce() -> bool) -> bool {
        match self.held.borrow().is_some() {
            true => !self.waits.get(),
            false => !injector_empty(),
        }
    }
}
