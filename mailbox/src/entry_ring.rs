//! A bounded lock-free single-producer single-consumer ring of
//! variable-size entries, each a run of 8-byte words.
//!
//! whirl moves every cross-core message through one of these: an entry is a
//! small header and the message itself, inline, whatever its size (up to the
//! ring's largest entry). The ring does not interpret entries; the two sides
//! agree on their format, and a *drop function* given at construction tells
//! the ring how long an entry is and how to drop what it holds, for entries
//! left over when both ends are gone.
//!
//! # Layout
//!
//! Positions count words since creation. An entry starting at position `p`
//! occupies the words `p & mask ..` *contiguously*: the buffer has
//! `capacity + max_entry - 1` words, so an entry that starts near the end
//! runs on into the spare words past it instead of wrapping. The logical
//! positions it covers past the end (`0 ..` of the next lap) count as used
//! until it is consumed, so no other live entry is ever written there: the
//! producer only writes an entry of `n` words at `tail` if
//! `tail + n - head <= capacity`.
//!
//! `head` and `tail` live on cache lines of their own, each side keeps the
//! other's index cached and reloads it only when the ring looks full or
//! empty, and the producer publishes any number of staged entries with one
//! release store, as in [`spsc`](crate::spsc).
//!
//! # Waiting for room
//!
//! A producer that finds the ring full may ask to be woken when the consumer
//! frees words ([`EntryProducer::wait_for_room`]), instead of polling. It is
//! the doorbell's protocol turned around: the producer announces the wait
//! (an odd *room epoch*), pays the heavy barrier and looks at `head` again;
//! the consumer, after each release of words, pays the light barrier and
//! loads the epoch. Either the producer sees the room, or the consumer sees
//! the wait and wakes it. The consumer's cost is a compiler fence and a load
//! of a line that is written only when the ring was full.

use std::fmt;
use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use std::task::Waker;

use crate::atomic_waker::AtomicWaker;
use crate::barrier;
use crate::sync::{Arc, AtomicU8, AtomicUsize, Ordering, UnsafeCell};
use crate::{CapacityError, Doorbell};

/// Bit in `Ring::closed`: the producer is gone.
const PRODUCER_GONE: u8 = 0b01;
/// Bit in `Ring::closed`: the consumer is gone.
const CONSUMER_GONE: u8 = 0b10;

/// Drops the entry starting at the given word and returns its length in
/// words.
///
/// # Safety
///
/// The caller must ensure: the pointer points at the first word of a
/// complete, published entry written by the ring's producer, which is not
/// used again.
pub type DropEntry = unsafe fn(*mut u64) -> usize;

/// Builds a ring of `capacity` words whose entries are at most `max_entry`
/// words long, woken through `doorbell`.
///
/// # Errors
///
/// `capacity` must be a power of two and `max_entry` between 1 and
/// `capacity`; the buffer must fit in memory.
pub fn channel(
    capacity: usize,
    max_entry: usize,
    drop_entry: DropEntry,
    doorbell: Arc<Doorbell>,
) -> Result<(EntryProducer, EntryConsumer), CapacityError> {
    if capacity == 0 || !capacity.is_power_of_two() {
        return Err(CapacityError::new(capacity, "capacity must be a power of two"));
    }
    if max_entry == 0 || max_entry > capacity {
        return Err(CapacityError::new(capacity, "the largest entry must fit the ring"));
    }
    let len = capacity + max_entry - 1;
    let mut words = Vec::new();
    if words.try_reserve_exact(len).is_err() {
        return Err(CapacityError::new(capacity, "not enough memory for this many words"));
    }
    words.extend((0..len).map(|_| UnsafeCell::new(MaybeUninit::uninit())));
    let ring = Arc::new(Ring {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        closed: AtomicU8::new(0),
        room_epoch: CachePadded::new(AtomicUsize::new(0)),
        room_waker: AtomicWaker::new(),
        mask: capacity - 1,
        max_entry,
        words: words.into_boxed_slice(),
        drop_entry,
        doorbell,
    });
    let producer = EntryProducer {
        doorbell: Arc::clone(&ring.doorbell),
        ring: Arc::clone(&ring),
        tail: 0,
        published: 0,
        cached_head: 0,
        woken: 0,
        wakes: 0,
        entries: 0,
    };
    let consumer = EntryConsumer {
        ring,
        head: 0,
        released: 0,
        cached_tail: 0,
        room_woken: 0,
        #[cfg(loom)]
        scratch: Vec::new(),
    };
    Ok((producer, consumer))
}

