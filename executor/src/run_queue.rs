//! The shard's run queue: one flat FIFO of entries (see [`entry`](crate::entry))
//! for every actor of the shard, run strictly in order.
//!
//! A growable ring of words. An entry is stored contiguously; one that would
//! run past the end of the buffer is preceded by a padding entry that fills
//! the rest, and starts again at the front. Entries take an even number of
//! words, so the space left at the end always fits a padding header.
//! Growing (only while the queue is deeper than ever before) copies the live
//! words in order into a buffer twice as large. In steady state nothing
//! allocates.
//!
//! Single-threaded; no method calls user code, so no borrow of the queue is
//! ever held while a handler runs.

use std::mem::MaybeUninit;

use crate::entry::{self, How, RunFn};

/// The first buffer, in words (entries are 4 words for a one-word message).
const INITIAL_WORDS: usize = 1024;

/// The run function of a padding entry: its length is in word 1.
///
/// # Safety
///
/// As [`RunFn`].
unsafe fn padding(_shard: *const (), entry: *mut u64, _how: How) -> usize {
    // SAFETY: word 1 of a padding entry holds its length.
    unsafe { *entry.add(1) as usize }
}

/// A FIFO of entries.
pub(crate) struct RunQueue {
    /// `mask + 1` words (none while [`unallocated`](Self::unallocated)).
    words: Box<[MaybeUninit<u64>]>,
    mask: usize,
    /// Position (in words, counted since the last growth) of the first entry.
    head: usize,
    /// Position one past the last entry. `tail - head <= mask + 1`.
    tail: usize,
    /// Entries queued (padding excluded).
    len: usize,
}

impl RunQueue {
    pub(crate) fn new() -> Self {
        Self::with_words(INITIAL_WORDS)
    }

    /// A queue whose first buffer holds `words` words (a power of two).
    pub(crate) fn with_words(words: usize) -> Self {
        debug_assert!(words.is_power_of_two());
        Self { words: Box::new_uninit_slice(words), mask: words - 1, head: 0, tail: 0, len: 0 }
    }

    /// A queue that allocates nothing until its first push (its buffer
    /// then grows from a single word, which `reserve` never writes to).
    pub(crate) fn unallocated() -> Self {
        Self { words: Box::new_uninit_slice(0), mask: 0, head: 0, tail: 0, len: 0 }
    }

    /// Entries waiting.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends an entry of `words` words (rounded up to even) written by
    /// `write`.
    #[inline(always)]
    pub(crate) fn push(&mut self, words: usize, write: impl FnOnce(&mut [MaybeUninit<u64>])) {
        let at = self.reserve(words);
        // SAFETY: `reserve` hands out `words` words of our buffer, and
        // nothing else touches the queue before `write` returns.
        write(unsafe { std::slice::from_raw_parts_mut(at, words) });
    }

    /// Appends an entry of `words` words (rounded up to even) and returns
    /// its first word, for the caller to write all `words` words before the
    /// queue is used again (an entry is read only once it is written).
    #[inline(always)]
    pub(crate) fn reserve(&mut self, words: usize) -> *mut MaybeUninit<u64> {
        let stored = words.next_multiple_of(2);
        let mut start = self.tail & self.mask;
        let mut room_to_end = self.mask + 1 - start;
        let needed = if room_to_end < stored { room_to_end + stored } else { stored };
        if self.tail - self.head + needed > self.mask + 1 {
            // Not a recursive call, so that `push` inlines into its callers.
            self.grow(stored);
            start = self.tail;
            room_to_end = self.mask + 1 - start;
            debug_assert!(room_to_end >= stored, "grow leaves room at the end");
        }
        if room_to_end < stored {
            self.words[start].write(padding as RunFn as usize as u64);
            self.words[start + 1].write(room_to_end as u64);
            self.tail += room_to_end;
            start = 0;
        }
        self.tail += stored;
        self.len += 1;
        self.words[start..start + words].as_mut_ptr()
    }

