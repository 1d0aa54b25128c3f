//! A cell for the shard's hot state (slots, run queue, outbound rings): the
//! closure-scoped access of a `RefCell` without its cost in release builds.

use std::cell::UnsafeCell;

/// Shard-local state, reached only through [`with`](Self::with), whose
/// closure must not call user code (handlers, hooks, `Drop` of messages,
/// wakers): so no two accesses ever overlap. Debug builds check that they do
/// not, as a `RefCell` would; release builds check nothing.
#[derive(Debug)]
pub(crate) struct LocalCell<T> {
    value: UnsafeCell<T>,
    #[cfg(debug_assertions)]
    borrowed: std::cell::Cell<bool>,
}

impl<T> LocalCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: UnsafeCell::new(value),
            #[cfg(debug_assertions)]
            borrowed: std::cell::Cell::new(false),
        }
    }

    /// Runs `f` with the value. `f` must not call user code.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(debug_assertions)]
        {
            assert!(!self.borrowed.replace(true), "LocalCell accessed re-entrantly");
            struct Release<'a>(&'a std::cell::Cell<bool>);
            impl Drop for Release<'_> {
                fn drop(&mut self) {
                    self.0.set(false);
                }
            }
            let _release = Release(&self.borrowed);
            // SAFETY: the flag shows no other access is in progress, and the
            // cell is not `Sync`, so none can start on another thread.
            f(unsafe { &mut *self.value.get() })
        }
        #[cfg(not(debug_assertions))]
        {
            // SAFETY: accesses never overlap: each is one call of `with`,
            // whose closure calls no user code and so cannot reach `with`
            // again (debug builds check this on every access).
            f(unsafe { &mut *self.value.get() })
        }
    }
}
