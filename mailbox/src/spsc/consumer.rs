//! The reading end of a ring.

use std::fmt;
use std::task::{Context, Poll};

use super::{Ring, CONSUMER_GONE, PRODUCER_GONE};
use crate::sync::{Arc, Ordering};
use crate::{Closed, Doorbell, PopError};

/// The reading end of a [`spsc`](crate::spsc) ring. There is exactly one.
///
/// Aligned to 128 bytes (two cache lines, the unit the adjacent-line
/// prefetcher moves) so that the indices it writes on every pop never share a
/// line with whatever the producer's thread writes, wherever the two ends end
/// up in memory; measured in the ring benchmark: without it per-item
/// throughput dropped to ~0.7× rtrb's, depending on allocation luck.
#[repr(align(128))]
pub struct Consumer<T> {
    ring: Arc<Ring<T>>,
    /// Position of the next item to read. `ring.head` is updated to it after
    /// each pop or batch.
    head: usize,
    /// A tail the producer has published; never ahead of the real tail, so
    /// items in `head..cached_tail` may be read. Reloaded only when the ring
    /// looks empty.
    cached_tail: usize,
}

impl<T> Consumer<T> {
    pub(super) fn new(ring: Arc<Ring<T>>) -> Self {
        Self { ring, head: 0, cached_tail: 0 }
    }