    /// The first entry, skipping padding.
    #[inline(always)]
    pub(crate) fn front(&mut self) -> Option<*mut u64> {
        if self.len == 0 {
            return None;
        }
        loop {
            let entry = self.words[self.head & self.mask..].as_mut_ptr().cast::<u64>();
            // SAFETY: the queue is not empty, so `head` starts a complete
            // entry (or padding).
            if unsafe { entry::run_fn(entry) } as usize != padding as RunFn as usize {
                return Some(entry);
            }
            // SAFETY: as above; padding entries hold their length.
            self.head += unsafe { padding(std::ptr::null(), entry, How::Drop) };
        }
    }

    /// Removes the front entry, `words` long, whose message the caller has
    /// moved out.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self, words: usize) {
        debug_assert!(self.len > 0);
        self.head += words.next_multiple_of(2);
        self.len -= 1;
        if self.len == 0 {
            // Start over at the front: fewer paddings.
            self.head = 0;
            self.tail = 0;
        }
    }

    /// Doubles the buffer (or more, for `at_least` more words), keeping the
    /// entries in order.
    #[cold]
    fn grow(&mut self, at_least: usize) {
        let live = self.tail - self.head;
        let mut size = (self.mask + 1) * 2;
        while size < live + 2 * at_least {
            size *= 2;
        }
        let mut words = Box::new_uninit_slice(size);
        // Entries never wrap (padding fills the end), so the live words are
        // copied as one run or two; positions restart at 0.
        let start = self.head & self.mask;
        let first = live.min(self.mask + 1 - start);
        words[..first].copy_from_slice(&self.words[start..start + first]);
        words[first..live].copy_from_slice(&self.words[..live - first]);
        self.words = words;
        self.mask = size - 1;
        self.head = 0;
        self.tail = live;
    }
}

impl Drop for RunQueue {
    fn drop(&mut self) {
        while let Some(entry) = self.front() {
            // SAFETY: a complete entry, dropped once; its length comes back.
            let words = unsafe { entry::run(std::ptr::null(), entry, How::Drop) };
            self.pop_front(words);
        }
    }
}

impl std::fmt::Debug for RunQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue").field("len", &self.len).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{entry_words, read, target, target_word, write};

    std::thread_local! {
        static SEEN: std::cell::RefCell<Vec<(u32, [u64; 3])>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Records the message of a test entry.
    unsafe fn record(_shard: *const (), entry: *mut u64, _how: How) -> usize {
        // SAFETY: test entries hold a `[u64; 3]`, read once.
        let (slot, msg) = unsafe { (target(entry), read::<[u64; 3]>(entry)) };
        let (slot, _) = slot;
        SEEN.with(|s| s.borrow_mut().push((slot, msg)));
        entry_words::<[u64; 3]>()
    }

    #[test]
    fn entries_come_out_in_order_across_padding_and_growth() {
        in_order_across_padding_and_growth(RunQueue::new());
    }

    #[test]
    fn an_unallocated_queue_grows_on_its_first_push() {
        in_order_across_padding_and_growth(RunQueue::unallocated());
    }

    fn in_order_across_padding_and_growth(mut queue: RunQueue) {
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..200 {
            for _ in 0..(round % 7) * 40 {
                queue.push(entry_words::<[u64; 3]>(), |w| {
                    write(w, record, target_word(next_in, 0), [next_in as u64; 3])
                });
                next_in += 1;
            }
            for _ in 0..(round % 5) * 50 {
                let Some(entry) = queue.front() else { break };
                // SAFETY: the front entry, run once.
                let words = unsafe { entry::run(std::ptr::null(), entry, How::FromQueue) };
                queue.pop_front(words);
                let (slot, msg) = SEEN.with(|s| s.borrow_mut().pop().unwrap());
                assert_eq!((slot, msg), (next_out, [next_out as u64; 3]));
                next_out += 1;
            }
        }
        assert_eq!(queue.len(), (next_in - next_out) as usize);
    }
}
