//! The writing end of a ring.

use std::fmt;

use super::{Ring, CONSUMER_GONE, PRODUCER_GONE};
use crate::sync::{Arc, Ordering};
use crate::{Closed, Doorbell, PushError};

/// The writing end of a [`spsc`](crate::spsc) ring. There is exactly one.
///
/// Aligned to 128 bytes for the same reason as [`Consumer`](super::Consumer):
/// its indices must not share a cache line with the consumer's thread.
#[repr(align(128))]
pub struct Producer<T> {
    ring: Arc<Ring<T>>,
    /// The ring's doorbell, held directly: publication rings it, and this
    /// saves a pointer hop through the ring on every push.
    doorbell: Arc<Doorbell>,
    /// Position of the next slot to write; staged items lie in
    /// `published..tail`. Always `tail - cached_head <= capacity`.
    tail: usize,
    /// The last tail stored to `ring.tail`.
    published: usize,
    /// A head the consumer has stored; never ahead of the real head, so
    /// `cached_head + capacity` bounds the slots we may write. Reloaded only
    /// when the ring looks full.
    cached_head: usize,
    /// The doorbell epoch this producer last woke (see [`Doorbell::ring`]).
    woken: usize,
    /// How many times a publication woke the parked consumer.
    wakes: u64,
}

impl<T> Producer<T> {
    pub(super) fn new(ring: Arc<Ring<T>>) -> Self {
        Self {
            doorbell: Arc::clone(&ring.doorbell),
            ring,
            tail: 0,
            published: 0,
            cached_head: 0,
            woken: 0,
            wakes: 0,
        }
    }

    /// Pushes `item` and makes it visible to the consumer at once.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when there is no free slot, [`PushError::Closed`]
    /// when the consumer is gone; both hand `item` back.
    #[inline]
    pub fn try_push(&mut self, item: T) -> Result<(), PushError<T>> {
        self.stage(item)?;
        self.publish();
        Ok(())
    }

    /// Writes `item` into the ring without making it visible; a later
    /// [`publish`](Self::publish) (or dropping the producer) publishes every
    /// staged item with one store. Staged items take slots.
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push).
    #[inline]
    pub fn stage(&mut self, item: T) -> Result<(), PushError<T>> {
        if self.consumer_gone() {
            return Err(PushError::Closed(item));
        }
        if self.free_slots_cached() == 0 && self.reload_head() == 0 {
            return Err(PushError::Full(item));
        }
        self.write(item);
        Ok(())
    }

    /// Makes every staged item visible to the consumer and wakes the consumer
    /// if it is parked. Costs one release store, a compiler fence and one
    /// load when there is something to publish, nothing otherwise.
    #[inline]
    pub fn publish(&mut self) {
        if self.tail == self.published {
            return;
        }
        // Release: the slots written before this store are initialised for a
        // consumer that Acquire-loads the new tail.
        self.ring.tail.store(self.tail, Ordering::Release);
        self.published = self.tail;
        if self.doorbell.ring(&mut self.woken) {
            self.wakes += 1;
        }
    }

    /// Pushes items from `items` while there is room and publishes them with
    /// one store. Items that did not fit stay in the iterator: it is advanced
    /// only for items that were pushed. Returns how many were pushed (0 when
    /// the ring is full).
    ///
    /// # Errors
    ///
    /// [`Closed`] when the consumer is gone; nothing is taken from `items`.
    pub fn push_iter<I: Iterator<Item = T>>(&mut self, items: &mut I) -> Result<usize, Closed> {
        if self.consumer_gone() {
            return Err(Closed);
        }
        let mut free = self.free_slots_cached();
        if free == 0 {
            free = self.reload_head();
        }
        let mut pushed = 0;
        while pushed < free {
            let Some(item) = items.next() else { break };
            self.write(item);
            pushed += 1;
        }
        self.publish();
        Ok(pushed)
    }

    /// Copies as many of `items` as fit and publishes them with one store.
    /// Returns how many were pushed, a prefix of `items`.
    ///
    /// # Errors
    ///
    /// [`Closed`] when the consumer is gone.
    pub fn push_slice(&mut self, items: &[T]) -> Result<usize, Closed>
    where
        T: Copy,
    {
        if self.consumer_gone() {
            return Err(Closed);
        }
        let mut free = self.free_slots_cached();
        if free < items.len() {
            free = self.reload_head();
        }
        let count = free.min(items.len());
        // SAFETY: we are the producer and the `count` slots from `tail` are
        // free (`count <= tail - cached_head` free slots, cached_head <= head).
        unsafe { self.ring.copy_in(self.tail, &items[..count]) };
        self.tail = self.tail.wrapping_add(count);
        self.publish();
        Ok(count)
    }

    /// How many items could be pushed right now without waiting (reloads the
    /// consumer's index).
    pub fn free_slots(&mut self) -> usize {
        self.reload_head()
    }

    /// How many items are staged and not yet published.
    pub fn staged(&self) -> usize {
        self.tail.wrapping_sub(self.published)
    }

    /// How many publications found the consumer parked and woke it.
    pub fn wakes(&self) -> u64 {
        self.wakes
    }

    /// The number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Whether the consumer is gone. Once true, stays true.
    pub fn is_closed(&self) -> bool {
        self.consumer_gone()
    }

    #[inline]
    fn consumer_gone(&self) -> bool {
        self.ring.is_gone(CONSUMER_GONE)
    }

    #[inline]
    fn free_slots_cached(&self) -> usize {
        self.ring.capacity() - self.tail.wrapping_sub(self.cached_head)
    }

    /// Reloads the consumer's head and returns the free slots.
    #[cold]
    fn reload_head(&mut self) -> usize {
        // Acquire: the consumer moved the items out of the slots before its
        // Release store of head, so we may overwrite them.
        self.cached_head = self.ring.head.load(Ordering::Acquire);
        debug_assert!(self.tail.wrapping_sub(self.cached_head) <= self.ring.capacity());
        self.free_slots_cached()
    }

    /// Writes `item` at `tail` and advances it. The caller has checked that a
    /// slot is free.
    #[inline]
    fn write(&mut self, item: T) {
        debug_assert!(self.free_slots_cached() > 0);
        // SAFETY: the slot at `tail` is free (tail - cached_head < capacity
        // and cached_head <= head), so the consumer does not access it until
        // we publish a tail beyond it; we are the only producer.
        self.ring.slot(self.tail).with_mut(|slot| unsafe { (*slot).write(item) });
        self.tail = self.tail.wrapping_add(1);
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // Nothing staged is lost: publish it for the consumer (or for the
        // ring's own drop, if the consumer is gone too).
        if self.tail != self.published {
            self.ring.tail.store(self.tail, Ordering::Release);
            self.published = self.tail;
        }
        self.ring.close(PRODUCER_GONE);
        // A parked consumer must learn that the ring is closed.
        self.doorbell.ring(&mut self.woken);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.ring.capacity())
            .field("tail", &self.tail)
            .field("published", &self.published)
            .field("closed", &self.consumer_gone())
            .finish()
    }
}
