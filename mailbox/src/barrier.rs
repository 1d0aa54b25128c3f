//! Asymmetric memory barriers for the park/wake protocol.
//!
//! Waking a parked consumer is a store-buffer (Dekker) pattern: the producer
//! stores `tail` then loads `parked`; the consumer stores `parked` then loads
//! `tail`. Each side needs a full barrier between its store and its load, or
//! both may read the old value and a wake-up is lost. A `SeqCst` fence is a
//! full pipeline drain (the foundation issue reports ~6× the per-message cost
//! on this hardware; not re-measured here), and the producer publishes once
//! per message or batch while the consumer parks rarely. So the cost is
//! moved to the parking side, as Seastar and folly do:
//!
//! * [`light`] (producer, every publication) is only a compiler fence;
//! * [`heavy`] (consumer, before sleeping) is `membarrier(2)` with
//!   `MEMBARRIER_CMD_PRIVATE_EXPEDITED`, which makes every running thread of
//!   this process execute a full memory barrier before it returns.
//!
//! Together they order exactly like a `SeqCst` fence on each side: if the
//! producer's `parked` load ran before the IPI, its earlier `tail` store was
//! drained by the IPI's barrier and the consumer's re-check sees it; if it ran
//! after, it sees `parked == true`.
//!
//! Where membarrier is unavailable (old kernel, seccomp, miri) both sides fall
//! back to `fence(SeqCst)`; under loom both are `fence(SeqCst)`, which is the
//! ordering the pair is equivalent to.

#[cfg(not(any(loom, miri)))]
mod imp {
    use std::sync::atomic::compiler_fence;

    use crossbeam_utils::CachePadded;

    use crate::sync::{fence, AtomicU8, Ordering};

    const UNKNOWN: u8 = 0;
    const MEMBARRIER: u8 = 1;
    const FENCE: u8 = 2;

    // From <linux/membarrier.h>.
    const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// Which barrier pair this process uses. Written once by [`init`] from
    /// `UNKNOWN` to its final value and never again. Relaxed is enough for
    /// every access: a thread that still reads `UNKNOWN` in [`light`] uses a
    /// full fence, which is correct with either heavy side; a thread that reads
    /// `MEMBARRIER` knows the heavy side uses membarrier from then on.
    ///
    /// Every publication loads it, so it sits on a cache line of its own:
    /// a neighbouring static that is written often would otherwise bounce
    /// the line between the cores.
    static MODE: CachePadded<AtomicU8> = CachePadded::new(AtomicU8::new(UNKNOWN));

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes (cmd, flags, cpu_id) by value and touches
        // no memory of ours; a failure is reported through the return value.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long, 0 as libc::c_long) }
    }

    pub(crate) fn init() -> bool {
        match MODE.load(Ordering::Relaxed) {
            MEMBARRIER => return true,
            FENCE => return false,
            _ => {}
        }
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        let usable = supported >= 0
            && supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
        // Decided once: the first thread to get here sets the mode, and a
        // racing thread adopts what it set (both compute the same answer,
        // but a mode must never change once light() may have read it).
        let mode = if usable { MEMBARRIER } else { FENCE };
        match MODE.compare_exchange(UNKNOWN, mode, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => usable,
            Err(decided) => decided == MEMBARRIER,
        }
    }

    #[inline(always)]
    pub(crate) fn light() {
        if MODE.load(Ordering::Relaxed) == MEMBARRIER {
            // The heavy side's IPI supplies the hardware barrier; we only
            // stop the compiler from moving the load above the store.
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }

    pub(crate) fn heavy() {
        if init() {
            // A full barrier of our own first, then one on every other
            // running thread of the process.
            fence(Ordering::SeqCst);
            if membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 {
                return;
            }
            // Cannot fail once registered, but never trust that blindly:
            // without the IPI only a fence on both sides is sound, and the
            // light side already reads MEMBARRIER, so abort loudly.
            panic!("membarrier(PRIVATE_EXPEDITED) failed after registration");
        }
        fence(Ordering::SeqCst);
    }
}

#[cfg(any(loom, miri))]
mod imp {
    use crate::sync::{fence, Ordering};

    pub(crate) fn init() -> bool {
        false
    }

    #[inline(always)]
    pub(crate) fn light() {
        fence(Ordering::SeqCst);
    }

    pub(crate) fn heavy() {
        fence(Ordering::SeqCst);
    }
}

/// Decides once per process whether membarrier can be used; returns whether it
/// is. Called when a ring is built so the first park pays no registration.
pub(crate) use imp::init;

/// The producer's half of the barrier pair: cheap, paid per publication.
pub(crate) use imp::light;

/// The parking side's half: expensive (an IPI to each running thread), paid
/// once per park.
pub(crate) use imp::heavy;

/// Whether the cheap asymmetric pair is in use in this process (membarrier
/// available), as opposed to a `SeqCst` fence on both sides.
pub fn asymmetric_barriers() -> bool {
    init()
}
