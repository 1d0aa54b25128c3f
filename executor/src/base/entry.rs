//! The entry: one message or command, as it sits in a shard's run queue and
//! in the rings between shards.
//!
//! ```text
//! word 0   run: RunFn        what to do with it (monomorphized per actor
//!                            type for messages, one per command); never 0
//! word 1   slot | kind << 30 | generation << 32
//! word 2.. the message, inline (or a Box of it, when it is larger than
//!          MAX_INLINE_BYTES or more aligned than a word)
//! ```
//!
//! The run function moves the message out, tells the shard the entry is
//! consumed (so the run queue may reuse its words before any user code
//! runs), and then acts: hands the message to its actor, or counts it as a
//! dead letter. The same function drops an entry that will never run.
//!
//! # Identity by value
//!
//! What an entry *is* — a message, a stop, another command — is its
//! [`Kind`], a value in word 1. It is never told by comparing its run
//! function with a known function's address: Rust may give one function
//! several addresses (one per codegen unit that instantiates or inlines
//! it), so such a comparison fails in some builds and not in others. The
//! run queue's padding is told by a word 0 of zero, which no function
//! pointer is.

use std::mem::{self, MaybeUninit};

/// Words of an entry's header.
pub(crate) const HEADER_WORDS: usize = 2;

/// Messages up to this size (and no more aligned than a word) travel inline
/// in run queues and rings; larger ones are boxed, one word.
pub(crate) const MAX_INLINE_BYTES: usize = 256;
const _: () = assert!(MAX_INLINE_BYTES == 256, "README, the crate docs and docs/ quote 256 bytes");

/// The longest entry, in words.
pub(crate) const MAX_ENTRY_WORDS: usize = HEADER_WORDS + MAX_INLINE_BYTES / 8;

/// One entry on the heap: it waits for a ring with room, or for an actor
/// still being spawned.
pub(crate) type EntryBuffer = Box<[MaybeUninit<u64>]>;

/// What a run function is asked to do with its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// Run it; it is at the front of the shard's run queue.
    FromQueue,
    /// Run it; it is at the front of a ring from another shard.
    FromRing,
    /// Run it; it was held for an actor being restarted and lies in a
    /// buffer of its own (nothing to pop or advance). Counted in the
    /// actor's mailbox, like a queued message.
    Held,
    /// Drop what it holds: it will never run.
    Drop,
    /// Only say how long it is, touching nothing (to move it between
    /// queues as words). Message and stop entries answer it.
    Measure,
}

/// What an entry is: the value in bits 30-31 of word 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A message for the actor at the target (an `A::Msg` of its type).
    Message = 0,
    /// Stop the actor at the target.
    Stop = 1,
    /// Any other command (spawn, link, watch, restart, ...); its target
    /// need not be an actor.
    Command = 2,
    /// The answer to an ask: its target is the asker's reply entry.
    Reply = 3,
}

impl Kind {
    /// Whether an entry of this kind that is never run is a dead letter:
    /// messages and answers are what someone sent; stops and other
    /// commands are the runtime's own, and have no sender to account to.
    pub(crate) fn is_letter(self) -> bool {
        matches!(self, Kind::Message | Kind::Reply)
    }
}

/// The bits of word 1 that hold the slot (the rest of its low half is the
/// kind). Slots and command targets stay below `1 << 30`.
pub(crate) const SLOT_MASK: u32 = (1 << 30) - 1;

/// Slots per shard: an entry's header keeps 30 bits for the slot (the
/// other two of its 32 hold the entry's kind).
pub(crate) const MAX_SLOTS: u32 = SLOT_MASK + 1;

/// An entry's run function with its kind: what writers of entries are
/// given, so that the two always agree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryFn {
    pub(crate) run: RunFn,
    pub(crate) kind: Kind,
}

impl EntryFn {
    /// A message's run function.
    pub(crate) const fn message(run: RunFn) -> Self {
        Self { run, kind: Kind::Message }
    }

    /// A stop's run function.
    pub(crate) const fn stop(run: RunFn) -> Self {
        Self { run, kind: Kind::Stop }
    }

    /// Another command's run function.
    pub(crate) const fn command(run: RunFn) -> Self {
        Self { run, kind: Kind::Command }
    }

