//! `ActorRef`: the small, copyable address of an actor.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use futures_lite::future::yield_now;
use whirl_mailbox::Payload;

use crate::base::actor_fns::ActorFns;
use crate::base::entry;
use crate::base::injected::Injected;
use crate::mesh::{phase, InjectError, Mesh};
use crate::shard::ops::commands::{injected_stop, STOP};
use crate::shard::ops::room::RoomFor;
use crate::shard::{current_of, with_current};
use crate::{Ask, Reply, SendError};

/// The address of an actor that handles `M`: its runtime, shard, slot and
/// the slot's generation, and how its actor type runs messages. 24 bytes,
/// `Copy`, `Send + Sync`.
///
/// It works the same from the actor's own shard (no atomics), from another
/// shard (through the ring between the two), and from a thread outside the
/// runtime (through the shard's injection queue). Once the actor is stopped
/// for good the ref reports `Closed`; a new actor in the same slot has a new
/// generation, so old refs never reach it.
///
/// # Ordering
///
/// Messages from one sender (an actor, a task, or a foreign thread) to one
/// actor arrive in the order they were sent.
pub struct ActorRef<M> {
    /// Never reused by another runtime of this process.
    pub(crate) mesh: u32,
    pub(crate) shard: u16,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
    /// The functions of the actor's type: a sender writes the actor type's
    /// run function into each message entry.
    fns: &'static ActorFns,
    _message: PhantomData<fn(M)>,
}

impl<M> ActorRef<M> {
    pub(crate) fn new(
        mesh: u32,
        shard: u16,
        slot: u32,
        generation: u32,
        fns: &'static ActorFns,
    ) -> Self {
        Self { mesh, shard, slot, generation, fns, _message: PhantomData }
    }

    pub(crate) fn fns(&self) -> &'static ActorFns {
        self.fns
    }

    /// The index of the shard the actor lives on.
    pub fn shard(&self) -> usize {
        self.shard as usize
    }

    /// Whether the actor has not stopped for good: it may be running,
    /// restarting, or not started yet (a spawn on another shard returns its
    /// ref before the actor is built). False once it stopped for good, its
    /// start failed for good, or its runtime is gone. Restarts keep it
    /// alive: the ref stays valid across them.
    ///
    /// The answer is exact on the actor's shard, and on other shards and
    /// threads as of the moment of the call (two atomic loads: the shard's
    /// exit flag and the slot's generation; off the runtime also a look-up
    /// of the runtime by id, under a read lock). A `true` may be stale
    /// by the time it is used: to act on the actor's end, watch it
    /// ([`Context::watch`](crate::Context::watch)).
    pub fn is_alive(&self) -> bool {
        let alive = |mesh: &Mesh| {
            // A spawn refused on its way to an exited shard never freed its
            // reserved slot: an exited shard has nothing alive.
            mesh.shards.get(self.shard as usize).is_some_and(|shared| {
                !shared.has_exited() && shared.generations.get(self.slot) == self.generation
            })
        };
        crate::shard::with_mesh(self.mesh, alive).unwrap_or(false)
    }

    /// The actor's counters (messages handled, mailbox depth and
    /// high-water mark, restarts, arena, handling times: see
    /// [`ActorStats`](crate::ActorStats)), read on its shard while it keeps
    /// running. Works from any shard or thread.
    ///
    /// # Errors
    ///
    /// [`AskError::Closed`](crate::AskError::Closed) if the actor has
    /// stopped for good (or is not built yet), or its runtime is gone.
    pub fn stats(
        &self,
    ) -> impl std::future::Future<Output = Result<crate::ActorStats, crate::AskError>> + Send + 'static
    {
        let mesh = Mesh::find(self.mesh);
        let (shard, slot, generation) = (self.shard as usize, self.slot, self.generation);
        async move {
            let Some(mesh) = mesh else { return Err(crate::AskError::Closed) };
            mesh.actor_stats(shard, slot, generation).await.ok_or(crate::AskError::Closed)
        }
    }

    pub(crate) fn mesh_id(&self) -> u32 {
        self.mesh
    }

    pub(crate) fn slot(&self) -> (u32, u32) {
        (self.slot, self.generation)
    }
}

