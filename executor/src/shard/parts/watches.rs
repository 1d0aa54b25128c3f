//! The watches a shard's actors have set on others (the behaviour is
//! `shard::ops::watch`). Generic over the shard type, which this layer
//! does not name.

use std::collections::HashMap;

use crate::StopReason;

/// Turns the reason into the watcher's message and queues it on shard `S`.
pub(crate) type Fire<S> = Box<dyn FnOnce(&S, StopReason)>;

/// The watches set by the actors of one shard.
pub(crate) struct Watches<S> {
    next: u64,
    /// By id: the watching actor's slot, and what to do when it fires.
    by_id: HashMap<u64, (u32, Fire<S>)>,
}

impl<S> Default for Watches<S> {
    fn default() -> Self {
        Self { next: 0, by_id: HashMap::new() }
    }
}

impl<S> std::fmt::Debug for Watches<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches").field("active", &self.by_id.len()).finish()
    }
}

impl<S> Watches<S> {
    /// Keeps the watch of the actor at `slot`; returns its id.
    pub(crate) fn add(&mut self, slot: u32, fire: Fire<S>) -> u64 {
        let id = self.next;
        self.next += 1;
        self.by_id.insert(id, (slot, fire));
        id
    }

    /// Takes watch `id` out, if it is still kept.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Fire<S>> {
        self.by_id.remove(&id).map(|(_, fire)| fire)
    }

    /// Takes out every watch of the actor at `slot` (for the caller to drop
    /// once the table is no longer borrowed: user code may run then).
    pub(crate) fn remove_of(&mut self, slot: u32) -> Vec<Fire<S>> {
        let ids: Vec<u64> =
            self.by_id.iter().filter(|(_, (s, _))| *s == slot).map(|(&id, _)| id).collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }
}
