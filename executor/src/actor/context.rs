//! What a handler can do besides changing its own state.

use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Duration;

use futures_lite::{Stream, StreamExt};

use crate::base::entry;
use crate::shard::ops::backpressure::full_at;
use crate::shard::{with_current, Shard};
use crate::{Actor, ActorRef, SendError, SpawnError, StopReason};

/// The handle a running actor gets with each message and lifecycle hook: its
/// own ref, spawning, stopping itself, timers, and async jobs.
///
/// A `Context` exists only for the duration of one call on the actor's shard.
pub struct Context<A: Actor> {
    /// Valid for the whole call: the shard outlives every call it makes.
    shard: NonNull<Shard>,
    slot: u32,
    generation: u32,
    /// How this call asked the incarnation to end, if it did.
    end: Option<(StopReason, bool)>,
    _actor: PhantomData<fn(A)>,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(shard: &Shard, slot: u32, generation: u32) -> Self {
        Self { shard: NonNull::from(shard), slot, generation, end: None, _actor: PhantomData }
    }

    pub(crate) fn shard(&self) -> &Shard {
        // SAFETY: a Context is created by the shard for one call into the
        // actor and handed out only as `&mut` for that call, so the shard
        // (which made the call) is alive and on this thread.
        unsafe { self.shard.as_ref() }
    }

    /// This actor's own ref.
    pub fn myself(&self) -> ActorRef<A::Msg> {
        let shard = self.shard();
        ActorRef::new(
            shard.mesh.id,
            shard.id,
            self.slot,
            self.generation,
            crate::actor::cell::fns_of::<A>(),
        )
    }

    /// The index of the shard this actor runs on.
    pub fn shard_id(&self) -> usize {
        self.shard().id as usize
    }

    /// How many shards the runtime has.
    pub fn shard_count(&self) -> usize {
        self.shard().mesh.shard_count()
    }

