//! The shard's run queue: one flat FIFO of entries (see [`entry`](crate::base::entry))
//! for every actor of the shard, run strictly in order.
//!
//! A growable ring of words. An entry is stored contiguously; one that would
//! run past the end of the buffer is preceded by a padding entry that fills
//! the rest, and starts again at the front. A padding entry is told by its
//! word 0 of [`PADDING`] (zero: no run function is null), its length in word
//! 1 — a value, never a function's address. Entries take an even number of
//! words, so the space left at the end always fits a padding header.
//! Growing (only while the queue is deeper than ever before) copies the live
//! words in order into a buffer twice as large. In steady state nothing
//! allocates.
//!
//! Single-threaded; no method calls user code, so no borrow of the queue is
//! ever held while a handler runs.

use std::mem::MaybeUninit;

use crate::base::entry::{self, How};
use crate::base::tunables::RUN_QUEUE_INITIAL_WORDS;

/// Word 0 of a padding entry, where other entries hold their run function
/// (never null); word 1 holds the padding's length.
const PADDING: u64 = 0;

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
        Self::with_words(RUN_QUEUE_INITIAL_WORDS)
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
            self.words[start].write(PADDING);
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
            // entry (or padding), whose first two words are written.
            if unsafe { *entry } != PADDING {
                return Some(entry);
            }
            // SAFETY: as above; word 1 of padding is its length.
            self.head += unsafe { *entry.add(1) } as usize;
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
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::*;
    use crate::base::entry::MAX_ENTRY_WORDS;

    /// The run function of test entries: says its length (in word 1's
    /// high half) and does nothing else.
    unsafe fn length_only(_shard: *const (), entry: *mut u64, _how: How) -> usize {
        // SAFETY: a test entry, whose word 1 is written.
        (unsafe { *entry.add(1) } >> 32) as usize
    }

    /// A test entry of `words` words for `seq`: its header, then words
    /// that each say `seq` and their place.
    fn write_entry(w: &mut [MaybeUninit<u64>], seq: u64) {
        w[0].write(entry::run_word(length_only));
        w[1].write((w.len() as u64) << 32);
        for (i, word) in w.iter_mut().enumerate().skip(2) {
            word.write(seq << 8 | i as u64);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Push an entry of this many words.
        Push(usize),
        /// Pop up to this many entries.
        Pop(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (2..=MAX_ENTRY_WORDS).prop_map(Op::Push),
            1 => (1..40usize).prop_map(Op::Pop),
        ]
    }

    /// Runs `ops` on `queue` and on a `VecDeque` of (sequence, words): the
    /// same entries come out, whole, in the same order, across padding,
    /// wrap-around and growth.
    fn against_model(mut queue: RunQueue, ops: &[Op]) {
        let mut model = VecDeque::new();
        let mut seq = 0u64;
        for op in ops {
            match *op {
                Op::Push(words) => {
                    queue.push(words, |w| write_entry(w, seq));
                    model.push_back((seq, words));
                    seq += 1;
                }
                Op::Pop(n) => {
                    for _ in 0..n {
                        let Some((want, words)) = model.pop_front() else {
                            assert!(queue.front().is_none());
                            break;
                        };
                        let at = queue.front().expect("the model has an entry");
                        // SAFETY: the front entry, complete.
                        let got = unsafe { std::slice::from_raw_parts(at, words) };
                        assert_eq!(got[1] >> 32, words as u64);
                        for (i, &word) in got.iter().enumerate().skip(2) {
                            assert_eq!(word, want << 8 | i as u64, "entry {want}, word {i}");
                        }
                        // SAFETY: a test entry; `length_only` touches nothing.
                        assert_eq!(unsafe { entry::run(std::ptr::null(), at, How::Drop) }, words);
                        queue.pop_front(words);
                    }
                }
            }
            assert_eq!(queue.len(), model.len());
        }
        // Dropped with entries left: each is run with `How::Drop` once.
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn a_small_queue_matches_its_model(ops in proptest::collection::vec(op(), 1..400)) {
            against_model(RunQueue::with_words(64), &ops);
        }

        #[test]
        fn an_unallocated_queue_matches_its_model(ops in proptest::collection::vec(op(), 1..400)) {
            against_model(RunQueue::unallocated(), &ops);
        }
    }

    /// Every entry length, pushed so that the queue pads before entries at
    /// many offsets.
    #[test]
    fn every_size_wraps_with_padding() {
        for words in 2..=MAX_ENTRY_WORDS {
            let ops: Vec<Op> =
                (0..50).flat_map(|_| [Op::Push(words), Op::Push(words), Op::Pop(1)]).collect();
            against_model(RunQueue::with_words(64), &ops);
        }
    }
}
