//! The park/wake protocol between the consumer of one or more rings and their
//! producers.

use std::task::Waker;

use crossbeam_utils::CachePadded;

use crate::atomic_waker::AtomicWaker;
use crate::barrier;
use crate::sync::{AtomicUsize, Ordering};

/// Lets a consumer sleep while its rings are empty and lets a producer wake
/// it, without losing a wake-up and without a read-modify-write or a fence
/// on the producer's fast path.
///
/// A doorbell belongs to one consumer and may be shared by many rings (a
/// shard has one doorbell for all of its inbound rings; see
/// [`spsc::channel_with_doorbell`](crate::spsc::channel_with_doorbell)).
///
/// # Protocol
///
/// Consumer, when it has found every ring empty:
/// 1. [`prepare_park`](Self::prepare_park) with the waker to call: registers
///    it, announces `parked`, and pays the heavy barrier;
/// 2. checks every ring again;
/// 3. if something arrived, [`cancel_park`](Self::cancel_park) and carry on;
///    otherwise sleep (return `Poll::Pending`). After any wake-up, call
///    `cancel_park` before polling again.
///
/// Producer, after publishing items (the rings do this for you):
/// [`ring`](Self::ring): a light barrier, then a plain load of the park
/// epoch; only if the consumer is parked in an epoch this producer has not
/// woken yet, a wake. Because of the barrier pair (see the `barrier`
/// module), either the consumer's re-check in step 2 sees the items, or the
/// producer sees it parked and wakes it. Producers never write to the
/// doorbell's hot line.
///
/// ```
/// use std::{sync::Arc, task::{Wake, Waker}};
/// use whirl_mailbox::spsc;
///
/// struct Flag(std::sync::atomic::AtomicBool);
/// impl Wake for Flag {
///     fn wake(self: Arc<Self>) { self.0.store(true, std::sync::atomic::Ordering::SeqCst) }
/// }
///
/// let (mut tx, mut rx) = spsc::channel::<u32>(8).unwrap();
/// let flag = Arc::new(Flag(false.into()));
/// let waker = Waker::from(flag.clone());
///
/// assert!(rx.try_pop().is_err());
/// rx.doorbell().prepare_park(&waker);
/// assert!(rx.try_pop().is_err()); // still empty: we may sleep now
/// tx.try_push(7).unwrap();        // the producer sees us parked and wakes us
/// assert!(flag.0.load(std::sync::atomic::Ordering::SeqCst));
/// rx.doorbell().cancel_park();
/// assert_eq!(rx.try_pop(), Ok(7));
/// ```
#[derive(Debug)]
pub struct Doorbell {
    /// The park epoch: odd while the consumer is parked (or about to sleep),
    /// even while it runs. Written only by the consumer; producers only load
    /// it, so the producer side has no read-modify-write here at all. Each
    /// producer remembers the last epoch it woke and wakes each park at most
    /// once. On its own cache line: written on park and wake only, read by
    /// producers on every publication, so it stays shared in their caches.
    epoch: CachePadded<AtomicUsize>,
    /// Whom to wake. Registered before the epoch turns odd.
    waker: AtomicWaker,
}

impl Doorbell {
    /// A doorbell with nobody parked.
    pub fn new() -> Self {
        barrier::init();
        Self { epoch: CachePadded::new(AtomicUsize::new(0)), waker: AtomicWaker::new() }
    }

    /// Consumer: announces that it is about to sleep and will be woken through
    /// `waker`. Re-check every ring afterwards (see the protocol above).
    /// Calling it again without [`cancel_park`](Self::cancel_park) starts a
    /// new park.
    pub fn prepare_park(&self, waker: &Waker) {
        self.waker.register(waker);
        // Relaxed: only this thread stores the epoch.
        let epoch = self.epoch.load(Ordering::Relaxed);
        let parked = if epoch & 1 == 1 { epoch.wrapping_add(2) } else { epoch.wrapping_add(1) };
        // Release: a producer that Acquire-loads this epoch also sees the
        // waker registered above, so its wake reaches this registration.
        self.epoch.store(parked, Ordering::Release);
        // Heavy half of the barrier pair: orders the store above before the
        // consumer's re-check of the rings, against every producer's light
        // half.
        barrier::heavy();
    }

    /// Consumer: it is awake (it found work on the re-check, or it was woken).
    pub fn cancel_park(&self) {
        // Relaxed: only this thread stores the epoch, and a producer that
        // still sees the odd value merely wakes us once more.
        let epoch = self.epoch.load(Ordering::Relaxed);
        if epoch & 1 == 1 {
            self.epoch.store(epoch.wrapping_add(1), Ordering::Relaxed);
        }
    }

    /// Producer: call after publishing. Wakes the consumer if it is parked in
    /// an epoch this producer has not woken yet; `woken` is the producer's own
    /// record of that epoch (start it at 0). Returns whether this call woke.
    #[inline]
    pub fn ring(&self, woken: &mut usize) -> bool {
        if self.wake_due(woken) {
            self.waker.wake();
            return true;
        }
        false
    }

    /// As [`ring`](Self::ring), but hands the consumer's waker to the caller
    /// to wake, for a caller that must first let go of its own state (a
    /// waker may run arbitrary code). `None`: no wake is due, or another
    /// producer's wake is under way.
    #[inline]
    pub fn ring_deferred(&self, woken: &mut usize) -> Option<Waker> {
        if self.wake_due(woken) {
            return self.waker.take();
        }
        None
    }

    /// Whether the consumer is parked in an epoch `woken` does not record
    /// yet; records it if so.
    #[inline(always)]
    fn wake_due(&self, woken: &mut usize) -> bool {
        // Light half of the barrier pair: orders our earlier publication
        // (a release store of the ring's tail) before the load below.
        barrier::light();
        // Acquire: pairs with prepare_park's Release so the wake that follows
        // sees the waker registered for this epoch.
        let epoch = self.epoch.load(Ordering::Acquire);
        if epoch & 1 == 1 && epoch != *woken {
            *woken = epoch;
            return true;
        }
        false
    }

    /// Whether the consumer has announced it is parked and has not run since.
    /// Advisory: it may change right after the call.
    pub fn is_parked(&self) -> bool {
        self.epoch.load(Ordering::Relaxed) & 1 == 1
    }
}

impl Default for Doorbell {
    fn default() -> Self {
        Self::new()
    }
}