/// The state both ends share.
///
/// # Invariants
///
/// * `tail.wrapping_sub(head) <= capacity`.
/// * The published entries lie back to back at positions `head..tail`,
///   each stored contiguously from `position & mask`; the producer may have
///   staged more from `tail` on, which it owns until it publishes them.
struct Ring {
    /// Position of the next entry the consumer reads. Stored only by the
    /// consumer, with Release after it has moved the entries out.
    head: CachePadded<AtomicUsize>,
    /// Position one past the last published entry. Stored only by the
    /// producer, with Release after writing the entries.
    tail: CachePadded<AtomicUsize>,
    /// `PRODUCER_GONE | CONSUMER_GONE`, each set once with Release after
    /// that side's last index store; read with Acquire.
    closed: AtomicU8,
    /// The producer's wait for room: odd while it waits, even otherwise.
    /// Stored only by the producer; the consumer loads it after each
    /// release. On a line of its own, written only when the ring was full.
    room_epoch: CachePadded<AtomicUsize>,
    /// Whom to wake when room is made. Registered before the epoch turns odd.
    room_waker: AtomicWaker,
    mask: usize,
    max_entry: usize,
    words: Box<[UnsafeCell<MaybeUninit<u64>>]>,
    drop_entry: DropEntry,
    doorbell: Arc<Doorbell>,
}

impl Ring {
    fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The first word of the entry at `position`.
    #[cfg(not(loom))]
    #[inline(always)]
    fn at(&self, position: usize) -> *mut u64 {
        // `UnsafeCell<MaybeUninit<u64>>` has the layout of `u64`, and a
        // pointer derived from the whole slice may reach any word.
        let base = self.words.as_ptr() as *mut u64;
        // SAFETY: `position & mask < capacity <= words.len()`.
        unsafe { base.add(position & self.mask) }
    }

    /// Loom tracks each cell: copies the `count` published words from
    /// `position` into `scratch` and points at the copy.
    #[cfg(loom)]
    fn copy_out(&self, position: usize, count: usize, scratch: &mut Vec<u64>) -> *mut u64 {
        scratch.clear();
        let start = position & self.mask;
        for word in &self.words[start..start + count] {
            // SAFETY: published words, read by the consumer only.
            scratch.push(word.with(|w| unsafe { (*w).assume_init() }));
        }
        scratch.as_mut_ptr()
    }

    fn close(&self, side: u8) {
        self.closed.fetch_or(side, Ordering::Release);
    }

    fn is_gone(&self, side: u8) -> bool {
        self.closed.load(Ordering::Acquire) & side != 0
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // Both ends are gone and the Arc's drop synchronised with them, so
        // Relaxed loads see the final indices; the producer published
        // everything it staged.
        let mut position = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        #[cfg(loom)]
        let mut scratch = Vec::new();
        while position != tail {
            #[cfg(not(loom))]
            let entry = self.at(position);
            #[cfg(loom)]
            let entry = self.copy_out(
                position,
                self.max_entry.min(tail.wrapping_sub(position)),
                &mut scratch,
            );
            // SAFETY: the entries at head..tail are complete and published,
            // and nobody else can reach them any more; each is dropped once.
            let words = unsafe { (self.drop_entry)(entry) };
            debug_assert!(words > 0 && words <= self.max_entry);
            position = position.wrapping_add(words);
        }
    }
}

// SAFETY: entries are written by the producer's thread and read by the
// consumer's, handed over by the Release/Acquire index pairs, and each word
// is accessed by one side at a time (the producer outside `head..tail`, the
// consumer inside it). Entries hold `Send` values by the contract of
// `EntryProducer::try_write`.
unsafe impl Send for Ring {}
// SAFETY: see `Send`.
unsafe impl Sync for Ring {}

/// Why an entry was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// Not enough free words right now.
    Full,
    /// The consumer is gone.
    Closed,
}