    /// The run function of an ask's answer.
    pub(crate) const fn reply(run: RunFn) -> Self {
        Self { run, kind: Kind::Reply }
    }
}

/// Runs or drops one entry; returns its length in words.
///
/// # Safety
///
/// The caller must ensure: `entry` points at the first word of a complete
/// entry whose word 0 is this function, which is not used again; `shard` is
/// the shard running on this thread (it may be null only with `How::Drop`
/// and `How::Measure`);
/// for `FromQueue`, the entry is at the front of that shard's run queue.
pub(crate) type RunFn = unsafe fn(shard: *const (), entry: *mut u64, how: How) -> usize;

/// Whether an `M` travels inline.
pub(crate) const fn is_inline<M>() -> bool {
    mem::size_of::<M>() <= MAX_INLINE_BYTES && mem::align_of::<M>() <= mem::align_of::<u64>()
}

/// Words an `M` takes in an entry.
pub(crate) const fn payload_words<M>() -> usize {
    if is_inline::<M>() {
        mem::size_of::<M>().div_ceil(8)
    } else {
        1
    }
}

/// Words of an entry holding an `M`.
pub(crate) const fn entry_words<M>() -> usize {
    HEADER_WORDS + payload_words::<M>()
}

/// Packs a slot and its generation into a target (word 1 without its
/// kind).
#[inline(always)]
pub(crate) fn target_word(slot: u32, generation: u32) -> u64 {
    debug_assert!(slot <= SLOT_MASK, "slot {slot} leaves no room for the kind");
    slot as u64 | (generation as u64) << 32
}

/// Writes an entry for `msg` into `words` (exactly [`entry_words::<M>`]
/// long).
#[inline(always)]
pub(crate) fn write<M>(words: &mut [MaybeUninit<u64>], run: EntryFn, target: u64, msg: M) {
    debug_assert_eq!(words.len(), entry_words::<M>());
    debug_assert!(target as u32 <= SLOT_MASK, "a target word carries no kind yet");
    words[0].write(run_word(run.run));
    words[1].write(target | (run.kind as u64) << 30);
    let payload = words[HEADER_WORDS..].as_mut_ptr().cast::<u8>();
    if is_inline::<M>() {
        // SAFETY: the payload words hold `size_of::<M>()` bytes (rounded up
        // to words) and are aligned to a word, which is enough for `M`.
        unsafe { payload.cast::<M>().write(msg) };
    } else {
        // SAFETY: one payload word holds the box pointer.
        unsafe { payload.cast::<Box<M>>().write(Box::new(msg)) };
    }
    // Inline payloads smaller than their words leave padding bytes
    // uninitialised; entries are only ever moved as `MaybeUninit` words.
}

/// Word 0 for `run`: the one place a function becomes a number, to be
/// called back ([`run_fn`]), never compared.
#[inline(always)]
#[allow(clippy::fn_to_numeric_cast_any, reason = "stored to be called, never compared")]
pub(crate) fn run_word(run: RunFn) -> u64 {
    run as usize as u64
}

/// As [`write`], into the `entry_words::<M>()` words at `at`.
///
/// # Safety
///
/// The caller must ensure: `at` points at that many writable, word-aligned
/// words.
#[inline(always)]
pub(crate) unsafe fn write_at<M>(at: *mut MaybeUninit<u64>, run: EntryFn, target: u64, msg: M) {
    // SAFETY: as the contract says.
    let words = unsafe { std::slice::from_raw_parts_mut(at, entry_words::<M>()) };
    write(words, run, target, msg);
}

/// The run function in word 0.
///
/// # Safety
///
/// The caller must ensure: `entry` points at a complete entry.
#[inline(always)]
pub(crate) unsafe fn run_fn(entry: *const u64) -> RunFn {
    // SAFETY: word 0 was written by `write` (or a command's writer) from a
    // `RunFn`, and function pointers round-trip through `usize`.
    unsafe { mem::transmute::<usize, RunFn>(*entry as usize) }
}

/// `(slot, generation)` from word 1.
///
/// # Safety
///
/// The caller must ensure: `entry` points at a complete entry.
#[inline(always)]
pub(crate) unsafe fn target(entry: *const u64) -> (u32, u32) {
    // SAFETY: word 1 of every entry is initialised.
    let word = unsafe { *entry.add(1) };
    (word as u32 & SLOT_MASK, (word >> 32) as u32)
}

