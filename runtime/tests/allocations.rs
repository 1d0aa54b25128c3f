//! The steady state of sending, handling, asking and replying allocates
//! nothing on whirl's paths: a counting global allocator proves it. (One test
//! per binary: the counter is process-wide.)
//!
//! glommio itself allocates when its reactor goes to the kernel (re-arming
//! its preemption timer, submitting the wait) and when one thread wakes
//! another's task (its cross-thread wake queue). Those happen per idle
//! cycle of an executor, not per message; the allocator tells them apart by
//! the call stack and the test reports them separately.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use common::{Counter, CounterMsg};

struct Counting;

/// Whether allocations are being classified (the measured window).
static WATCHING: AtomicBool = AtomicBool::new(false);
/// Allocations in glommio's reactor or cross-thread wake path.
static GLOMMIO: AtomicU64 = AtomicU64::new(0);
/// Allocations anywhere else: whirl's paths, the test's own.
static OTHER: AtomicU64 = AtomicU64::new(0);
/// The first few call stacks of `OTHER` allocations, for the failure message.
static OTHER_STACKS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while classifying, so the classifier's own allocations are not
    /// classified.
    static CLASSIFYING: Cell<bool> = const { Cell::new(false) };
}

fn classify() {
    if !WATCHING.load(Ordering::Relaxed) || CLASSIFYING.with(Cell::get) {
        return;
    }
    CLASSIFYING.with(|c| c.set(true));
    let stack = Backtrace::force_capture().to_string();
    let in_glommio = ["glommio::reactor::", "glommio::parking::", "glommio::sys::"]
        .iter()
        .any(|frame| stack.contains(frame));
    // The test's own thread, parked in `block_on` on a std channel (whose
    // waker list may grow when it wakes spuriously), is not a whirl path.
    let waiting_caller = stack.contains("Runtime::block_on") && stack.contains("std::sync::mpmc::");
    if waiting_caller {
        // Not counted.
    } else if in_glommio {
        GLOMMIO.fetch_add(1, Ordering::Relaxed);
    } else {
        OTHER.fetch_add(1, Ordering::Relaxed);
        let mut stacks = OTHER_STACKS.lock().unwrap();
        if stacks.len() < 3 {
            stacks.push(stack);
        }
    }
    CLASSIFYING.with(|c| c.set(false));
}

// SAFETY: defers every call to the system allocator unchanged; it only
// classifies allocations on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        classify();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        classify();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_messaging_allocates_nothing() {
    let rt = common::runtime(2);
    let report = rt
        .block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            let mut report = Vec::new();
            for (name, shard) in [("same shard", here), ("cross shard", 1 - here)] {
                let c = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
                // One round: a burst of sends, then an ask that waits for
                // them all to be handled and answers across the same path.
                let round = || async {
                    for _ in 0..500 {
                        c.send(CounterMsg::Add(1)).unwrap();
                    }
                    c.ask(CounterMsg::Get).await.unwrap()
                };
                // Warm up: mailboxes, reply tables and queues reach their
                // working size.
                for _ in 0..20 {
                    round().await;
                }
                GLOMMIO.store(0, Ordering::Relaxed);
                OTHER.store(0, Ordering::Relaxed);
                let wakes = sys.stats().wakes;
                WATCHING.store(true, Ordering::Relaxed);
                let mut total = 0;
                for _ in 0..200 {
                    total = round().await;
                }
                WATCHING.store(false, Ordering::Relaxed);
                assert_eq!(total, 220 * 500);
                report.push((
                    name,
                    OTHER.load(Ordering::Relaxed),
                    GLOMMIO.load(Ordering::Relaxed),
                    sys.stats().wakes - wakes,
                ));
            }
            sys.shutdown().await;
            report
        })
        .unwrap();
    for (name, whirl, glommio, wakes) in &report {
        println!(
            "{name}: 100000 sends + 200 asks: {whirl} allocations on whirl's paths, \
             {glommio} in glommio's reactor and wake queue, {wakes} wake-ups of a parked shard"
        );
    }
    let stacks = OTHER_STACKS.lock().unwrap().join("\n----\n");
    for (name, whirl, _, _) in &report {
        assert_eq!(*whirl, 0, "{name}: send, handle, ask and reply allocated:\n{stacks}");
    }
}
