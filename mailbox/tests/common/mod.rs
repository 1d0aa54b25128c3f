//! Helpers shared by the thread tests: blocking on a ring through its
//! doorbell, with a waker that unparks the waiting thread.

#![allow(dead_code)]

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use whirl_mailbox::{spsc, Closed};

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker that unparks the calling thread.
pub(crate) fn thread_waker() -> Waker {
    Waker::from(Arc::new(Unpark(std::thread::current())))
}

/// Pops one item, sleeping on the ring's doorbell while it is empty. No
/// timeout: a lost wake-up hangs the test, which is the point.
pub(crate) fn pop_blocking<T>(rx: &mut spsc::Consumer<T>, waker: &Waker) -> Result<T, Closed> {
    let mut cx = Context::from_waker(waker);
    loop {
        match rx.poll_pop(&mut cx) {
            Poll::Ready(result) => return result,
            Poll::Pending => {
                std::thread::park();
                rx.doorbell().cancel_park();
            }
        }
    }
}

/// Pushes one item, yielding the thread while the ring is full.
pub(crate) fn push_yielding<T>(tx: &mut spsc::Producer<T>, mut item: T) {
    loop {
        match tx.try_push(item) {
            Ok(()) => return,
            Err(e) if e.is_full() => {
                item = e.into_inner();
                std::thread::yield_now();
            }
            Err(_) => panic!("consumer gone"),
        }
    }
}