impl<M: Send + 'static> ActorRef<M> {
    /// Sends `msg` without waiting.
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] when the actor's mailbox (same shard), the ring to
    /// its shard (another shard) or its shard's injection queue (from outside
    /// the runtime) is full; [`SendError::Closed`] when the actor has stopped
    /// for good or the runtime is shutting down, from any shard or thread.
    /// Both hand `msg` back. A message that crosses paths with the stop (sent
    /// to another shard as the actor stops there) is counted as a dead
    /// letter there; a restarting actor is not stopped.
    #[inline(always)]
    pub fn send(&self, msg: M) -> Result<(), SendError<M>> {
        // SAFETY: the fast paths call no user code and wake no task here.
        match unsafe { current_of(self.mesh) } {
            Some(shard) => self.send_from(shard, msg),
            None => self.send_slow(msg),
        }
    }

    /// [`send`](Self::send) from `shard`, a shard of the actor's runtime
    /// running on this thread. The common cases are inlined into the
    /// sender: a send from a pass to a live actor with room in its mailbox
    /// (same shard) or in the ring (another shard).
    #[inline(always)]
    pub(crate) fn send_from(
        &self,
        shard: &crate::shard::Shard,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !shard.may_send_fast() {
            return self.send_slow(msg);
        }
        let back = if shard.id == self.shard {
            match shard.try_push_local(self.fns, self.slot, self.generation, msg) {
                Ok(()) => {
                    if shard.parking.is_idle() && !shard.parking.in_pass() {
                        wake_dispatcher();
                    }
                    return Ok(());
                }
                Err(back) => back,
            }
        } else {
            if self.stopped_in(&shard.mesh) {
                return Err(SendError::Closed(msg));
            }
            let target = entry::target_word(self.slot, self.generation);
            match shard.try_write_remote(self.shard, self.fns.run, target, msg) {
                Ok(()) => return Ok(()),
                Err(back) => back,
            }
        };
        self.send_slow(back)
    }

    /// Whether the actor is known to have stopped for good: its shard's
    /// table of slot generations has moved on (one Acquire load, of a line
    /// its shard writes only when it frees a slot). An actor that stops
    /// after this look gets the message as a dead letter.
    #[inline(always)]
    pub(crate) fn stopped_in(&self, mesh: &Mesh) -> bool {
        mesh.shards
            .get(self.shard as usize)
            .is_none_or(|shared| shared.generations.get(self.slot) != self.generation)
    }

    /// Every other send: outside a pass, to another shard, from outside the
    /// runtime, or refused.
    #[inline(never)]
    pub(crate) fn send_slow(&self, msg: M) -> Result<(), SendError<M>> {
        with_current(|shard| match shard {
            Some(shard) if shard.mesh_id == self.mesh => {
                if shard.id == self.shard {
                    shard.send_local(self.fns, self.slot, self.generation, msg)
                } else if self.stopped_in(&shard.mesh) {
                    Err(SendError::Closed(msg))
                } else {
                    let target = entry::target_word(self.slot, self.generation);
                    shard.send_remote(self.shard, self.fns.run, target, msg)
                }
            }
            _ => self.send_from_outside(msg),
        })
    }

    pub(crate) fn send_from_outside(&self, msg: M) -> Result<(), SendError<M>> {
        let Some(mesh) = Mesh::find(self.mesh) else { return Err(SendError::Closed(msg)) };
        let Some(shared) = mesh.shards.get(self.shard as usize) else {
            return Err(SendError::Closed(msg));
        };
        if mesh.phase() != phase::RUNNING || self.stopped_in(&mesh) {
            return Err(SendError::Closed(msg));
        }
        let envelope = Injected {
            deliver: self.fns.inject,
            target: entry::target_word(self.slot, self.generation),
            payload: Payload::new(msg),
            kind: entry::Kind::Message,
        };
        let back = |envelope: Injected| -> M {
            let payload = envelope.payload.downcast::<M>();
            payload.unwrap_or_else(|_| unreachable!("the envelope holds our own message"))
        };
        match shared.inject(envelope) {
            Ok(()) => Ok(()),
            Err(InjectError::Full(envelope)) => Err(SendError::Full(back(envelope))),
            Err(InjectError::Exited(envelope)) => Err(SendError::Closed(back(envelope))),
        }
    }

    /// Sends `msg`, waiting for room if the mailbox or ring is full.
    ///
    /// On a shard, the wait costs nothing while it lasts: a full mailbox on
    /// this shard is made room in by running the shard's queue here and
    /// now; a full ring to another shard wakes this task once the receiver
    /// has taken entries from it. Off the runtime, the thread yields
    /// between attempts.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] (with the message) when the actor is stopped.
    pub async fn send_async(&self, mut msg: M) -> Result<(), SendError<M>> {
        let mut attempt = 0u32;
        loop {
            match self.send(msg) {
                Ok(()) => return Ok(()),
                Err(SendError::Closed(back)) => return Err(SendError::Closed(back)),
                Err(SendError::Full(back)) => msg = back,
            }
            self.wait_for_room(&mut attempt).await;
        }
    }

    /// Waits until a message refused with `Full` may find room: see
    /// [`send_async`](Self::send_async). `attempt` counts the waits that
    /// had nothing to wake them.
    pub(crate) async fn wait_for_room(&self, attempt: &mut u32) {
        if self.make_room_here() {
            // Room was made without waking the dispatch loop; one yield
            // per pass (thousands of messages) keeps the executor's
            // other tasks waiting no longer than a pass.
            yield_now().await;
        } else if self.on_other_shard_of_mesh() {
            RoomFor::new(self.mesh, self.shard, entry::entry_words::<M>()).await;
        } else {
            // The injection queue of the actor's shard is full, seen
            // from a thread off the runtime or from a shard of another
            // runtime: nothing will wake us when it drains.
            *attempt = attempt.saturating_add(1);
            back_off(*attempt).await;
        }
    }

    /// Sends `msg` from a thread outside the runtime, blocking the thread
    /// while the actor's shard has no room for it (like tokio's
    /// `blocking_send`). The thread yields, then sleeps from 20 µs up to
    /// 1 ms between attempts; no thread is started.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] (with the message) when the actor is stopped
    /// or the runtime shut down; never `Full`.
    ///
    /// # Panics
    ///
    /// On a shard of the actor's own runtime, which it would stall: use
    /// [`send`](Self::send) or [`send_async`](Self::send_async) there.
    pub fn send_blocking(&self, mut msg: M) -> Result<(), SendError<M>> {
        self.refuse_to_block_own_shard("send_blocking");
        let mut attempt = 0u32;
        loop {
            match self.send(msg) {
                Err(SendError::Full(back)) => msg = back,
                done => return done,
            }
            attempt = attempt.saturating_add(1);
            if attempt < 64 {
                std::thread::yield_now();
            } else {
                let micros = 20u64 << ((attempt - 64) / 8).min(6);
                std::thread::sleep(std::time::Duration::from_micros(micros.min(1_000)));
            }
        }
    }

    /// Asks from a thread outside the runtime and blocks the thread until
    /// the answer comes or `timeout` passes (kameo's `blocking_ask`). The
    /// timeout runs on whirl's one shared timer thread; no thread is
    /// started per call. From another executor, await
    /// [`ask`](Self::ask)`(make).timeout(d)` instead: an [`Ask`] is a plain
    /// future that any executor can poll.
    ///
    /// # Errors
    ///
    /// [`AskError::Closed`](crate::AskError::Closed) when the actor is stopped, the runtime shut
    /// down, or the actor dropped the reply; [`AskError::Timeout`](crate::AskError::Timeout).
    ///
    /// # Panics
    ///
    /// On a shard of the actor's own runtime, as
    /// [`send_blocking`](Self::send_blocking).
    pub fn ask_blocking<R: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<R>) -> M,
        timeout: std::time::Duration,
    ) -> Result<R, crate::AskError> {
        self.refuse_to_block_own_shard("ask_blocking");
        futures_lite::future::block_on(self.ask(make).timeout(timeout))
    }

    fn refuse_to_block_own_shard(&self, call: &str) {
        let on_own_runtime = with_current(|shard| shard.is_some_and(|s| s.mesh_id == self.mesh));
        assert!(
            !on_own_runtime,
            "ActorRef::{call} called on a shard of the actor's runtime, which it would stall; \
             use send / send_async / ask(..).await there"
        );
    }

    /// Whether this thread runs another shard of the actor's runtime.
    pub(crate) fn on_other_shard_of_mesh(&self) -> bool {
        with_current(|shard| shard.is_some_and(|s| s.mesh_id == self.mesh && s.id != self.shard))
    }

    /// On the actor's own shard, from a task (not a handler): runs a pass of
    /// the shard's run queue here and now, which hands the full mailbox's
    /// messages to the actor, instead of switching to the dispatch loop's
    /// task and back. Returns whether the pass ran anything.
    pub(crate) fn make_room_here(&self) -> bool {
        with_current(|shard| {
            shard
                .filter(|s| s.mesh_id == self.mesh && s.id == self.shard && !s.parking.in_pass())
                .is_some_and(|s| s.pass_from_task() > 0)
        })
    }

    /// Asks the actor a question: `make` builds the message around a
    /// [`Reply`] the actor answers through. Await the returned [`Ask`];
    /// [`Ask::timeout`] bounds the wait. The `whirl` crate's documentation
    /// has a complete example.
    pub fn ask<R: Send + 'static>(&self, make: impl FnOnce(Reply<R>) -> M) -> Ask<M, R> {
        Ask::new(*self, make)
    }

    /// Stops the actor after the messages already queued for it. Later
    /// messages are refused (`Closed`) or counted as dead letters.
    pub fn stop(&self) {
        with_current(|shard| match shard {
            Some(shard) if shard.mesh.id == self.mesh => {
                if shard.id == self.shard {
                    shard.request_stop(self.slot, self.generation);
                } else {
                    let target = entry::target_word(self.slot, self.generation);
                    shard.send_command(self.shard, STOP, target, ());
                }
            }
            _ => {
                let Some(mesh) = Mesh::find(self.mesh) else { return };
                // Once shutdown stops actors, there is nothing left to stop.
                if mesh.phase() >= phase::STOPPING {
                    return;
                }
                let Some(shared) = mesh.shards.get(self.shard as usize) else { return };
                shared.inject_waiting(injected_stop(self.slot, self.generation));
            }
        });
    }
}

