//! Waiting for room in a full ring to another shard, without polling and
//! without timers.
//!
//! A task whose send finds the ring to shard `to` full registers here and
//! sleeps ([`RoomFor`]); the dispatch loop wakes it after a pass that finds
//! room. Before the loop parks it asks each ring that something waits on to
//! wake it once the receiving shard frees words
//! ([`EntryProducer::wait_for_room`]), so the wait ends with the receiver's
//! progress, not with a poll. The loop's own overflow queue of commands
//! waits the same way.
//!
//! Only the dispatch loop's waker is ever given to a ring (a ring holds one
//! waker); it wakes the tasks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use whirl_mailbox::entry_ring::EntryProducer;

use crate::shard::parts::backpressure::RoomWaiter;
use crate::shard::{with_current, Shard};

impl Shard {
    /// Wakes `waker` once the ring to shard `to` has room for `words` words
    /// or is closed; returns the wait's id, for [`Shard::forget_room_wait`].
    /// A task may wait on several rings at once (one wait each).
    fn wait_for_room(&self, to: u16, words: usize, waker: &Waker) -> u64 {
        let id = self.jobs.next_id();
        self.backpressure.room_waiters().borrow_mut().push(RoomWaiter {
            id,
            to,
            words,
            waker: waker.clone(),
        });
        // A parked loop re-parks, and asks this ring for a wake-up too.
        self.wake_dispatcher();
        id
    }

    /// Removes wait `id` if it is still registered (its future was dropped
    /// or polled again before its wake-up).
    fn forget_room_wait(&self, id: u64) {
        let mut waiters = self.backpressure.room_waiters().borrow_mut();
        if let Some(at) = waiters.iter().position(|w| w.id == id) {
            // Dropped after the borrow ends: a waker's drop may run code.
            let waiter = waiters.swap_remove(at);
            drop(waiters);
            drop(waiter);
        }
    }

    /// Calls `f` with each ring something waits on (commands in the
    /// overflow queue, or tasks) and the words the first of them needs;
    /// true as soon as `f` is. A closed or missing ring counts as true: what
    /// waits for it must be told.
    fn any_wanted_ring(&self, mut f: impl FnMut(&mut EntryProducer, usize) -> bool) -> bool {
        let overflow = self.rings.overflow().borrow();
        let waiters = self.backpressure.room_waiters().borrow();
        let outboxes = self.rings.room_wanted().borrow();
        if waiters.is_empty()
            && overflow.iter().all(|queue| queue.is_empty())
            && outboxes.iter().all(|&words| words == 0)
        {
            return false;
        }
        self.rings.outbound().with(|outbound| {
            (0..outbound.len()).any(|to| {
                // Tasks' sends go behind waiting commands: the first
                // command is what needs room first.
                let words = match overflow[to].front() {
                    Some(command) => command.len(),
                    None => waiters
                        .iter()
                        .filter(|w| w.to as usize == to)
                        .map(|w| w.words)
                        .chain((outboxes[to] > 0).then_some(outboxes[to]))
                        .min()
                        .unwrap_or(0),
                };
                if words == 0 {
                    return false;
                }
                match outbound[to].as_mut() {
                    Some(producer) if !producer.is_closed() => f(producer, words),
                    _ => true,
                }
            })
        })
    }

    /// Whether a ring that commands or tasks wait on has room now.
    pub(crate) fn room_appeared(&self) -> bool {
        self.any_wanted_ring(|producer, words| producer.free_words() >= words)
    }

    /// Before the loop parks with `waker`: asks every ring something waits
    /// on to wake it when its receiver frees words. Returns whether one has
    /// room already (then the loop must not park).
    pub(crate) fn arm_room_waits(&self, waker: &Waker) -> bool {
        let mut room = false;
        // `f` answers false so that every wanted ring is armed: the loop
        // sleeps on all of them. True comes back only for a closed ring.
        let closed = self.any_wanted_ring(|producer, words| {
            room |= producer.wait_for_room(words, waker);
            false
        });
        room || closed
    }

    /// Wakes the tasks whose ring has room now (or is closed). After every
    /// pass; nearly free when nobody waits.
    pub(crate) fn wake_room_waiters(&self) {
        if self.backpressure.room_waiters().borrow().is_empty() {
            return;
        }
        // A buffer kept between calls: waking allocates nothing.
        let mut ready = std::mem::take(&mut *self.backpressure.woken().borrow_mut());
        {
            let overflow = self.rings.overflow().borrow();
            let mut waiters = self.backpressure.room_waiters().borrow_mut();
            self.rings.outbound().with(|outbound| {
                let mut i = 0;
                while i < waiters.len() {
                    let to = waiters[i].to as usize;
                    let room = match outbound.get_mut(to).and_then(Option::as_mut) {
                        Some(producer) if !producer.is_closed() => {
                            // Behind waiting commands a send cannot go yet.
                            overflow[to].is_empty() && producer.free_words() >= waiters[i].words
                        }
                        _ => true,
                    };
                    if room {
                        ready.push(waiters.swap_remove(i).waker);
                    } else {
                        i += 1;
                    }
                }
            });
        }
        // Wakers may run an embedding program's code: no borrow held.
        for waker in ready.drain(..) {
            waker.wake();
        }
        *self.backpressure.woken().borrow_mut() = ready;
    }

    /// Wakes every waiting task: the shard is exiting, and their sends are
    /// refused from now on.
    pub(crate) fn wake_all_room_waiters(&self) {
        let waiters = std::mem::take(&mut *self.backpressure.room_waiters().borrow_mut());
        for waiter in waiters {
            waiter.waker.wake();
        }
    }
}

/// Resolves once the ring from this thread's shard to shard `to` may have
/// room for `words` words (woken by the dispatch loop), or at once off a
/// shard of mesh `mesh`. Dropping it withdraws the wait.
pub(crate) struct RoomFor {
    mesh: u32,
    to: u16,
    words: usize,
    /// The registered wait, while there is one.
    wait: Option<u64>,
    polled: bool,
}

impl RoomFor {
    pub(crate) fn new(mesh: u32, to: u16, words: usize) -> Self {
        Self { mesh, to, words, wait: None, polled: false }
    }

    fn forget(&mut self) {
        let (Some(id), mesh) = (self.wait.take(), self.mesh) else { return };
        with_current(|shard| {
            if let Some(shard) = shard.filter(|s| s.mesh_id == mesh) {
                shard.forget_room_wait(id);
            }
        });
    }
}

impl Future for RoomFor {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            // Woken (the wait is gone) or polled for another reason (the
            // caller tries again, and waits anew if it must).
            self.forget();
            return Poll::Ready(());
        }
        self.polled = true;
        let (mesh, to, words) = (self.mesh, self.to, self.words);
        let wait = with_current(|shard| match shard {
            Some(shard) if shard.mesh_id == mesh => {
                Some(shard.wait_for_room(to, words, cx.waker()))
            }
            _ => None,
        });
        match wait {
            Some(id) => {
                self.wait = Some(id);
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

impl Drop for RoomFor {
    fn drop(&mut self) {
        self.forget();
    }
}