    /// Sends `msg` to `to` and never drops it for want of room: if `to`'s
    /// mailbox (same shard) or the ring to its shard is full, the message
    /// waits in this actor's *outbox*, in order, and this actor is handed no
    /// new message until the outbox has drained. Its own mailbox then fills,
    /// so its senders wait in turn: backpressure flows upstream through the
    /// actor graph without blocking the shard (a handler cannot await). In
    /// steady state nothing allocates.
    ///
    /// Once one message waits, the later ones wait behind it, whatever their
    /// receiver, so each receiver gets this actor's messages in order
    /// (mixing in [`ActorRef::send`] to the same receiver can reorder them).
    /// Actors that send to each other in a cycle, all full, wait forever, as
    /// bounded channels in a cycle do. If this actor stops for good, its
    /// outbox is still delivered.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when `to` has stopped for good or the runtime
    /// is shutting down; [`SendError::Full`] only when this actor's outbox
    /// already holds a mailbox's worth (`mailbox_capacity`) of messages, in
    /// one handler call. Both hand `msg` back.
    ///
    /// [`SendError::Closed`]: crate::SendError::Closed
    /// [`SendError::Full`]: crate::SendError::Full
    #[inline(always)]
    pub fn send<M: Send + 'static>(
        &mut self,
        to: &ActorRef<M>,
        msg: M,
    ) -> Result<(), SendError<M>> {
        send_from_handler(self.shard(), (self.slot, self.generation), to, msg)
    }

    /// Stops this actor once the current call returns; `stopped` runs next
    /// (reason [`StopReason::Normal`]) and queued messages become dead
    /// letters, unless its policy is [`Restart::Permanent`], which restarts
    /// it.
    ///
    /// [`Restart::Permanent`]: crate::Restart::Permanent
    pub fn stop(&mut self) {
        self.end.get_or_insert((StopReason::Normal, false));
        self.shard().turn.end_requested();
    }

    /// Fails this actor on purpose, without panicking, once the current call
    /// returns: `stopped` runs with [`StopReason::Failed`], then its restart
    /// policy decides (a bare spawn stops for good). The message being
    /// handled counts as a dead letter.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.fail_with(StopReason::Failed(reason.into()));
    }

    /// Ends this incarnation with `reason` once the current call returns.
    pub(crate) fn fail_with(&mut self, reason: StopReason) {
        self.end = Some((reason, false));
        // A reply dropped unanswered in the rest of this call says `Failed`,
        // and a batch being handled ends here (see `Batch`).
        self.shard().turn.fail((self.slot, self.generation));
    }

    pub(crate) fn mesh(&self) -> std::sync::Arc<crate::Mesh> {
        self.shard().mesh.clone()
    }

    /// Records `child` as this supervisor's, to be stopped with it.
    pub(crate) fn adopt(&self, index: usize, child: crate::shard::parts::link::Address) {
        self.shard().adopt(self.slot, index, child);
    }

    /// Tells a child of this supervisor to go down.
    pub(crate) fn suspend_child(&self, child: crate::shard::parts::link::Address) {
        self.shard().suspend_child(child);
    }

    /// Tells a child of this supervisor to come back up after `wait`.
    pub(crate) fn resume_child(&self, child: crate::shard::parts::link::Address, wait: Duration) {
        self.shard().resume_child(child, wait);
    }

    /// How this call asked the incarnation to end, if it did.
    pub(crate) fn take_end(&mut self) -> Option<(StopReason, bool)> {
        self.end.take()
    }

    /// Keeps `value` across a restart, for the next incarnation to take
    /// with [`take_kept`](Self::take_kept) (typically in `started`): the
    /// counters and statistics a restart should not lose. Replaces what was
    /// kept before; dropped when the actor stops for good.
    pub fn keep<T: 'static>(&mut self, value: T) {
        let old = self.shard().slots.with(|slots| slots.kept.insert(self.slot, Box::new(value)));
        // Its `Drop` may be user code: run it outside the borrow.
        drop(old);
    }

    /// Takes the value an earlier incarnation kept with
    /// [`keep`](Self::keep), if there is one of type `T`.
    pub fn take_kept<T: 'static>(&mut self) -> Option<T> {
        let kept = self.shard().slots.with(|slots| {
            if !slots.kept.get(&self.slot).is_some_and(|v| v.is::<T>()) {
                return None;
            }
            slots.kept.remove(&self.slot)
        })?;
        kept.downcast::<T>().ok().map(|value| *value)
    }

    /// Watches `target`: when it stops for good (not when it restarts),
    /// this actor gets `on_stop(reason)` as a message, past its mailbox
    /// bound, wherever `target` runs. If `target` has already stopped, the
    /// message comes at once with [`StopReason::AlreadyStopped`]. The watch
    /// ends with it, or when this actor stops for good.
    pub fn watch<M: Send + 'static>(
        &self,
        target: &ActorRef<M>,
        on_stop: impl FnOnce(StopReason) -> A::Msg + 'static,
    ) {
        let shard = self.shard();
        let (to, target_word) = if target.mesh_id() == shard.mesh.id {
            let (slot, generation) = target.slot();
            (target.shard() as u16, crate::base::entry::target_word(slot, generation))
        } else {
            // Another runtime's actor: never seen here, so gone already
            // (slot 0 of generation `u32::MAX` is never handed out).
            (shard.id, crate::base::entry::target_word(0, u32::MAX))
        };
        let (slot, generation) = (self.slot, self.generation);
        let run = crate::actor::cell::fns_of::<A>().run;
        let fire: crate::shard::ops::watch::Fire = Box::new(move |shard: &Shard, reason| {
            shard.queue_unbounded(slot, generation, run, on_stop(reason));
        });
        shard.watch(slot, to, target_word, fire);
    }

    /// This actor's bump arena, for scratch and per-incarnation data: made
    /// on first use, kept by the shard across calls, **reset** (not freed)
    /// when the actor restarts, and returned to the shard's pool when it
    /// stops for good. Allocating is a pointer bump; values put here are
    /// not dropped (bumpalo runs no destructors). With a budget
    /// (`Builder::arena_budget`, `ChildSpec::arena_budget`) an allocation
    /// past it fails this actor alone, with [`StopReason::ArenaBudget`].
    ///
    /// ```
    /// # use whirl_executor::{Actor, Context};
    /// struct Joiner;
    /// impl Actor for Joiner {
    ///     type Msg = Vec<u32>;
    ///     fn handle(&mut self, parts: Vec<u32>, ctx: &mut Context<Self>) {
    ///         let arena = ctx.arena();
    ///         let mut line = bumpalo::collections::String::new_in(arena);
    ///         for part in parts {
    ///             line.push_str(&part.to_string());
    ///         }
    ///     }
    /// }
    /// ```
    pub fn arena(&self) -> &bumpalo::Bump {
        // SAFETY: the shard keeps the arena boxed in its table until the
        // actor restarts or stops for good, neither of which happens during
        // one of its calls, which this `Context` (and the borrow of it)
        // does not outlive; `reset_arena` takes `&mut self`, so it cannot
        // run while this borrow lives.
        unsafe { &*self.shard().arena(self.slot) }
    }

    /// Frees everything this actor allocated in its [`arena`](Self::arena)
    /// (a pointer reset that keeps the last chunk): for scratch space that
    /// lives for one message, call it when the message is done, and the
    /// arena's budget then bounds one message's scratch, not the sum over
    /// the actor's life. Nothing allocated in the arena can be alive across
    /// the call: everything borrowed from it borrows this `Context`.
    pub fn reset_arena(&mut self) {
        self.shard().reset_arena(self.slot);
    }

    /// How many times this actor has been restarted: 0 for its first
    /// incarnation.
    pub fn incarnation(&self) -> u32 {
        self.shard().incarnation(self.slot)
    }

    /// Spawns an actor on this shard.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ShuttingDown`] during shutdown.
    pub fn spawn<B: Actor>(
        &self,
        factory: impl Fn() -> B + Send + 'static,
    ) -> Result<ActorRef<B::Msg>, SpawnError> {
        self.spawn_on(self.shard_id(), factory)
    }

    /// Spawns `actor`, a value already built, on this shard: it need not be
    /// `Send` (see [`System::spawn_local`](crate::System::spawn_local)). It
    /// is never restarted.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ShuttingDown`] during shutdown.
    pub fn spawn_local<B: Actor>(&self, actor: B) -> Result<ActorRef<B::Msg>, SpawnError> {
        crate::actor::spawn::spawn_local(&self.shard().mesh, actor)
    }

    /// Spawns an actor on shard `shard`.
    ///
    /// # Errors
    ///
    /// As [`spawn_on`](crate::spawn_on).
    pub fn spawn_on<B: Actor>(
        &self,
        shard: usize,
        factory: impl Fn() -> B + Send + 'static,
    ) -> Result<ActorRef<B::Msg>, SpawnError> {
        crate::spawn_on(&self.shard().mesh, shard, factory)
    }

    /// Sends `msg` to this actor after `delay`. Cancel with the handle;
    /// cancelled automatically when the actor stops.
    pub fn send_after(&self, delay: Duration, msg: A::Msg) -> TimerHandle {
        let me = self.myself();
        self.job(async move {
            glommio::timer::sleep(delay).await;
            let _ = me.send_async(msg).await;
        })
    }

    /// Sends `make()` to this actor every `period`, until cancelled or the
    /// actor stops. A tick waits for room if the mailbox is full.
    pub fn send_interval(
        &self,
        period: Duration,
        mut make: impl FnMut() -> A::Msg + 'static,
    ) -> TimerHandle {
        let me = self.myself();
        self.job(async move {
            loop {
                glommio::timer::sleep(period).await;
                if me.send_async(make()).await.is_err() {
                    return;
                }
            }
        })
    }

    /// Runs `future` as a task on this shard (it may do glommio I/O, sleep,
    /// ...) and delivers `map(output)` to this actor as a message. The task is
    /// cancelled if the actor stops first.
    pub fn pipe<F: Future + 'static>(
        &self,
        future: F,
        map: impl FnOnce(F::Output) -> A::Msg + 'static,
    ) -> TimerHandle {
        let me = self.myself();
        self.job(async move {
            let output = future.await;
            let _ = me.send_async(map(output)).await;
        })
    }

    /// Runs `future` as a task of this actor on its shard (glommio I/O,
    /// timers, sends to actors), with no message at its end: actix's
    /// `ctx.spawn`. Cancelled with the handle, and when the actor restarts
    /// or stops. A panic in it is a failure of the actor.
    pub fn run_task(&self, future: impl Future<Output = ()> + 'static) -> TimerHandle {
        self.job(future)
    }

    /// Awaits `future` with this actor's mailbox held: the actor is handed
    /// nothing until `future` completes; then `then(output)` is its next
    /// message, before everything that came meanwhile, in order. Messages
    /// keep arriving within the mailbox bound, so once it is full its
    /// senders on its shard feel the backpressure (`Full`, `send_async`
    /// waits), and so do [`Context::send`]s from any shard (they keep their
    /// messages in the sender's outbox). Plain `ActorRef::send`s from
    /// other shards are kept past the bound, as for any held-back actor
    /// (see `docs/backpressure.md`). This is actix's `ctx.wait`: an actor
    /// that writes to a socket, for example, takes its next request only
    /// once the last answer is written.
    ///
    /// Waits started one after the other (in one handler, or in the
    /// handlers of their results) run one at a time, in order; the actor is
    /// held until none is left. Once an actor has run a few, a wait
    /// allocates nothing: its future is kept in a buffer reused for the
    /// next. The future runs on this shard (it may do glommio I/O, sleep,
    /// ...).
    ///
    /// A stop waits its turn behind the messages held meanwhile, so bound a
    /// future that may never complete (`glommio::timer::timeout`). A
    /// restart or a stop for good cancels the waits: their futures are
    /// dropped unfinished, and no result comes. A panic in `future` or
    /// `then` is a failure of the actor.
    ///
    /// Returns false, and drops `future` unpolled, while the runtime shuts
    /// down or from `stopped`.
    ///
    /// ```
    /// # use whirl_executor::{Actor, Context};
    /// # use std::time::Duration;
    /// enum Msg {
    ///     Request(u64),
    ///     Written(u64),
    /// }
    ///
    /// struct Writer {
    ///     written: u64,
    /// }
    ///
    /// impl Actor for Writer {
    ///     type Msg = Msg;
    ///     fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
    ///         match msg {
    ///             // Stands for an I/O future: the next request waits for it.
    ///             Msg::Request(n) => {
    ///                 ctx.wait(glommio::timer::sleep(Duration::from_micros(10)), move |_| {
    ///                     Msg::Written(n)
    ///                 });
    ///             }
    ///             Msg::Written(n) => self.written += n,
    ///         }
    ///     }
    /// }
    /// ```
    pub fn wait<F: Future + 'static>(
        &mut self,
        future: F,
        then: impl FnOnce(F::Output) -> A::Msg + 'static,
    ) -> bool {
        let shard = self.shard();
        let (slot, generation, mesh) = (self.slot, self.generation, shard.mesh.id);
        let incarnation = shard.incarnation(slot);
        let run = crate::actor::cell::fns_of::<A>().run;
        shard.start_wait(slot, generation, async move {
            let msg = then(future.await);
            with_current(|shard| match shard.filter(|s| s.mesh.id == mesh) {
                Some(shard) => shard.wait_finished(slot, generation, incarnation, run, msg),
                // Not reached: the task runs on the actor's shard.
                None => crate::base::drop_caught(msg),
            });
        })
    }

    /// Attaches `stream` to this actor: each item arrives as the message
    /// `on_item(item)`, and the end of the stream as `on_end()`. The stream
    /// is polled only while this actor's mailbox has room: a slow actor
    /// slows its stream (actix's `add_stream`), and nothing piles up. It
    /// runs as a task on this shard (glommio I/O is fine), allocating
    /// nothing per item; cancelled with the handle, and when the actor
    /// restarts or stops. A panic in the stream or the mappings is a
    /// failure of the actor.
    ///
    /// ```
    /// # use whirl_executor::{Actor, Context};
    /// enum Msg {
    ///     Item(u32),
    ///     End,
    /// }
    ///
    /// struct Summer {
    ///     sum: u32,
    /// }
    ///
    /// impl Actor for Summer {
    ///     type Msg = Msg;
    ///     fn started(&mut self, ctx: &mut Context<Self>) {
    ///         ctx.add_stream(futures_lite::stream::iter(1..=10), Msg::Item, || Msg::End);
    ///     }
    ///     fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
    ///         match msg {
    ///             Msg::Item(n) => self.sum += n,
    ///             Msg::End => ctx.stop(),
    ///         }
    ///     }
    /// }
    /// ```
    pub fn add_stream<S: Stream + 'static>(
        &self,
        stream: S,
        mut on_item: impl FnMut(S::Item) -> A::Msg + 'static,
        on_end: impl FnOnce() -> A::Msg + 'static,
    ) -> TimerHandle {
        let me = self.myself();
        let (slot, generation, mesh) = (self.slot, self.generation, self.shard().mesh.id);
        let incarnation = self.shard().incarnation(slot);
        self.job(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                let room = std::future::poll_fn(|cx| {
                    with_current(|shard| match shard.filter(|s| s.mesh.id == mesh) {
                        Some(shard) => shard.poll_room(slot, generation, incarnation, cx),
                        None => std::task::Poll::Ready(false),
                    })
                });
                if !room.await {
                    return;
                }
                let msg = match stream.next().await {
                    Some(item) => on_item(item),
                    None => {
                        let _ = me.send_async(on_end()).await;
                        return;
                    }
                };
                if me.send_async(msg).await.is_err() {
                    return;
                }
            }
        })
    }

    fn job(&self, job: impl Future<Output = ()> + 'static) -> TimerHandle {
        let shard = self.shard();
        let id = shard.start_job(self.slot, self.generation, job);
        TimerHandle {
            mesh: shard.mesh.id,
            shard: shard.id,
            slot: self.slot,
            generation: self.generation,
            id,
            _local: PhantomData,
        }
    }
}

