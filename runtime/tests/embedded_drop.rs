//! Embedded mode: the program owns the shard's future and may drop it at any
//! time, even from inside a wake-up whirl makes: no freed shard is written
//! to, and the shard is marked exited however its future ends.
//!
//! A quarantining allocator stands in for AddressSanitizer: while it
//! watches, freed blocks are filled with a pattern and kept, not reused; at
//! the end every kept block must still hold the pattern. A write through a
//! dangling pointer changes it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System as Sys};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Wake, Waker};
use std::time::Duration;

use common::{within, Counter, CounterMsg};
use glommio::{LocalExecutorBuilder, Placement};
use whirl::Runtime;

const POISON: u8 = 0xA5;

struct Quarantine;

static WATCHING: AtomicBool = AtomicBool::new(false);
/// Freed blocks kept while watching: (address, size).
static KEPT: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

thread_local! {
    static IN_ALLOCATOR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

// SAFETY: allocation is the system's; deallocation while watching poisons the
// block and keeps it (never frees it), which only leaks memory.
unsafe impl GlobalAlloc for Quarantine {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        unsafe { Sys.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let reentrant = IN_ALLOCATOR.with(|f| f.replace(true));
        if WATCHING.load(Ordering::SeqCst) && !reentrant {
            // SAFETY: the block is ours until it is freed, and we never free it.
            unsafe { std::ptr::write_bytes(ptr, POISON, layout.size()) };
            KEPT.lock().unwrap().push((ptr as usize, layout.size()));
            IN_ALLOCATOR.with(|f| f.set(false));
            return;
        }
        IN_ALLOCATOR.with(|f| f.set(reentrant));
        // SAFETY: same contract as ours.
        unsafe { Sys.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Quarantine = Quarantine;

type ShardFuture = Pin<Box<dyn Future<Output = bool>>>;

thread_local! {
    /// The program keeps whirl's shard future here.
    static SHARD: RefCell<Option<ShardFuture>> = const { RefCell::new(None) };
}

/// A waker whose wake-up drops the shard's future: a program shutting its
/// part down from a wake-up.
struct DropsTheShard;

impl Wake for DropsTheShard {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let future = SHARD.with(|s| s.borrow_mut().take());
        drop(future);
    }
}

#[test]
fn dropping_the_shard_inside_its_own_wake_up_touches_no_freed_memory() {
    within(60, || {
        let whirl =
            Runtime::builder().shards(1).spin_before_park(Duration::ZERO).build_embedded().unwrap();
        let system = whirl.system();
        let runner = whirl.shard(0).unwrap();
        let sys = system.clone();
        let executor = LocalExecutorBuilder::new(Placement::Unbound)
            .spawn(move || async move {
                SHARD.with(|s| *s.borrow_mut() = Some(Box::pin(runner.run())));
                let waker = Waker::from(Arc::new(DropsTheShard));
                let poll_shard = || {
                    let mut future = SHARD.with(|s| s.borrow_mut().take()).unwrap();
                    let poll = future.as_mut().poll(&mut TaskContext::from_waker(&waker));
                    SHARD.with(|s| *s.borrow_mut() = Some(future));
                    poll
                };
                // The shard starts, finds nothing to do and parks with our
                // waker as its dispatcher's.
                assert!(poll_shard().is_pending());
                let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
                assert!(poll_shard().is_pending());
                // A local send wakes the parked dispatcher: our waker drops
                // the shard's future inside that wake-up.
                WATCHING.store(true, Ordering::SeqCst);
                let _ = counter.send(CounterMsg::Add(1));
                WATCHING.store(false, Ordering::SeqCst);
                assert!(SHARD.with(|s| s.borrow().is_none()), "the wake dropped the shard");
            })
            .unwrap();
        executor.join().unwrap();
        let kept = std::mem::take(&mut *KEPT.lock().unwrap());
        assert!(!kept.is_empty(), "the shard was freed while watching");
        for (address, size) in kept {
            // SAFETY: kept blocks are never freed or reused.
            let block = unsafe { std::slice::from_raw_parts(address as *const u8, size) };
            assert!(
                block.iter().all(|&b| b == POISON),
                "a block of {size} bytes was written after it was freed"
            );
        }
        // The shard's exit guard told the runtime: shutdown completes.
        futures_lite::future::block_on(system.shutdown());
    });
}
