//! The bounded lock-free single-producer single-consumer ring.
//!
//! [`channel`] builds a ring of a power-of-two capacity and returns its two
//! ends. Every cross-core message of whirl travels through one.
//!
//! # Layout
//!
//! `head` (next slot to read, written by the consumer) and `tail` (next slot
//! to write, written by the producer) live on separate cache lines. Each end
//! keeps its own index and a cached copy of the other's in its own struct, and
//! reloads the shared one only when the ring looks full (producer) or empty
//! (consumer). In a steady stream each end thus touches the other's line once
//! per lap of the ring instead of once per item.
//!
//! # Batching
//!
//! [`Producer::stage`] writes an item without making it visible;
//! [`Producer::publish`] makes every staged item visible with one release
//! store. [`Producer::push_iter`] and [`Producer::push_slice`] do both.
//! [`Consumer::pop_each`] and [`Consumer::pop_slice`] move many items and
//! release their slots with one store.
//!
//! # Closing
//!
//! When one end is dropped the other learns it: pushes return
//! [`PushError::Closed`], and pops return [`PopError::Closed`] once the ring
//! is drained. A dropped producer publishes what it had staged first. Items
//! still in the ring when both ends are gone are dropped exactly once.
//!
//! # Allocation behavior
//!
//! [`channel`] allocates the slots once. Nothing after that allocates.
//!
//! [`PushError::Closed`]: crate::PushError::Closed
//! [`PopError::Closed`]: crate::PopError::Closed

mod consumer;
mod producer;

use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

pub use self::consumer::Consumer;
pub use self::producer::Producer;
use crate::sync::{Arc, AtomicU8, AtomicUsize, Ordering, UnsafeCell};
use crate::{CapacityError, Doorbell};

/// Bit in `Ring::closed`: the producer is gone.
const PRODUCER_GONE: u8 = 0b01;
/// Bit in `Ring::closed`: the consumer is gone.
const CONSUMER_GONE: u8 = 0b10;

/// Builds a ring holding up to `capacity` items and returns its two ends. The
/// ring has its own [`Doorbell`], reachable through [`Consumer::doorbell`].
///
/// # Errors
///
/// `capacity` must be a power of two, at least 1, and small enough for
/// `capacity` items to be allocated; otherwise a [`CapacityError`] says which
/// rule was broken.
///
/// ```
/// let (mut tx, mut rx) = whirl_mailbox::spsc::channel::<u64>(1024)?;
/// tx.try_push(1).unwrap();
/// assert_eq!(rx.try_pop(), Ok(1));
/// assert!(whirl_mailbox::spsc::channel::<u64>(1000).is_err());
/// # Ok::<(), whirl_mailbox::CapacityError>(())
/// ```
pub fn channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    channel_with_doorbell(capacity, Arc::new(Doorbell::new()))
}

/// As [`channel`], but the consumer is woken through `doorbell`, which may be
/// shared by other rings with the same consumer. A consumer that reads many
/// rings parks once on their common doorbell.
pub fn channel_with_doorbell<T>(
    capacity: usize,
    doorbell: Arc<Doorbell>,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    let ring = Arc::new(Ring::new(capacity, doorbell)?);
    Ok((Producer::new(Arc::clone(&ring)), Consumer::new(ring)))
}

/// The state both ends share.
///
/// # Invariants
///
/// * `head` and `tail` count positions since creation and wrap at
///   `usize::MAX`; a position's slot is `position & mask`. Since `capacity`
///   divides `2^usize::BITS`, wrapping keeps slots consistent.
/// * `tail.wrapping_sub(head)` is in `0..=capacity`: the number of published,
///   unread items.
/// * Slots at positions `head..tail` hold initialised items owned by the
///   ring; the producer may also have initialised staged slots at positions
///   `tail..producer's own tail`, which it owns until it publishes them.
pub(crate) struct Ring<T> {
    /// Position of the next item the consumer reads. Stored only by the
    /// consumer, with Release after it has moved the items out, so a producer
    /// that Acquire-loads it may overwrite those slots.
    head: CachePadded<AtomicUsize>,
    /// Position one past the last published item. Stored only by the
    /// producer, with Release after writing the items, so a consumer that
    /// Acquire-loads it sees them initialised.
    tail: CachePadded<AtomicUsize>,
    /// `PRODUCER_GONE | CONSUMER_GONE` bits, set once each by the ending side
    /// with Release after its last index store; read with Acquire. Read-mostly,
    /// so it shares a line with the other read-only fields.
    closed: AtomicU8,
    /// `capacity - 1`.
    mask: usize,
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    doorbell: Arc<Doorbell>,
}