/// [`Context::send`] from the actor at `from`: the plain send unless the
/// actor is held back or the receiver is full, when the message waits in
/// the sender's outbox (`Shard::keep_in_outbox`, `shard::ops::backpressure`).
#[inline(always)]
fn send_from_handler<M: Send + 'static>(
    shard: &Shard,
    from: (u32, u32),
    to: &ActorRef<M>,
    msg: M,
) -> Result<(), SendError<M>> {
    let (slot, generation) = from;
    let keep = |msg| {
        let target = entry::target_word(to.slot, to.generation);
        shard.keep_in_outbox(from, to.shard, to.fns().run, target, msg)
    };
    // Held back: messages wait in its outbox (or will, once its inbox runs).
    // One load while no actor of the shard is; else a look at its own slot.
    let held_back = shard.backpressure.any_held_back()
        && shard.slots.with(|slots| {
            let s = slots.slots.get(slot as usize);
            s.is_some_and(|s| s.generation == generation && s.held_back)
        });
    if to.mesh != shard.mesh_id {
        // Another runtime's actor: no outbox can wait for it.
        to.send(msg)
    } else if !held_back {
        if to.shard != shard.id
            && full_at(&shard.mesh.shards[to.shard as usize], to.slot, to.generation)
        {
            return keep(msg);
        }
        match to.send_from(shard, msg) {
            Err(SendError::Full(msg)) => keep(msg),
            done => done,
        }
    } else if to.stopped_in(&shard.mesh) {
        Err(SendError::Closed(msg))
    } else {
        // Behind what waits already, so each receiver gets them in order.
        keep(msg)
    }
}

impl<A: Actor> std::fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("actor", &self.myself()).finish_non_exhaustive()
    }
}

/// A timer or piped job of an actor; [`cancel`](Self::cancel) stops it.
/// Dropping the handle lets it run. It belongs to the actor's shard.
#[derive(Debug)]
pub struct TimerHandle {
    mesh: u32,
    shard: u16,
    slot: u32,
    generation: u32,
    /// `None` if the job was refused (shutdown in progress).
    id: Option<u64>,
    _local: PhantomData<*const ()>,
}

impl TimerHandle {
    /// Cancels the job if it has not finished.
    pub fn cancel(&self) {
        let Some(id) = self.id else { return };
        with_current(|shard| {
            if let Some(shard) = shard.filter(|s| s.mesh.id == self.mesh && s.id == self.shard) {
                shard.cancel_job(self.slot, self.generation, id);
            }
        });
    }

    /// Whether the job was started (false during shutdown).
    pub fn is_active(&self) -> bool {
        self.id.is_some()
    }
}