/// The writing end of an entry ring.
#[repr(align(128))]
pub struct EntryProducer {
    ring: Arc<Ring>,
    doorbell: Arc<Doorbell>,
    /// Position of the next entry to write; staged entries lie in
    /// `published..tail`.
    tail: usize,
    /// The last tail stored to `ring.tail`.
    published: usize,
    /// A head the consumer has stored (never ahead of the real one).
    cached_head: usize,
    /// The doorbell epoch this producer last woke.
    woken: usize,
    wakes: u64,
    /// Entries written so far (a statistic; producer-local).
    entries: u64,
}

impl EntryProducer {
    /// As [`try_write`](Self::try_write), but hands out the entry's first
    /// word for the caller to write, which saves moving the value through a
    /// closure. The entry is staged at once: it must be fully written before
    /// the producer is used again (publication makes it visible).
    ///
    /// # Safety
    ///
    /// As [`try_write`](Self::try_write), with "the caller writes every
    /// word through the returned pointer, before any other call on this
    /// producer" for "`write` initialises every word".
    ///
    /// # Errors
    ///
    /// As [`try_write`](Self::try_write); nothing is staged.
    #[cfg(not(loom))]
    #[inline]
    pub unsafe fn reserve(&mut self, words: usize) -> Result<*mut MaybeUninit<u64>, WriteError> {
        // Checked in release builds too: the caller writes through the
        // pointer, and an oversized entry would run past the buffer.
        assert!(words >= 1 && words <= self.ring.max_entry, "entry of {words} words");
        if self.ring.is_gone(CONSUMER_GONE) {
            return Err(WriteError::Closed);
        }
        if self.free_cached() < words && self.reload_head() < words {
            return Err(WriteError::Full);
        }
        // The words at the tail are free, as in `try_write`, and only the
        // producer writes free words; the caller writes them next.
        let entry = self.ring.at(self.tail).cast::<MaybeUninit<u64>>();
        self.tail = self.tail.wrapping_add(words);
        self.entries += 1;
        Ok(entry)
    }

    /// Writes an entry of `words` words without publishing it: `write` gets
    /// the entry's words (contiguous, uninitialised, 8-byte aligned) and
    /// must initialise all of them.
    ///
    /// # Safety
    ///
    /// The caller must ensure: `words` is between 1 and the ring's largest
    /// entry; `write` initialises every word; the entry holds only values
    /// that may be sent to the consumer's thread; and the ring's drop
    /// function can read the entry's length and drop it.
    ///
    /// # Errors
    ///
    /// [`WriteError::Full`] or [`WriteError::Closed`]; nothing is written.
    #[inline]
    pub unsafe fn try_write(
        &mut self,
        words: usize,
        write: impl FnOnce(&mut [MaybeUninit<u64>]),
    ) -> Result<(), WriteError> {
        debug_assert!(words >= 1 && words <= self.ring.max_entry);
        if self.ring.is_gone(CONSUMER_GONE) {
            return Err(WriteError::Closed);
        }
        if self.free_cached() < words && self.reload_head() < words {
            return Err(WriteError::Full);
        }
        #[cfg(not(loom))]
        {
            // SAFETY: the words at tail..tail + words are free (checked just
            // above; see the module's layout note for why an entry running
            // into the spare words past the end touches no live entry), and
            // only the producer writes free words.
            let entry =
                unsafe { std::slice::from_raw_parts_mut(self.ring.at(self.tail).cast(), words) };
            write(entry);
        }
        #[cfg(loom)]
        {
            // Loom tracks each cell, so the entry goes through a buffer.
            let mut buffer = vec![MaybeUninit::<u64>::uninit(); words];
            write(&mut buffer);
            let start = self.tail & self.ring.mask;
            for (i, word) in buffer.into_iter().enumerate() {
                // SAFETY: as above, word by word.
                self.ring.words[start + i].with_mut(|w| unsafe { *w = word });
            }
        }
        self.tail = self.tail.wrapping_add(words);
        self.entries += 1;
        Ok(())
    }

    /// Publishes every staged entry with one release store and wakes the
    /// consumer if it is parked. Returns whether there was anything to
    /// publish.
    #[inline]
    pub fn publish(&mut self) -> bool {
        if !self.store_tail() {
            return false;
        }
        if self.doorbell.ring(&mut self.woken) {
            self.wakes += 1;
        }
        true
    }

