//! One thread per process that wakes tasks off the runtime at their
//! deadlines: the timeouts of asks awaited outside any shard, where no
//! glommio timer exists.
//!
//! A deadline heap under a mutex, and a condvar the thread sleeps on until
//! the earliest deadline. An entry is removed when its ask completes; a
//! later poll of the same ask replaces its waker, so the latest one is woken.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::Waker;
use std::time::Instant;

/// A registered deadline; pass it to [`update`] and [`cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey(u64);

#[derive(Default)]
struct Timers {
    /// Deadlines by key; entries of cancelled keys are skipped when they come
    /// up, and swept when they outnumber the live ones.
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    wakers: HashMap<u64, Waker>,
    next: u64,
}

struct TimerThread {
    timers: Mutex<Timers>,
    changed: Condvar,
}

fn timer_thread() -> &'static TimerThread {
    static THREAD: OnceLock<&'static TimerThread> = OnceLock::new();
    THREAD.get_or_init(|| {
        let timers: &'static TimerThread = Box::leak(Box::new(TimerThread {
            timers: Mutex::new(Timers::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("whirl-timers".into())
            .spawn(move || timers.run())
            .expect("whirl could not start its timer thread");
        timers
    })
}

impl TimerThread {
    fn lock(&self) -> std::sync::MutexGuard<'_, Timers> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) -> ! {
        let mut timers = self.lock();
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(&Reverse((at, key))) = timers.heap.peek() {
                if !timers.wakers.contains_key(&key) {
                    timers.heap.pop();
                } else if at <= now {
                    timers.heap.pop();
                    due.extend(timers.wakers.remove(&key));
                } else {
                    break;
                }
            }
            if !due.is_empty() {
                drop(timers);
                due.into_iter().for_each(Waker::wake);
                timers = self.lock();
                continue;
            }
            timers = match timers.heap.peek() {
                Some(&Reverse((at, _))) => {
                    let wait = at.saturating_duration_since(now);
                    self.changed.wait_timeout(timers, wait).unwrap_or_else(|e| e.into_inner()).0
                }
                None => self.changed.wait(timers).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// Wakes `waker` at `at` unless cancelled first.
pub(crate) fn register(at: Instant, waker: &Waker) -> TimerKey {
    let thread = timer_thread();
    let mut timers = thread.lock();
    let key = timers.next;
    timers.next += 1;
    let earliest = timers.heap.peek().is_none_or(|&Reverse((first, _))| at < first);
    timers.heap.push(Reverse((at, key)));
    timers.wakers.insert(key, waker.clone());
    drop(timers);
    if earliest {
        thread.changed.notify_one();
    }
    TimerKey(key)
}

/// Replaces the waker of `key`, if it has not fired.
pub(crate) fn update(key: TimerKey, waker: &Waker) {
    let mut timers = timer_thread().lock();
    // A replaced waker is dropped after the lock: dropping one may run code
    // that registers a timer.
    let _replaced = match timers.wakers.get_mut(&key.0) {
        Some(old) if !old.will_wake(waker) => Some(std::mem::replace(old, waker.clone())),
        _ => None,
    };
    drop(timers);
}

/// Forgets `key`.
pub(crate) fn cancel(key: TimerKey) {
    let mut timers = timer_thread().lock();
    let _removed = timers.wakers.remove(&key.0);
    // Sweep entries of cancelled keys so the heap stays proportional to the
    // live timers, not to every timer ever cancelled.
    if timers.heap.len() > 64 && timers.heap.len() > 2 * timers.wakers.len() {
        let Timers { heap, wakers, .. } = &mut *timers;
        heap.retain(|Reverse((_, key))| wakers.contains_key(key));
    }
    drop(timers);
}
