//! Outboxes that wait for room in the mailbox of an actor of their own
//! shard, grouped by that actor.
//!
//! A pass looks at each waited-for actor's room once and moves the
//! outboxes that wait for it in turn while it has some (see
//! [`Shard::flush_outboxes`](crate::shard::Shard)), so a fan-in that holds
//! back many senders costs a pass the senders that move, not all of those
//! that wait. The queues of actors no longer waited for are kept for the
//! next ones, so holding senders back in steady state allocates nothing.
//!
//! A sender that stops while it waits is not searched for: its entry is
//! skipped when it comes up (its slot's generation or backlog is gone; see
//! `Shard::drain_outbox_of`). Senders move in the order they came to wait,
//! except that one not yet queued (or an orphaned outbox) may take room
//! that came up during a pass first.

use std::collections::VecDeque;

use crate::base::by_slot::BySlot;

/// An actor, or a sender held back by it, as `(slot, generation)`.
pub(crate) type SlotId = (u32, u32);

/// The senders waiting for one actor, in the order they came to wait.
#[derive(Debug)]
struct LocalWait {
    target: SlotId,
    senders: VecDeque<SlotId>,
}

/// The waits of one shard.
#[derive(Debug, Default)]
pub(crate) struct LocalWaits {
    waits: Vec<LocalWait>,
    /// Where in `waits` the wait for each target is.
    index: BySlot<usize, SlotId>,
    /// Emptied queues, kept for their capacity.
    spare: Vec<VecDeque<SlotId>>,
}

impl LocalWaits {
    /// Nobody waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    /// The actor wait `w` is for, if there is a wait `w`.
    pub(crate) fn target(&self, w: usize) -> Option<SlotId> {
        self.waits.get(w).map(|wait| wait.target)
    }

    /// Takes the first sender of wait `w`.
    pub(crate) fn pop_front(&mut self, w: usize) -> Option<SlotId> {
        self.waits.get_mut(w)?.senders.pop_front()
    }

    /// `sender`, taken from the front of wait `w` (for `target`), waits
    /// still: back to the front.
    pub(crate) fn push_front(&mut self, w: usize, target: SlotId, sender: SlotId) {
        match self.waits.get_mut(w) {
            Some(wait) if wait.target == target => wait.senders.push_front(sender),
            _ => self.push_back(target, sender),
        }
    }

    /// `sender` waits for `target`, behind those that wait for it already.
    pub(crate) fn push_back(&mut self, target: SlotId, sender: SlotId) {
        match self.index.get(&target) {
            Some(&w) => self.waits[w].senders.push_back(sender),
            None => {
                let mut senders = self.spare.pop().unwrap_or_default();
                senders.push_back(sender);
                self.index.insert(target, self.waits.len());
                self.waits.push(LocalWait { target, senders });
            }
        }
    }

    /// Ends wait `w` if nobody is left in it (the next wait takes its
    /// place); whether it ended.
    pub(crate) fn end_if_empty(&mut self, w: usize) -> bool {
        if !self.waits.get(w).is_some_and(|wait| wait.senders.is_empty()) {
            return false;
        }
        let wait = self.waits.swap_remove(w);
        self.index.remove(&wait.target);
        if let Some(moved) = self.waits.get(w) {
            self.index.insert(moved.target, w);
        }
        self.spare.push(wait.senders);
        true
    }

    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.spare.extend(self.waits.drain(..).map(|mut wait| {
            wait.senders.clear();
            wait.senders
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_move_in_the_order_they_came_per_target() {
        let mut waits = LocalWaits::default();
        waits.push_back((1, 0), (10, 0));
        waits.push_back((2, 0), (20, 0));
        waits.push_back((1, 0), (11, 0));
        assert_eq!(waits.target(0), Some((1, 0)));
        assert_eq!(waits.pop_front(0), Some((10, 0)));
        waits.push_front(0, (1, 0), (10, 0));
        assert_eq!(waits.pop_front(0), Some((10, 0)));
        assert_eq!(waits.pop_front(0), Some((11, 0)));
        assert!(waits.end_if_empty(0));
        assert_eq!(waits.target(0), Some((2, 0)), "the next wait takes its place");
        waits.push_back((2, 0), (21, 0));
        assert_eq!(waits.pop_front(0), Some((20, 0)), "found through the index");
        assert_eq!(waits.pop_front(0), Some((21, 0)));
        assert!(waits.end_if_empty(0));
        assert!(waits.is_empty());
        assert_eq!(waits.spare.len(), 2, "queues kept for later waits");
    }
}
