//! The synchronisation primitives this crate is built on.
//!
//! Under `cfg(loom)` every atomic, cell and `Arc` comes from loom so the model
//! checker sees each access; otherwise they are the standard library's. Code in
//! this crate imports from here, never from `std::sync` directly.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::atomic::{fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering},
    sync::Arc,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering},
    Arc,
};

/// `std::cell::UnsafeCell` with loom's closure-based access API, so the same
/// code compiles against both. `with`/`with_mut` inline to a plain pointer.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
