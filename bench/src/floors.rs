//! The floors under every cross-core number: what the hardware and the
//! kernel cost before any runtime runs. A cache line passed between two
//! pinned threads, and a sleeping thread woken through a futex
//! (`Thread::unpark`) and through an eventfd.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::affinity::pin_current_thread;
use crate::report::histogram;

/// Round trips of a value through one cache line between threads pinned to
/// CPUs 0 and 1: nanoseconds per round trip.
pub fn cache_line_round_trip(samples: u64) -> Histogram<u64> {
    let line = Arc::new(AtomicU64::new(0));
    let echo = {
        let line = line.clone();
        std::thread::spawn(move || {
            pin_current_thread(1).expect("pin");
            for i in 0..samples {
                // Acquire/Release: each side publishes its turn with a store
                // the other side's load observes; no data rides on it.
                while line.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                line.store(2 * i + 2, Ordering::Release);
            }
        })
    };
    let mut out = histogram(60_000_000_000);
    std::thread::spawn(move || {
        pin_current_thread(0).expect("pin");
        for i in 0..samples {
            let began = Instant::now();
            line.store(2 * i + 1, Ordering::Release);
            while line.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
            out.saturating_record(began.elapsed().as_nanos() as u64);
        }
        echo.join().expect("echo thread");
        out
    })
    .join()
    .expect("timing thread")
}

/// How the sleeper of [`wake`] sleeps.
#[derive(Debug, Clone, Copy)]
pub enum Sleep {
    /// `std::thread::park` (a futex on Linux).
    Futex,
    /// A blocking `read` of an eventfd.
    Eventfd,
}

/// One way from waking a thread asleep for `gap` to it running, on CPU 1,
/// woken from CPU 0: nanoseconds.
pub fn wake(how: Sleep, samples: u64, gap: Duration) -> Histogram<u64> {
    // SAFETY: eventfd takes no pointers; a negative result is checked.
    let fd = unsafe { libc::eventfd(0, 0) };
    assert!(fd >= 0, "eventfd");
    // The waker's time stamp, as nanoseconds since `base`.
    let base = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let sleeper = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            pin_current_thread(1).expect("pin");
            let mut out = histogram(60_000_000_000);
            for _ in 0..samples {
                match how {
                    Sleep::Futex => {
                        // Acquire pairs with the waker's Release store.
                        while sent.load(Ordering::Acquire) == 0 {
                            std::thread::park();
                        }
                    }
                    Sleep::Eventfd => {
                        let mut buf = 0u64;
                        // SAFETY: reads 8 bytes into a live u64.
                        let n = unsafe { libc::read(fd, (&mut buf as *mut u64).cast(), 8) };
                        assert_eq!(n, 8, "eventfd read");
                    }
                }
                let at = base.elapsed().as_nanos() as u64;
                // AcqRel: takes the stamp and clears it for the next round.
                let stamp = sent.swap(0, Ordering::AcqRel);
                out.saturating_record(at.saturating_sub(stamp).max(1));
            }
            out
        })
    };
    let thread = sleeper.thread().clone();
    std::thread::spawn(move || {
        pin_current_thread(0).expect("pin");
        for _ in 0..samples {
            std::thread::sleep(gap);
            while sent.load(Ordering::Acquire) != 0 {
                std::thread::yield_now();
            }
            // Release: the sleeper's Acquire load sees the stamp.
            sent.store(base.elapsed().as_nanos() as u64, Ordering::Release);
            match how {
                Sleep::Futex => thread.unpark(),
                Sleep::Eventfd => {
                    let one = 1u64;
                    // SAFETY: writes 8 bytes from a live u64.
                    let n = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
                    assert_eq!(n, 8, "eventfd write");
                }
            }
        }
    })
    .join()
    .expect("waker thread");
    let out = sleeper.join().expect("sleeper thread");
    // SAFETY: `fd` is ours and no thread uses it any more.
    unsafe { libc::close(fd) };
    out
}
