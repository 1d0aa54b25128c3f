//! A place for one future at a time, in a heap buffer kept for the next
//! one: what lets an actor await future after future (`Context::wait`)
//! without an allocation each time.
//!
//! The buffer grows to the largest future put in it and is freed with the
//! place. A future stays where it was written from its first poll until it
//! is dropped in place (it is pinned there); moving the place moves only
//! the pointer to it.

use std::alloc::{self, Layout};
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// One future at a time (output `()`), in a buffer reused across futures.
pub(crate) struct ReusedFuture {
    /// The buffer: `capacity` bytes aligned to its align; dangling while
    /// `capacity` has size zero.
    buffer: NonNull<u8>,
    capacity: Layout,
    /// The future in the buffer, if there is one (a pointer into `buffer`,
    /// or a dangling one for a future of size zero).
    future: Option<NonNull<dyn Future<Output = ()>>>,
}

impl ReusedFuture {
    /// An empty place that has allocated nothing yet.
    pub(crate) fn new() -> Self {
        Self { buffer: NonNull::dangling(), capacity: Layout::new::<()>(), future: None }
    }

    /// Whether a future is in place.
    #[cfg(test)]
    pub(crate) fn is_occupied(&self) -> bool {
        self.future.is_some()
    }

    /// Puts `future` in place, growing the buffer if it does not fit (the
    /// only allocation). Drops the future in place before, if any.
    pub(crate) fn put<F: Future<Output = ()> + 'static>(&mut self, future: F) {
        self.clear();
        let needed = Layout::new::<F>();
        let at: *mut F = if needed.size() == 0 {
            NonNull::<F>::dangling().as_ptr()
        } else {
            if needed.size() > self.capacity.size() || needed.align() > self.capacity.align() {
                self.grow(needed);
            }
            self.buffer.as_ptr().cast::<F>()
        };
        // SAFETY: `at` is aligned for `F` and, for a sized `F`, points at
        // `capacity.size() >= size_of::<F>()` bytes of our buffer, which no
        // future occupies (cleared above); a dangling aligned pointer is
        // valid for a zero-sized write.
        unsafe { at.write(future) };
        let erased: *mut dyn Future<Output = ()> = at;
        // SAFETY: `at` is not null (a buffer pointer or `dangling`).
        self.future = Some(unsafe { NonNull::new_unchecked(erased) });
    }

    /// Polls the future in place; once it is ready it is dropped and the
    /// place is empty. `Ready` too if the place was empty.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future else { return Poll::Ready(()) };
        // SAFETY: the future was written by `put` and is dropped only in
        // place (by `clear`, which empties `future` first), so it is alive
        // and never moves: pinning holds. `&mut self` makes this the only
        // reference to it. If the poll panics, `future` stays set and the
        // future is dropped in place later, as a panicked future may be.
        let done = unsafe { Pin::new_unchecked(&mut *future.as_ptr()) }.poll(cx);
        if done.is_ready() {
            self.clear();
        }
        done
    }

    /// Drops the future in place, if there is one (the buffer stays).
    pub(crate) fn clear(&mut self) {
        if let Some(future) = self.future.take() {
            // SAFETY: alive (written by `put`, not dropped since: `future`
            // was set), and dropped once, here, after `future` was emptied
            // (a panic in its `Drop` leaves the place empty).
            unsafe { std::ptr::drop_in_place(future.as_ptr()) };
        }
    }

    /// Replaces the buffer with one that fits `needed` and what fit before.
    /// Only while no future is in place.
    fn grow(&mut self, needed: Layout) {
        debug_assert!(self.future.is_none());
        let size = needed.size().max(self.capacity.size());
        let align = needed.align().max(self.capacity.align());
        let layout = Layout::from_size_align(size, align).expect("a future's layout");
        // SAFETY: `layout` has a nonzero size (`needed`'s is).
        let buffer = unsafe { alloc::alloc(layout) };
        let Some(buffer) = NonNull::new(buffer) else { alloc::handle_alloc_error(layout) };
        self.free_buffer();
        self.buffer = buffer;
        self.capacity = layout;
    }

    fn free_buffer(&mut self) {
        if self.capacity.size() > 0 {
            // SAFETY: allocated by `grow` with exactly `capacity`; no future
            // is in it.
            unsafe { alloc::dealloc(self.buffer.as_ptr(), self.capacity) };
            self.capacity = Layout::new::<()>();
            self.buffer = NonNull::dangling();
        }
    }
}