    /// Takes the oldest item.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when nothing is published right now,
    /// [`PopError::Closed`] when the ring is drained and the producer is gone.
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        if self.available_cached() == 0 && self.reload_tail()? == 0 {
            return Err(PopError::Empty);
        }
        let item = self.read();
        self.release();
        Ok(item)
    }

    /// Pops up to `max` items, handing each to `f` in order, and releases
    /// their slots with one store. Returns how many were popped (0 when the
    /// ring is empty). If `f` panics, the items already handed over stay
    /// popped and the rest stay in the ring.
    ///
    /// # Errors
    ///
    /// [`Closed`] when the ring is drained and the producer is gone.
    pub fn pop_each(&mut self, max: usize, mut f: impl FnMut(T)) -> Result<usize, Closed> {
        self.pop_until(max, |item| {
            f(item);
            Ok(())
        })
    }

    /// As [`pop_each`](Self::pop_each), but `f` may refuse an item by handing
    /// it back: it goes back to the head of the ring, unchanged, and popping
    /// stops. Returns how many were taken. This is how a consumer applies
    /// backpressure: what it cannot take now stays in the ring, and the
    /// producer sees the ring fill up.
    ///
    /// # Errors
    ///
    /// [`Closed`] when the ring is drained and the producer is gone.
    pub fn pop_until(
        &mut self,
        max: usize,
        mut f: impl FnMut(T) -> Result<(), T>,
    ) -> Result<usize, Closed> {
        let mut available = self.available_cached();
        if available < max {
            available = self.reload_tail().map_err(|_| Closed)?;
        }
        let count = available.min(max);
        if count == 0 {
            return Ok(0);
        }
        // Publishes `head` when dropped, also if `f` unwinds.
        let batch = ReleaseOnDrop(self);
        for taken in 0..count {
            let item = batch.0.read();
            if let Err(item) = f(item) {
                batch.0.unread(item);
                return Ok(taken);
            }
        }
        drop(batch);
        Ok(count)
    }

    /// Copies up to `out.len()` items into `out` and releases their slots with
    /// one store. Returns how many were copied.
    ///
    /// # Errors
    ///
    /// [`Closed`] when the ring is drained and the producer is gone.
    pub fn pop_slice(&mut self, out: &mut [T]) -> Result<usize, Closed>
    where
        T: Copy,
    {
        let mut available = self.available_cached();
        if available < out.len() {
            available = self.reload_tail().map_err(|_| Closed)?;
        }
        let count = available.min(out.len());
        if count == 0 {
            return Ok(0);
        }
        // SAFETY: we are the consumer and the `count` items from `head` are
        // published (`count <= cached_tail - head`) and not yet released.
        unsafe { self.ring.copy_out(self.head, &mut out[..count]) };
        self.head = self.head.wrapping_add(count);
        self.release();
        Ok(count)
    }

    /// Polls for the next item, parking on the ring's doorbell when it is
    /// empty: the task is woken when the producer publishes or goes away.
    pub fn poll_pop(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, Closed>> {
        // We are running: a park announced by an earlier poll is over.
        self.ring.doorbell.cancel_park();
        match self.try_pop() {
            Ok(item) => return Poll::Ready(Ok(item)),
            Err(PopError::Closed) => return Poll::Ready(Err(Closed)),
            Err(PopError::Empty) => {}
        }
        self.ring.doorbell.prepare_park(cx.waker());
        let result = match self.try_pop() {
            Ok(item) => Ok(item),
            Err(PopError::Closed) => Err(Closed),
            Err(PopError::Empty) => return Poll::Pending,
        };
        self.ring.doorbell.cancel_park();
        Poll::Ready(result)
    }

    /// The number of published items not yet popped (reloads the producer's
    /// index).
    pub fn len(&mut self) -> usize {
        self.reload_tail().unwrap_or(0)
    }

    /// Whether no published item is waiting (reloads the producer's index).
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// The number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Whether the producer is gone. Items it published may still be waiting.
    pub fn is_closed(&self) -> bool {
        self.ring.is_gone(PRODUCER_GONE)
    }

    /// The doorbell this consumer parks on.
    pub fn doorbell(&self) -> &Arc<Doorbell> {
        &self.ring.doorbell
    }

    #[inline]
    fn available_cached(&self) -> usize {
        self.cached_tail.wrapping_sub(self.head)
    }

    /// Reloads the producer's tail; returns the available items, or
    /// `PopError::Closed` when there are none and never will be.
    #[cold]
    fn reload_tail(&mut self) -> Result<usize, PopError> {
        // Acquire: items before the published tail are initialised.
        self.cached_tail = self.ring.tail.load(Ordering::Acquire);
        debug_assert!(self.available_cached() <= self.ring.capacity());
        if self.available_cached() == 0 && self.ring.is_gone(PRODUCER_GONE) {
            // The producer stored its final tail before setting the bit, and
            // our Acquire of the bit makes that store visible: one more load
            // tells whether it published anything after our first one.
            self.cached_tail = self.ring.tail.load(Ordering::Acquire);
            if self.available_cached() == 0 {
                return Err(PopError::Closed);
            }
        }
        Ok(self.available_cached())
    }

    /// Moves the item at `head` out and advances `head` (not yet published).
    #[inline]
    fn read(&mut self) -> T {
        debug_assert!(self.available_cached() > 0);
        // SAFETY: `head < cached_tail <= tail`, so the slot holds an item the
        // producer published (its Release store of tail, our Acquire load);
        // the producer does not touch it until we publish a head beyond it.
        // We advance `head` right after, so it is read exactly once.
        let item = self.ring.slot(self.head).with(|slot| unsafe { (*slot).assume_init_read() });
        self.head = self.head.wrapping_add(1);
        item
    }

    /// Puts back the item [`read`](Self::read) just took, unchanged.
    #[inline]
    fn unread(&mut self, item: T) {
        self.head = self.head.wrapping_sub(1);
        // SAFETY: the slot at `head` is the one `read` just emptied; it is
        // still ours (we have not published a head beyond it), so the
        // producer does not touch it, and refilling it restores the
        // invariant that `head..tail` holds initialised items.
        self.ring.slot(self.head).with_mut(|slot| unsafe { (*slot).write(item) });
    }

    /// Hands the slots before `head` back to the producer.
    #[inline]
    fn release(&self) {
        // Release: we have moved the items out of those slots before the
        // producer (Acquire-loading head) may overwrite them.
        self.ring.head.store(self.head, Ordering::Release);
    }
}

/// Publishes the consumer's head when dropped, so a batch releases its slots
/// even if the closure handling the items unwinds.
struct ReleaseOnDrop<'a, T>(&'a mut Consumer<T>);

impl<T> Drop for ReleaseOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // Items left in the ring are dropped with the ring, once both ends
        // are gone.
        self.ring.close(CONSUMER_GONE);
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.ring.capacity())
            .field("head", &self.head)
            .field("closed", &self.is_closed())
            .finish()
    }
}