/// Word 1 as it is: target and kind.
///
/// # Safety
///
/// The caller must ensure: `entry` points at a complete entry.
#[inline(always)]
pub(crate) unsafe fn word1(entry: *const u64) -> u64 {
    // SAFETY: word 1 of every entry is initialised.
    unsafe { *entry.add(1) }
}

/// The [`Kind`] in word 1.
///
/// # Safety
///
/// The caller must ensure: `entry` points at a complete entry.
#[inline(always)]
pub(crate) unsafe fn kind(entry: *const u64) -> Kind {
    // SAFETY: word 1 of every entry is initialised.
    let word = unsafe { *entry.add(1) };
    match (word >> 30) & 0b11 {
        0 => Kind::Message,
        1 => Kind::Stop,
        2 => Kind::Command,
        _ => Kind::Reply,
    }
}

/// Moves the `M` out of an entry written by [`write`].
///
/// # Safety
///
/// The caller must ensure: the entry was written by `write::<M>` and its
/// message has not been read yet; it is not read again.
#[inline(always)]
pub(crate) unsafe fn read<M>(entry: *const u64) -> M {
    // SAFETY: as in `write`: the payload starts at word 2 and holds an `M`
    // inline, or a `Box<M>`.
    unsafe {
        let payload = entry.add(HEADER_WORDS);
        if is_inline::<M>() {
            copy_out(payload)
        } else {
            *payload.cast::<Box<M>>().read()
        }
    }
}

/// Reads an inline `M` from the words at `from`, a word at a time.
///
/// A typed read of an `M` lets the compiler copy it with overlapping moves
/// at odd offsets (for enums with holes) and read it back at once; a load
/// that spans two earlier stores, or part of one, misses the CPU's store
/// forwarding and stalls for ~15 cycles. Profiles showed such stalls to be
/// most of a same-shard hop. Word loads (volatile, so they are neither merged
/// nor split) read within the sender's stores.
///
/// # Safety
///
/// The caller must ensure: `from` is word-aligned and holds an `M` written
/// by [`write`], whose words are all readable.
#[inline(always)]
unsafe fn copy_out<M>(from: *const u64) -> M {
    let mut out = MaybeUninit::<M>::uninit();
    let whole = mem::size_of::<M>() / 8;
    let to = out.as_mut_ptr().cast::<u8>();
    let from = from.cast::<MaybeUninit<u64>>();
    for i in 0..whole {
        // SAFETY: word `i` lies within both the entry and `out` (`whole`
        // words fit in an `M`); `out` may be less aligned than a word.
        unsafe {
            let word = from.add(i).read_volatile();
            to.add(i * 8).cast::<MaybeUninit<u64>>().write_unaligned(word);
        }
    }
    let tail = mem::size_of::<M>() % 8;
    if tail > 0 {
        // SAFETY: the last `tail` bytes of the `M`, in bounds on both sides.
        unsafe {
            std::ptr::copy_nonoverlapping(from.add(whole).cast::<u8>(), to.add(whole * 8), tail)
        };
    }
    // SAFETY: every byte of the `M` was copied from a valid `M`.
    unsafe { out.assume_init() }
}

/// Runs (or drops) the entry at `entry`; returns its length.
///
/// # Safety
///
/// As [`RunFn`].
#[inline(always)]
pub(crate) unsafe fn run(shard: *const (), entry: *mut u64, how: How) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { run_fn(entry)(shard, entry, how) }
}

/// The length of an entry that [`How::Measure`] can be asked of (messages
/// and stops), which is left as it is.
///
/// # Safety
///
/// As [`RunFn`], for such an entry.
pub(crate) unsafe fn measure(entry: *mut u64) -> usize {
    // SAFETY: forwarded from the caller; `Measure` needs no shard.
    unsafe { run(std::ptr::null(), entry, How::Measure) }
}

/// Drops any entry: the drop function of the rings between shards.
///
/// # Safety
///
/// As [`whirl_mailbox::entry_ring::DropEntry`].
pub(crate) unsafe fn drop_entry(entry: *mut u64) -> usize {
    // SAFETY: forwarded from the caller; `Drop` needs no shard.
    unsafe { run(std::ptr::null(), entry, How::Drop) }
}
