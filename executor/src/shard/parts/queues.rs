//! The shard's run queues: every message and stop for its actors, in
//! order, one queue per priority class (see `types::schedule`), and which
//! class the pass serves now.

use std::cell::Cell;

use crate::base::local_cell::LocalCell;
use crate::base::run_queue::RunQueue;
use crate::base::tunables::SMALL_QUEUE_WORDS;
use crate::types::schedule::Priority;

/// The run queues of one shard, by priority class.
pub(crate) struct Queues {
    /// Indexed by `Priority as usize`.
    by_class: [LocalCell<RunQueue>; 3],
    /// The class whose run queue the pass runs now (its entries pop from
    /// that queue).
    serving: Cell<Priority>,
}

impl Queues {
    pub(crate) fn new() -> Self {
        Self {
            by_class: [
                LocalCell::new(RunQueue::with_words(SMALL_QUEUE_WORDS)),
                LocalCell::new(RunQueue::new()),
                LocalCell::new(RunQueue::with_words(SMALL_QUEUE_WORDS)),
            ],
            serving: Cell::new(Priority::Normal),
        }
    }

    /// The run queue of class `priority`.
    #[inline(always)]
    pub(crate) fn of(&self, priority: Priority) -> &LocalCell<RunQueue> {
        &self.by_class[priority as usize]
    }

    /// The run queue the pass runs now.
    #[inline(always)]
    pub(crate) fn serving(&self) -> &LocalCell<RunQueue> {
        self.of(self.serving.get())
    }

    /// The class the pass runs now.
    #[inline(always)]
    pub(crate) fn serving_class(&self) -> Priority {
        self.serving.get()
    }

    /// The pass runs class `priority` from now on.
    #[inline(always)]
    pub(crate) fn serve(&self, priority: Priority) {
        self.serving.set(priority);
    }

    /// Entries queued in all classes.
    pub(crate) fn len(&self) -> usize {
        self.by_class.iter().map(|q| q.with(|q| q.len())).sum()
    }

    /// Whether any class has an entry queued.
    pub(crate) fn any_queued(&self) -> bool {
        self.by_class.iter().any(|q| !q.with(|q| q.is_empty()))
    }

    /// Each class's queue.
    pub(crate) fn all(&self) -> &[LocalCell<RunQueue>; 3] {
        &self.by_class
    }
}
