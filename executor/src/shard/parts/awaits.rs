//! The futures one actor awaits (`Context::wait`), polled one after the
//! other, in the order they were started, by one task per incarnation. The
//! behaviour around them (holding the actor, delivering results) is
//! `shard::ops::awaits`.
//!
//! Each future sits in a [`ReusedFuture`] place; places that are done are
//! kept for their buffers, so an actor that awaits one future per message
//! allocates nothing once its first few have run.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use crate::base::reused_future::ReusedFuture;

/// The futures an actor awaits, shared by its shard (which adds and
/// cancels them) and the task that polls them.
#[derive(Default)]
pub(crate) struct Awaits {
    /// Started and not finished, in order; the front one is polled.
    queue: RefCell<VecDeque<ReusedFuture>>,
    /// Empty places, kept for their buffers.
    spare: RefCell<Vec<ReusedFuture>>,
    /// The polling task, while it has nothing to poll.
    idle: RefCell<Option<Waker>>,
    /// The actor stopped or restarted: nothing more is polled, and the
    /// polling task ends.
    cancelled: Cell<bool>,
}

impl Awaits {
    /// Adds `future` behind the others, in a kept place if there is one.
    pub(crate) fn push<F: std::future::Future<Output = ()> + 'static>(&self, future: F) {
        let mut place = self.spare.borrow_mut().pop().unwrap_or_default();
        place.put(future);
        self.queue.borrow_mut().push_back(place);
        let idle = self.idle.borrow_mut().take();
        if let Some(waker) = idle {
            waker.wake();
        }
    }

    /// Drops every future not finished (outside any borrow: their `Drop`
    /// is user code) and ends the polling task. A future being polled right
    /// now (this runs from inside its poll) is dropped by the task once its
    /// poll returns.
    pub(crate) fn cancel(&self) {
        self.cancelled.set(true);
        let queue = std::mem::take(&mut *self.queue.borrow_mut());
        let idle = self.idle.borrow_mut().take();
        for place in queue {
            crate::base::drop_caught(place);
        }
        if let Some(waker) = idle {
            waker.wake();
        }
    }

    /// The polling task's body: polls the front future until it is pending
    /// or none is left, then waits for the next. A future that panics is
    /// dropped and its panic handed to `panicked`, and the next one runs.
    /// Ready once cancelled.
    pub(crate) fn poll(
        &self,
        cx: &mut Context<'_>,
        mut panicked: impl FnMut(Box<dyn Any + Send>),
    ) -> Poll<()> {
        loop {
            if self.cancelled.get() {
                return Poll::Ready(());
            }
            let front = self.queue.borrow_mut().pop_front();
            let Some(mut place) = front else {
                let mut idle = self.idle.borrow_mut();
                if !idle.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *idle = Some(cx.waker().clone());
                }
                return Poll::Pending;
            };
            // Out of the queue while it runs (moving the place does not
            // move the future), so no borrow is held while user code runs.
            let polled = catch_unwind(AssertUnwindSafe(|| place.poll(cx)));
            if self.cancelled.get() {
                crate::base::drop_caught(place);
                return Poll::Ready(());
            }
            match polled {
                Ok(Poll::Pending) => {
                    self.queue.borrow_mut().push_front(place);
                    return Poll::Pending;
                }
                Ok(Poll::Ready(())) => self.spare.borrow_mut().push(place),
                Err(panic) => {
                    if catch_unwind(AssertUnwindSafe(|| place.clear())).is_err() {
                        // Its `Drop` panicked too: the place is empty anyway.
                    }
                    self.spare.borrow_mut().push(place);
                    panicked(panic);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn futures_run_one_after_the_other_in_order() {
        let awaits = Awaits::default();
        let log = Rc::new(RefCell::new(Vec::new()));
        let gate = Rc::new(Cell::new(false));
        for i in 0..3 {
            let (log, gate) = (log.clone(), gate.clone());
            awaits.push(async move {
                std::future::poll_fn(|_| if gate.get() { Poll::Ready(()) } else { Poll::Pending })
                    .await;
                log.borrow_mut().push(i);
            });
        }
        assert!(awaits.poll(&mut cx(), |_| unreachable!()).is_pending());
        assert!(log.borrow().is_empty(), "the first one waits, so do the others");
        gate.set(true);
        assert!(awaits.poll(&mut cx(), |_| unreachable!()).is_pending());
        assert_eq!(*log.borrow(), [0, 1, 2]);
        assert_eq!(awaits.spare.borrow().len(), 3);
        // The next ones reuse the kept places.
        awaits.push(async {});
        assert_eq!(awaits.spare.borrow().len(), 2);
    }

    #[test]
    fn a_panic_is_reported_and_the_next_future_runs() {
        let awaits = Awaits::default();
        let ran = Rc::new(Cell::new(false));
        awaits.push(async { panic!("boom") });
        let r = ran.clone();
        awaits.push(async move { r.set(true) });
        let mut panics = 0;
        assert!(awaits.poll(&mut cx(), |_| panics += 1).is_pending());
        assert_eq!(panics, 1);
        assert!(ran.get());
    }

    #[test]
    fn cancel_drops_what_waits_and_ends_the_task() {
        struct Dropped(Rc<Cell<u32>>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let awaits = Awaits::default();
        let drops = Rc::new(Cell::new(0));
        for _ in 0..2 {
            let guard = Dropped(drops.clone());
            awaits.push(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        assert!(awaits.poll(&mut cx(), |_| unreachable!()).is_pending());
        awaits.cancel();
        assert_eq!(drops.get(), 2);
        assert!(awaits.poll(&mut cx(), |_| unreachable!()).is_ready());
    }

    #[test]
    fn cancel_from_inside_a_poll_drops_that_future_after_its_poll() {
        let awaits = Rc::new(Awaits::default());
        let inner = awaits.clone();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        awaits.push(async move {
            p.set(p.get() + 1);
            inner.cancel();
            std::future::pending::<()>().await;
        });
        assert!(awaits.poll(&mut cx(), |_| unreachable!()).is_ready());
        assert_eq!(polls.get(), 1);
        assert!(awaits.queue.borrow().is_empty());
    }
}