impl<T> Ring<T> {
    fn new(capacity: usize, doorbell: Arc<Doorbell>) -> Result<Self, CapacityError> {
        if capacity == 0 {
            return Err(CapacityError::new(capacity, "a ring needs at least one slot"));
        }
        if !capacity.is_power_of_two() {
            return Err(CapacityError::new(
                capacity,
                "capacity must be a power of two (use usize::next_power_of_two)",
            ));
        }
        if std::alloc::Layout::array::<UnsafeCell<MaybeUninit<T>>>(capacity).is_err() {
            return Err(CapacityError::new(capacity, "capacity times item size overflows isize"));
        }
        let mut slots = Vec::new();
        if slots.try_reserve_exact(capacity).is_err() {
            return Err(CapacityError::new(capacity, "not enough memory for this many slots"));
        }
        slots.extend((0..capacity).map(|_| UnsafeCell::new(MaybeUninit::uninit())));
        Ok(Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            closed: AtomicU8::new(0),
            mask: capacity - 1,
            slots: slots.into_boxed_slice(),
            doorbell,
        })
    }

    fn capacity(&self) -> usize {
        self.mask + 1
    }

    #[inline(always)]
    fn slot(&self, position: usize) -> &UnsafeCell<MaybeUninit<T>> {
        debug_assert_eq!(self.slots.len(), self.mask + 1);
        // SAFETY: `slots.len() == mask + 1`, so `position & mask` is in bounds.
        unsafe { self.slots.get_unchecked(position & self.mask) }
    }

    /// Copies `items` into the slots from `position` on, wrapping at the end
    /// of the array: two `memcpy`s at most.
    ///
    /// # Safety
    ///
    /// The caller must ensure: it is the producer, and the slots at
    /// `position..position + items.len()` are free (not in `head..tail`).
    #[inline]
    unsafe fn copy_in(&self, position: usize, items: &[T])
    where
        T: Copy,
    {
        debug_assert!(items.len() <= self.capacity());
        #[cfg(not(loom))]
        {
            let start = position & self.mask;
            let first = items.len().min(self.capacity() - start);
            // `UnsafeCell<MaybeUninit<T>>` has the layout of `T`, and a
            // pointer from the whole slice may write any slot through the
            // cells.
            let base = self.slots.as_ptr() as *mut T;
            // SAFETY: `start + first <= capacity` and `items.len() - first
            // <= start`, so both ranges are inside the array; the caller
            // owns those slots; `items` is a different allocation.
            unsafe {
                std::ptr::copy_nonoverlapping(items.as_ptr(), base.add(start), first);
                std::ptr::copy_nonoverlapping(items.as_ptr().add(first), base, items.len() - first);
            }
        }
        // Loom tracks each cell, so it gets one write per slot.
        #[cfg(loom)]
        for (i, item) in items.iter().enumerate() {
            // SAFETY: as above, slot by slot.
            self.slot(position.wrapping_add(i)).with_mut(|slot| unsafe { (*slot).write(*item) });
        }
    }

    /// Copies the items at `position..position + out.len()` into `out`, two
    /// `memcpy`s at most.
    ///
    /// # Safety
    ///
    /// The caller must ensure: it is the consumer, and those positions are
    /// published and not yet released (inside `head..tail`).
    #[inline]
    unsafe fn copy_out(&self, position: usize, out: &mut [T])
    where
        T: Copy,
    {
        debug_assert!(out.len() <= self.capacity());
        #[cfg(not(loom))]
        {
            let start = position & self.mask;
            let first = out.len().min(self.capacity() - start);
            let base = self.slots.as_ptr() as *const T;
            // SAFETY: both ranges are inside the array (as in `copy_in`) and
            // hold initialised items the caller may read; `out` is a
            // different allocation.
            unsafe {
                std::ptr::copy_nonoverlapping(base.add(start), out.as_mut_ptr(), first);
                std::ptr::copy_nonoverlapping(base, out.as_mut_ptr().add(first), out.len() - first);
            }
        }
        #[cfg(loom)]
        for (i, item) in out.iter_mut().enumerate() {
            // SAFETY: as above, slot by slot.
            *item =
                self.slot(position.wrapping_add(i)).with(|slot| unsafe { (*slot).assume_init() });
        }
    }

    /// Marks one side gone. Release: everything that side did before (its
    /// last index store) is visible to whoever acquires the bit.
    fn close(&self, side: u8) {
        self.closed.fetch_or(side, Ordering::Release);
    }

    fn is_gone(&self, side: u8) -> bool {
        self.closed.load(Ordering::Acquire) & side != 0
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Both ends are gone (this is the last Arc), and the Arc's drop
        // synchronised with their last accesses, so Relaxed loads see the
        // final indices. The producer published everything it staged.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        debug_assert!(tail.wrapping_sub(head) <= self.capacity());
        let mut position = head;
        while position != tail {
            // SAFETY: positions head..tail hold initialised items that nobody
            // else can reach any more; each is dropped once, here.
            self.slot(position).with_mut(|slot| unsafe { (*slot).assume_init_drop() });
            position = position.wrapping_add(1);
        }
    }
}

// SAFETY: the ring moves `T`s from the producer's thread to the consumer's,
// so it is Send and Sync when `T: Send`. Every slot is accessed by one side at
// a time: by the producer while outside `head..tail` (it owns free slots), by
// the consumer inside `head..tail`, with the index Release/Acquire pairs above
// handing slots over.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: see the `Send` impl.
unsafe impl<T: Send> Sync for Ring<T> {}
