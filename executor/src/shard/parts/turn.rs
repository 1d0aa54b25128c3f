//! [`Turn`]: the handler call running on a shard, and the limits and
//! requests of its turn. A part of the shard (`Shard::turn`) with private
//! fields: everything that reads or changes who runs, how many messages a
//! turn may take, and how the running actor's incarnation ends goes
//! through these methods.
//!
//! Single-threaded and never borrowed across user code: each method takes
//! or sets a value and returns.

use std::cell::{Cell, RefCell};

use crate::types::failure::StopReason;

/// An actor as `(slot, generation)`.
type Actor = (u32, u32);

/// How an incarnation is asked to end: the reason, and whether it ends for
/// good (never restarted, whatever its policy).
pub(crate) type End = (StopReason, bool);

/// The running handler call and its turn.
#[derive(Debug)]
pub(crate) struct Turn {
    /// The actor whose handler (or hook) runs now. A stop asked for it
    /// waits until it returns, and a panic fails it.
    running: Cell<Option<Actor>>,
    /// The most messages the next turn may take (the pass budget left).
    cap: Cell<usize>,
    /// Messages the last turn took after its first (a batch's).
    extra: Cell<usize>,
    /// The running actor asked its incarnation to end (`Context::stop`,
    /// `fail`): its batch ends.
    over: Cell<bool>,
    /// The actor that called `Context::fail` in the call now running: a
    /// `Reply` dropped unanswered while it is the running actor reports
    /// `AskError::Failed`. Once its call returns it no longer runs, so the
    /// mark is void (nothing clears it per call); it is cleared when a
    /// handler's turn begins or a call panics, so it never outlives the
    /// incarnation that set it.
    failing: Cell<Option<Actor>>,
    /// A stop was asked for the running actor, for when its handler
    /// returns, and why (merged with any others).
    stop_after: Cell<bool>,
    end_after: RefCell<Option<End>>,
}

impl Turn {
    pub(crate) fn new() -> Self {
        Self {
            running: Cell::new(None),
            cap: Cell::new(usize::MAX),
            extra: Cell::new(0),
            over: Cell::new(false),
            failing: Cell::new(None),
            stop_after: Cell::new(false),
            end_after: RefCell::new(None),
        }
    }

    // ----- who runs ---------------------------------------------------------

    /// A handler's turn begins for `actor`.
    #[inline(always)]
    pub(crate) fn begin(&self, actor: Actor) {
        self.running.set(Some(actor));
        self.over.set(false);
        self.failing.set(None);
    }

    /// A hook of `actor` runs as a handler does (a stop for it waits).
    pub(crate) fn run_hook(&self, actor: Actor) {
        self.running.set(Some(actor));
    }

    /// Whether `actor`'s call runs now.
    pub(crate) fn is_running(&self, actor: Actor) -> bool {
        self.running.get() == Some(actor)
    }

    /// The running call (a handler's, or a hook's) returned; whether a stop
    /// was asked for its actor meanwhile.
    #[inline(always)]
    pub(crate) fn returned(&self) -> bool {
        self.running.set(None);
        self.stop_after.get()
    }

    /// The running call panicked: it is over (a `fail` before the panic
    /// included); returns its actor.
    pub(crate) fn panicked(&self) -> Option<Actor> {
        self.failing.set(None);
        self.running.take()
    }

    // ----- how the running actor ends -----------------------------------------

    /// The running actor asked its incarnation to end: its batch ends.
    pub(crate) fn end_requested(&self) {
        self.over.set(true);
    }

    /// The running actor failed on purpose (`Context::fail`).
    pub(crate) fn fail(&self, actor: Actor) {
        self.failing.set(Some(actor));
        self.over.set(true);
    }

    /// Whether the running call is failing on purpose: a reply it drops
    /// unanswered reports `Failed`.
    pub(crate) fn is_failing(&self) -> bool {
        self.failing.get().is_some_and(|actor| Some(actor) == self.running.get())
    }

    /// Whether the running actor's batch must end now.
    pub(crate) fn batch_ends(&self) -> bool {
        self.over.get() || self.stop_after.get()
    }

    /// A stop for the running actor, for when its call returns.
    pub(crate) fn stop_after(&self, end: End) {
        self.stop_after.set(true);
        merge_end(&mut self.end_after.borrow_mut(), end);
    }

    /// The stop asked for the running actor while it ran, merged with
    /// `end` (what the call itself asked, if anything).
    pub(crate) fn take_end(&self, end: Option<End>) -> Option<End> {
        self.stop_after.set(false);
        let mut merged = self.end_after.borrow_mut().take();
        if let Some(end) = end {
            merge_end(&mut merged, end);
        }
        merged
    }

    // ----- the turn's limits ------------------------------------------------

    /// The next turn may take at most `messages`.
    pub(crate) fn limit(&self, messages: usize) {
        self.cap.set(messages);
    }

    /// Turns take what their actor's budget allows.
    pub(crate) fn unlimited(&self) {
        self.cap.set(usize::MAX);
    }

    /// The most messages the next turn may take.
    #[inline(always)]
    pub(crate) fn cap(&self) -> usize {
        self.cap.get()
    }

    /// The last turn took `messages` after its first.
    #[inline(always)]
    pub(crate) fn took_extra(&self, messages: usize) {
        self.extra.set(messages);
    }

    /// Messages the last turn took after its first, and forgets them.
    #[inline(always)]
    pub(crate) fn take_extra(&self) -> usize {
        self.extra.replace(0)
    }
}

/// Merges a request to end an incarnation into those before it: a failure
/// wins over a plain stop; for good wins over restartable.
pub(crate) fn merge_end(into: &mut Option<End>, end: End) {
    *into = Some(match into.take() {
        None => end,
        Some((reason, for_good)) => {
            let reason = if reason.is_failure() { reason } else { end.0 };
            (reason, for_good || end.1)
        }
    });
}