    /// As [`publish`](Self::publish), but hands the consumer's waker to the
    /// caller when a wake is due, to call once it has let go of its own
    /// state (a waker may run arbitrary code).
    #[inline]
    pub fn publish_deferring_wake(&mut self) -> Option<Waker> {
        if !self.store_tail() {
            return None;
        }
        let waker = self.doorbell.ring_deferred(&mut self.woken);
        if waker.is_some() {
            self.wakes += 1;
        }
        waker
    }

    /// Makes the staged entries visible with one release store; false if
    /// nothing was staged.
    #[inline(always)]
    fn store_tail(&mut self) -> bool {
        if self.tail == self.published {
            return false;
        }
        // Release: the words written before are initialised for a consumer
        // that Acquire-loads the new tail.
        self.ring.tail.store(self.tail, Ordering::Release);
        self.published = self.tail;
        true
    }

    /// Words staged and not yet published.
    pub fn staged(&self) -> usize {
        self.tail.wrapping_sub(self.published)
    }

    /// Whether the consumer has taken every entry written so far (reloads
    /// its index).
    pub fn is_drained(&mut self) -> bool {
        self.reload_head();
        self.cached_head == self.tail
    }

    /// Free words as of the consumer's last release (reloads its index).
    pub fn free_words(&mut self) -> usize {
        self.reload_head()
    }

    /// The ring has no room for an entry of `words` words: asks the
    /// consumer to wake `waker` once it frees words (or is gone). Returns
    /// whether there is room (or the consumer is gone) already, in which
    /// case the wait is cancelled and the caller must not sleep on it.
    ///
    /// A wake-up means words were freed, not that `words` of them are free:
    /// try again, and wait again if the entry still does not fit. Each call
    /// pays a heavy barrier (see the `barrier` module): call it only when a
    /// write was refused, not to poll.
    pub fn wait_for_room(&mut self, words: usize, waker: &Waker) -> bool {
        self.ring.room_waker.register(waker);
        // Relaxed: only this side stores the epoch.
        let epoch = self.ring.room_epoch.load(Ordering::Relaxed);
        let waiting = if epoch & 1 == 1 { epoch.wrapping_add(2) } else { epoch.wrapping_add(1) };
        // Release: a consumer that Acquire-loads this epoch also sees the
        // waker registered above.
        self.ring.room_epoch.store(waiting, Ordering::Release);
        // Heavy half of the barrier pair: orders the store above before the
        // load of head below, against the consumer's light half between its
        // store of head and its load of the epoch.
        barrier::heavy();
        if self.reload_head() >= words || self.ring.is_gone(CONSUMER_GONE) {
            // Relaxed: a consumer that still sees the odd value wakes us once
            // more, which is harmless.
            self.ring.room_epoch.store(waiting.wrapping_add(1), Ordering::Relaxed);
            return true;
        }
        false
    }

    /// How many publications woke the parked consumer.
    pub fn wakes(&self) -> u64 {
        self.wakes
    }

    /// How many entries were written (staged or published) so far.
    pub fn entries_written(&self) -> u64 {
        self.entries
    }

    /// The ring's capacity in words.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Whether the consumer is gone.
    pub fn is_closed(&self) -> bool {
        self.ring.is_gone(CONSUMER_GONE)
    }

    #[inline]
    fn free_cached(&self) -> usize {
        self.ring.capacity() - self.tail.wrapping_sub(self.cached_head)
    }

    #[cold]
    fn reload_head(&mut self) -> usize {
        // Acquire: the consumer moved the entries out before its Release
        // store of head, so we may overwrite their words.
        self.cached_head = self.ring.head.load(Ordering::Acquire);
        debug_assert!(self.tail.wrapping_sub(self.cached_head) <= self.ring.capacity());
        self.free_cached()
    }
}

impl Drop for EntryProducer {
    fn drop(&mut self) {
        self.store_tail();
        self.ring.close(PRODUCER_GONE);
        self.doorbell.ring(&mut self.woken);
    }
}

impl fmt::Debug for EntryProducer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryProducer")
            .field("capacity", &self.ring.capacity())
            .field("tail", &self.tail)
            .field("published", &self.published)
            .finish()
    }
}

