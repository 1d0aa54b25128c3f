//! A slot holding one `Waker`, registered by one thread and taken by any.

use std::task::Waker;

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// No one touches the slot.
const IDLE: usize = 0;
/// The registering thread is writing the slot.
const REGISTERING: usize = 0b01;
/// A waking thread is taking the slot (may be or-ed with `REGISTERING`).
const WAKING: usize = 0b10;

/// One registered waker. `register` is called by a single thread at a time
/// (the consumer); `wake` by any number of threads concurrently.
///
/// Whoever moves `state` away from `IDLE` owns the slot until it moves it back;
/// a `wake` that arrives while a registration is in progress leaves `WAKING`
/// set and the registering thread performs the wake itself. So a wake is
/// never lost, and neither side ever waits for the other.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    /// Only accessed by the thread that moved `state` from `IDLE`.
    waker: UnsafeCell<Option<Waker>>,
}

impl AtomicWaker {
    pub(crate) fn new() -> Self {
        Self { state: AtomicUsize::new(IDLE), waker: UnsafeCell::new(None) }
    }

    /// Stores `waker` so the next [`wake`](Self::wake) wakes it. Must not be
    /// called concurrently with itself.
    pub(crate) fn register(&self, waker: &Waker) {
        // Acquire: see the slot as the last waker-taker left it.
        match self.state.compare_exchange(IDLE, REGISTERING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: we moved `state` from IDLE to REGISTERING, which
                // gives us the slot until we leave REGISTERING.
                self.waker.with_mut(|slot| unsafe {
                    match &*slot {
                        Some(old) if old.will_wake(waker) => {}
                        _ => *slot = Some(waker.clone()),
                    }
                });
                // Release: publish the slot to the next taker. AcqRel on
                // failure path below via the swap.
                if let Err(actual) = self.state.compare_exchange(
                    REGISTERING,
                    IDLE,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    // A wake arrived while we held the slot; it left the work
                    // to us. We still own the slot.
                    debug_assert_eq!(actual, REGISTERING | WAKING);
                    // SAFETY: state is REGISTERING|WAKING; the waking thread
                    // does not touch the slot in that state, so we still own it.
                    let taken = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                    self.state.swap(IDLE, Ordering::AcqRel);
                    if let Some(waker) = taken {
                        waker.wake();
                    }
                }
            }
            Err(WAKING) => {
                // A wake is in progress on the previous waker; it may have
                // been for an event that happened before this registration,
                // so treat it as ours: poll again. (Under loom, let the waking
                // thread run first, or the model spins on this path forever.)
                #[cfg(loom)]
                loom::thread::yield_now();
                waker.wake_by_ref();
            }
            Err(state) => {
                // Two threads registering at once: the doorbell has two
                // consumers, which breaks its contract. Refuse loudly, in
                // release builds too, rather than lose a wake-up.
                panic!("concurrent register on one AtomicWaker (state {state}): one consumer only");
            }
        }
    }

    /// Wakes the registered waker, if any, and removes it.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Removes the registered waker, if any, for the caller to wake.
    pub(crate) fn take(&self) -> Option<Waker> {
        // AcqRel: acquire the slot as the registering thread left it; release
        // is needed by the registering thread's failed CAS to see our claim.
        if self.state.fetch_or(WAKING, Ordering::AcqRel) == IDLE {
            // SAFETY: we moved state from IDLE to WAKING, which gives us the
            // slot until we clear WAKING.
            let taken = self.waker.with_mut(|slot| unsafe { (*slot).take() });
            self.state.fetch_and(!WAKING, Ordering::Release);
            return taken;
        }
        // Otherwise a registration is in progress (it will wake) or another
        // thread is already waking.
        None
    }
}

impl std::fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicWaker").field("state", &self.state.load(Ordering::Relaxed)).finish()
    }
}

// SAFETY: the slot is accessed only by the thread that owns it through
// `state` (see the type's doc), and `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as above.
unsafe impl Sync for AtomicWaker {}
