//! A global allocator that counts the allocations a thread makes while it
//! has counting on, leaving out glommio's reactor (it allocates when it
//! re-arms its preemption timers and submits to io_uring, which whirl does
//! not control; `allocations.rs` reports those apart). Included by the test binaries that install it
//! (`#[path = "support/counting.rs"] mod counting;`): a binary has one
//! global allocator, so it cannot live in `common`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of the thread that called [`start`].
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: thread-locals may be gone while a thread exits.
        let _ = COUNTING.try_with(|counting| {
            if counting.get() {
                // Off while looking at the stack: capturing it allocates.
                counting.set(false);
                let stack = std::backtrace::Backtrace::force_capture().to_string();
                let in_glommio = ["glommio::reactor::", "glommio::parking::", "glommio::sys::"]
                    .iter()
                    .any(|frame| stack.contains(frame));
                if !in_glommio {
                    let _ = COUNT.try_with(|count| count.set(count.get() + 1));
                }
                counting.set(true);
            }
        });
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts counting this thread's allocations from zero.
pub(crate) fn start() {
    COUNT.with(|count| count.set(0));
    COUNTING.with(|counting| counting.set(true));
}

/// Stops counting; returns this thread's allocations since [`start`].
pub(crate) fn stop() -> u64 {
    COUNTING.with(|counting| counting.set(false));
    COUNT.with(Cell::get)
}