/// Backs off while a shard's injection queue is full: by yielding the
/// thread off the runtime; on a shard of another runtime, by letting its
/// other tasks run, then with short sleeps so the shard can still park.
pub(crate) async fn back_off(attempt: u32) {
    if with_current(|shard| shard.is_none()) {
        std::thread::yield_now();
        yield_now().await;
    } else if attempt < 64 {
        yield_now().await;
    } else {
        glommio::timer::sleep(std::time::Duration::from_micros(20)).await;
    }
}

/// Wakes this thread's parked dispatch loop (through [`with_current`], which
/// keeps the shard alive across the wake-up).
#[cold]
#[inline(never)]
fn wake_dispatcher() {
    with_current(|shard| {
        if let Some(shard) = shard {
            shard.wake_dispatcher();
        }
    });
}

impl<M> Clone for ActorRef<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for ActorRef<M> {}

impl<M> PartialEq for ActorRef<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.mesh, self.shard, self.slot, self.generation)
            == (other.mesh, other.shard, other.slot, other.generation)
    }
}

impl<M> Eq for ActorRef<M> {}

impl<M> Hash for ActorRef<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.mesh, self.shard, self.slot, self.generation).hash(state);
    }
}

impl<M> fmt::Debug for ActorRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorRef({}:{}:{}#{})", self.mesh, self.shard, self.slot, self.generation)
    }
}