/// The reading end of an entry ring.
#[repr(align(128))]
pub struct EntryConsumer {
    ring: Arc<Ring>,
    /// Position of the next entry to read.
    head: usize,
    /// The last head stored to `ring.head`.
    released: usize,
    /// A tail the producer has published (never ahead of the real one).
    cached_tail: usize,
    /// The room epoch this consumer last woke the producer for.
    room_woken: usize,
    /// Under loom, entries are read from a copy.
    #[cfg(loom)]
    scratch: Vec<u64>,
}

impl EntryConsumer {
    /// The first word of the oldest unread entry, if one is published. The
    /// caller reads the entry (its format says how long it is) and then
    /// [`advance`](Self::advance)s past it; the words stay valid and
    /// untouched by the producer until [`release`](Self::release).
    #[inline]
    pub fn front(&mut self) -> Option<*mut u64> {
        if self.head == self.cached_tail && self.reload_tail() == 0 {
            return None;
        }
        #[cfg(not(loom))]
        {
            Some(self.ring.at(self.head))
        }
        #[cfg(loom)]
        {
            let count = self.ring.max_entry.min(self.cached_tail.wrapping_sub(self.head));
            Some(self.ring.copy_out(self.head, count, &mut self.scratch))
        }
    }

    /// Moves past the entry [`front`](Self::front) returned, `words` long.
    #[inline]
    pub fn advance(&mut self, words: usize) {
        debug_assert!(words >= 1 && words <= self.ring.max_entry);
        debug_assert!(words <= self.cached_tail.wrapping_sub(self.head));
        self.head = self.head.wrapping_add(words);
    }

    /// Hands the words of every entry advanced past back to the producer,
    /// with one release store, and wakes the producer if it waits for room
    /// (see [`EntryProducer::wait_for_room`]).
    #[inline]
    pub fn release(&mut self) {
        if self.head == self.released {
            return;
        }
        // Release: the entries were moved out before the producer
        // (Acquire-loading head) may overwrite their words.
        self.ring.head.store(self.head, Ordering::Release);
        self.released = self.head;
        // Light half of the barrier pair with `wait_for_room`: orders the
        // store of head before the load of the epoch.
        barrier::light();
        // Acquire: pairs with the producer's Release so the wake below
        // reaches the waker registered for this epoch.
        let epoch = self.ring.room_epoch.load(Ordering::Acquire);
        if epoch & 1 == 1 && epoch != self.room_woken {
            self.wake_producer(epoch);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_producer(&mut self, epoch: usize) {
        self.room_woken = epoch;
        self.ring.room_waker.wake();
    }

    /// Whether no published entry is waiting (reloads the producer's index).
    pub fn is_empty(&mut self) -> bool {
        self.head == self.cached_tail && self.reload_tail() == 0
    }

    /// Whether the producer is gone (entries it published may still wait).
    pub fn is_closed(&self) -> bool {
        self.ring.is_gone(PRODUCER_GONE)
    }

    /// Words published and not yet advanced past: how full the ring is, as
    /// of now (reloads the producer's index).
    pub fn occupied_words(&mut self) -> usize {
        self.reload_tail()
    }

    /// The doorbell this consumer parks on.
    pub fn doorbell(&self) -> &Arc<Doorbell> {
        &self.ring.doorbell
    }

    /// The ring's capacity in words.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    #[cold]
    fn reload_tail(&mut self) -> usize {
        // Acquire: the words before the published tail are initialised.
        self.cached_tail = self.ring.tail.load(Ordering::Acquire);
        debug_assert!(self.cached_tail.wrapping_sub(self.head) <= self.ring.capacity());
        self.cached_tail.wrapping_sub(self.head)
    }
}

impl Drop for EntryConsumer {
    fn drop(&mut self) {
        // Entries advanced past were moved out; those still waiting are
        // dropped with the ring once both ends are gone.
        self.release();
        self.ring.close(CONSUMER_GONE);
        // A producer waiting for room must see that none will come.
        self.ring.room_waker.wake();
    }
}

impl fmt::Debug for EntryConsumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryConsumer")
            .field("capacity", &self.ring.capacity())
            .field("head", &self.head)
            .finish()
    }
}