impl Drop for ReusedFuture {
    fn drop(&mut self) {
        /// Frees the buffer even if the future's `Drop` panics.
        struct FreeBuffer<'a>(&'a mut ReusedFuture);
        impl Drop for FreeBuffer<'_> {
            fn drop(&mut self) {
                self.0.free_buffer();
            }
        }
        let place = FreeBuffer(self);
        place.0.clear();
    }
}

impl Default for ReusedFuture {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    /// Counts its drops; pending until `ready` is set.
    struct Probe {
        ready: Rc<Cell<bool>>,
        drops: Rc<Cell<u32>>,
        _pad: [u64; 4],
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.ready.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn a_future_is_polled_in_place_and_dropped_once_when_ready() {
        let (ready, drops) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
        let mut place = ReusedFuture::new();
        place.put(Probe { ready: ready.clone(), drops: drops.clone(), _pad: [0; 4] });
        assert!(place.poll(&mut cx()).is_pending());
        assert!(place.is_occupied());
        ready.set(true);
        assert!(place.poll(&mut cx()).is_ready());
        assert!(!place.is_occupied());
        assert_eq!(drops.get(), 1);
        assert!(place.poll(&mut cx()).is_ready(), "an empty place is ready");
        drop(place);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn the_buffer_is_reused_and_grows_for_larger_or_more_aligned_futures() {
        let mut place = ReusedFuture::new();
        place.put(async {});
        let small = async {
            let x = [1u8; 8];
            std::future::ready(()).await;
            assert_eq!(x[0], 1);
        };
        place.put(small);
        let first = place.buffer;
        assert!(place.poll(&mut cx()).is_ready());
        place.put(async {});
        assert_eq!(place.buffer, first, "a smaller future reuses the buffer");
        #[repr(align(64))]
        struct Aligned([u8; 64]);
        let aligned = Aligned([7; 64]);
        place.put(async move {
            // Moved whole (a field alone would be captured without the
            // struct's alignment).
            let aligned = aligned;
            std::future::ready(()).await;
            assert_eq!(aligned.0[63], 7);
        });
        assert_eq!(place.capacity.align(), 64);
        assert_eq!(place.buffer.as_ptr() as usize % 64, 0);
        assert!(place.poll(&mut cx()).is_ready());
    }

    #[test]
    fn clear_and_drop_drop_a_pending_future_once() {
        let (ready, drops) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
        let mut place = ReusedFuture::new();
        place.put(Probe { ready: ready.clone(), drops: drops.clone(), _pad: [0; 4] });
        assert!(place.poll(&mut cx()).is_pending());
        place.clear();
        assert_eq!(drops.get(), 1);
        place.put(Probe { ready, drops: drops.clone(), _pad: [0; 4] });
        drop(place);
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn a_panicking_future_is_dropped_later_in_place() {
        let drops = Rc::new(Cell::new(0));
        let guard = Probe { ready: Rc::new(Cell::new(false)), drops: drops.clone(), _pad: [0; 4] };
        let mut place = ReusedFuture::new();
        place.put(async move {
            let _guard = guard;
            std::future::ready(()).await;
            panic!("boom");
        });
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| place.poll(&mut cx())));
        assert!(polled.is_err());
        assert!(place.is_occupied());
        place.clear();
        assert!(!place.is_occupied());
        assert_eq!(drops.get(), 1);
    }
}
