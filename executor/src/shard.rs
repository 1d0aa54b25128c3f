//! One shard: the actors of one core, their mailboxes, the ready queue, and
//! this shard's ends of the ring mesh.
//!
//! Everything here runs on the shard's own thread and uses `Cell`/`RefCell`,
//! never an atomic, except the rings to other shards and a few statistics.
//! No borrow is ever held while user code (a handler, a hook, a factory)
//! runs, so user code may send, spawn and stop freely.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

use futures_lite::FutureExt;
use glommio::task::JoinHandle;
use whirl_mailbox::spsc::{Consumer, Producer};
use whirl_mailbox::{Payload, PushError};

use crate::ask::ReplySlab;
use crate::cell::{ActorCell, RunActor};
use crate::envelope::{Envelope, Kind, RunFn, SpawnFn};
use crate::inbox::{Inbox, Refused};
use crate::mesh::{drop_caught, phase, Mesh, ShardEnds};
use crate::slab::{Live, Slab, SlotState};
use crate::stats::DeadLetterCause;
use crate::{Actor, ActorRef, AskError, SendError, SpawnError};

/// One shard's state, owned by its dispatch loop.
pub(crate) struct Shard {
    pub(crate) id: u16,
    pub(crate) mesh: Arc<Mesh>,
    pub(crate) slab: RefCell<Slab>,
    /// Slots of actors with mail (or a pending stop), each once.
    pub(crate) ready: RefCell<VecDeque<u32>>,
    /// `outbound[i]`: the ring to shard `i`.
    pub(crate) outbound: RefCell<Vec<Option<Producer<Envelope>>>>,
    /// Control envelopes and replies that found their ring full; they go
    /// first at the next flush, and user messages wait behind them.
    pub(crate) overflow: RefCell<Vec<VecDeque<Envelope>>>,
    /// `inbound[i]`: the ring from shard `i`.
    pub(crate) inbound: RefCell<Vec<Option<Consumer<Envelope>>>>,
    pub(crate) replies: RefCell<ReplySlab>,
    /// An envelope from the injector for a full mailbox: it waits here, and
    /// the injector is not drained until it is delivered, so senders outside
    /// the runtime see `Full` instead of growing the mailbox.
    pub(crate) held: RefCell<Option<Envelope>>,
    /// True while the dispatch loop runs a pass: sends stage their envelopes
    /// and the pass publishes them at its end, once per ring.
    pub(crate) in_dispatch: Cell<bool>,
    /// True while the dispatch loop is parked; local senders then wake it.
    pub(crate) idle: Cell<bool>,
    pub(crate) dispatcher: RefCell<Option<Waker>>,
    /// Messages waiting in this shard's inboxes.
    pub(crate) queued: Cell<usize>,
    pub(crate) next_job: Cell<u64>,
    /// Program tasks (`block_on`) on this shard, cancelled when it exits.
    pub(crate) programs: RefCell<Vec<(u64, JoinHandle<()>)>>,
}

/// Envelopes staged on one ring during a pass before they are published
/// anyway. Measured with the latency suite: publishing only at the end of
/// the pass made the receiver wait for whole ring-fulls (batched throughput
/// 0.67x of per-message publication in the same run); with batches of 32 it
/// is 0.96-1.2x.
const PUBLISH_BATCH: usize = 32;

thread_local! {
    /// The shard running on this thread, if any: a pointer from
    /// `Rc::into_raw`, whose strong count [`CurrentShard`] holds while it is
    /// set.
    static CURRENT: Cell<*const Shard> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the shard of this thread, or `None` on a thread outside the
/// runtime.
///
/// The shard is kept alive for the whole call by a strong reference of our
/// own: an embedding program owns the shard's future and may drop it from
/// inside a wake-up that `f` makes (it polls that future with a waker of its
/// choosing), which must not free the shard under `f`.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Shard>) -> R) -> R {
    let shard = CURRENT.with(Cell::get);
    if shard.is_null() {
        return f(None);
    }
    // SAFETY: a non-null pointer came from `Rc::into_raw` in
    // `CurrentShard::enter`, whose guard holds that strong count until it
    // resets the pointer; the count is only touched on this thread. We take a
    // count of our own, released when `keep` drops after `f`.
    let keep = unsafe {
        Rc::increment_strong_count(shard);
        Rc::from_raw(shard)
    };
    f(Some(&keep))
}

/// Makes a shard this thread's current shard until dropped.
pub(crate) struct CurrentShard {
    /// From `Rc::into_raw`: the strong count `CURRENT` relies on.
    shard: *const Shard,
}

impl CurrentShard {
    pub(crate) fn enter(shard: Rc<Shard>) -> Self {
        let shard = Rc::into_raw(shard);
        CURRENT.with(|current| {
            assert!(current.get().is_null(), "a whirl shard already runs on this thread");
            current.set(shard);
        });
        Self { shard }
    }
}

impl Drop for CurrentShard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(ptr::null()));
        // SAFETY: the pointer came from `Rc::into_raw` in `enter`, and this
        // is the one place that gives its count back.
        drop(unsafe { Rc::from_raw(self.shard) });
    }
}

impl Shard {
    pub(crate) fn new(mesh: Arc<Mesh>, id: usize, ends: ShardEnds) -> Rc<Self> {
        let shards = mesh.shard_count();
        Rc::new(Self {
            id: id as u16,
            mesh,
            slab: RefCell::new(Slab::default()),
            ready: RefCell::new(VecDeque::new()),
            outbound: RefCell::new(ends.outbound),
            overflow: RefCell::new((0..shards).map(|_| VecDeque::new()).collect()),
            inbound: RefCell::new(ends.inbound),
            replies: RefCell::new(ReplySlab::default()),
            held: RefCell::new(None),
            in_dispatch: Cell::new(false),
            idle: Cell::new(false),
            dispatcher: RefCell::new(None),
            queued: Cell::new(0),
            next_job: Cell::new(0),
            programs: RefCell::new(Vec::new()),
        })
    }

    pub(crate) fn shared(&self) -> &crate::mesh::ShardShared {
        &self.mesh.shards[self.id as usize]
    }

    /// Wakes the dispatch loop if it is parked and the caller is not the
    /// dispatch loop itself (a task, a timer, a piped future).
    ///
    /// The waker is taken out before it is called: the wake-up may run
    /// arbitrary code of an embedding program (even drop this shard's
    /// future, see [`with_current`]), so no borrow may be held across it.
    #[inline]
    pub(crate) fn wake_dispatcher(&self) {
        if self.idle.get() && !self.in_dispatch.get() {
            let waker = self.dispatcher.borrow_mut().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    #[inline]
    fn schedule(&self, slot: u32) {
        self.ready.borrow_mut().push_back(slot);
        self.wake_dispatcher();
    }

    pub(crate) fn count_dead_letters(&self, cause: DeadLetterCause, n: usize) {
        self.shared().count_dead_letters(cause, n);
    }

    /// Drops a message nobody will handle: counted, and a panic in its
    /// `Drop` caught. Call with no borrow held.
    pub(crate) fn dead_letter<T>(&self, cause: DeadLetterCause, value: T) {
        self.count_dead_letters(cause, 1);
        drop_caught(value);
    }

    /// Called before a task (not a handler in a pass) sends anything: during
    /// the shutdown drain, a quiet shard becomes busy again (see
    /// [`Mesh::note_busy`]). Returns false once the drain is over: the send
    /// must be refused.
    #[inline]
    fn note_send_outside_pass(&self) -> bool {
        if self.in_dispatch.get() || !self.mesh.drain.is_quiet(self.id as usize) {
            return true;
        }
        self.mesh.note_busy(self.id as usize)
    }

    // ----- sending -------------------------------------------------------

    /// Queues `msg` for an actor of this shard.
    #[inline]
    pub(crate) fn send_local<M: Send + 'static>(
        &self,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        let mut slab = self.slab.borrow_mut();
        if slab.slots.len() <= slot as usize {
            return self.park_for_reserved(&mut slab, slot, generation, msg);
        }
        let entry = &mut slab.slots[slot as usize];
        if entry.generation != generation {
            return Err(SendError::Closed(msg));
        }
        match &mut entry.state {
            SlotState::Live(live) => {
                let Some(inbox) = live.inbox.as_any().downcast_mut::<Inbox<M>>() else {
                    // Generations never wrap, so a ref names one actor and its
                    // type; this is a bug, reported without a panic.
                    drop(slab);
                    self.count_dead_letters(DeadLetterCause::WrongType, 1);
                    return Err(SendError::Closed(msg));
                };
                inbox.push(msg).map_err(SendError::Full)?;
                self.queued.set(self.queued.get() + 1);
                if live.claim_turn() {
                    drop(slab);
                    self.schedule(slot);
                }
                Ok(())
            }
            SlotState::Reserved { pending } => {
                pending.push(Envelope::new(Kind::Message, slot, generation, Payload::new(msg)));
                Ok(())
            }
            SlotState::Vacant => Err(SendError::Closed(msg)),
        }
    }

    /// A message for a slot this shard has not seen yet: if another shard
    /// reserved it for a spawn still on its way, keep the message for the
    /// actor; otherwise the ref is bogus.
    fn park_for_reserved<M: Send + 'static>(
        &self,
        slab: &mut Slab,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if generation != 0 || slot >= self.shared().next_slot.load(Ordering::Relaxed) {
            return Err(SendError::Closed(msg));
        }
        match &mut slab.ensure(slot).state {
            SlotState::Reserved { pending } => {
                pending.push(Envelope::new(Kind::Message, slot, generation, Payload::new(msg)));
                Ok(())
            }
            _ => unreachable!("slots past the end are reserved"),
        }
    }

    /// Stages `msg` for an actor of shard `to`; published at the end of the
    /// current pass, or at once when called outside one.
    #[inline]
    pub(crate) fn send_remote<M: Send + 'static>(
        &self,
        to: u16,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        if !self.overflow.borrow()[to as usize].is_empty() {
            // Keep order behind control envelopes still waiting for room.
            return Err(SendError::Full(msg));
        }
        let mut outbound = self.outbound.borrow_mut();
        let Some(producer) = outbound.get_mut(to as usize).and_then(Option::as_mut) else {
            return Err(SendError::Closed(msg));
        };
        let envelope = Envelope::new(Kind::Message, slot, generation, Payload::new(msg));
        match producer.stage(envelope) {
            Ok(()) => {
                // In a pass, publish in batches: once per pass, or sooner
                // when a batch is big enough that the receiver had better
                // start on it while we write the rest.
                if !self.in_dispatch.get() || producer.staged() >= PUBLISH_BATCH {
                    producer.publish();
                }
                Ok(())
            }
            Err(error) => {
                let full = error.is_full();
                let msg = error.into_inner().into_payload().downcast::<M>().expect("own payload");
                Err(if full { SendError::Full(msg) } else { SendError::Closed(msg) })
            }
        }
    }

    /// Sends a control envelope or reply to shard `to` (or handles it here);
    /// never refuses: if the ring is full it waits in the overflow queue.
    pub(crate) fn send_control(&self, to: u16, envelope: Envelope) {
        // Control envelopes are never refused: during the drain they still
        // mark the shard busy, and after it they still go out (replies
        // complete asks until the shards exit).
        let _ = self.note_send_outside_pass();
        if to == self.id {
            self.deliver(envelope);
            return;
        }
        let refused = {
            let mut overflow = self.overflow.borrow_mut();
            let queue = &mut overflow[to as usize];
            let mut outbound = self.outbound.borrow_mut();
            let Some(producer) = outbound[to as usize].as_mut() else {
                drop((outbound, overflow));
                self.dead_letter(DeadLetterCause::ShardExited, envelope);
                return;
            };
            let refused = if queue.is_empty() {
                match producer.stage(envelope) {
                    Ok(()) => None,
                    Err(PushError::Full(envelope)) => {
                        queue.push_back(envelope);
                        None
                    }
                    Err(PushError::Closed(envelope)) => Some(envelope),
                }
            } else {
                queue.push_back(envelope);
                None
            };
            if !self.in_dispatch.get() {
                producer.publish();
            }
            refused
        };
        match refused {
            // The receiving shard has exited; drop after the borrows end.
            Some(envelope) => self.dead_letter(DeadLetterCause::ShardExited, envelope),
            None => self.wake_dispatcher(),
        }
    }

    // ----- receiving -----------------------------------------------------

    /// Acts on one envelope from a ring, unless it is a message for a full
    /// mailbox: that one is handed back to wait in its ring.
    pub(crate) fn offer(&self, envelope: Envelope) -> Result<(), Envelope> {
        if envelope.kind() != Kind::Message {
            self.deliver(envelope);
            return Ok(());
        }
        let (kind, slot, generation, payload) = envelope.into_parts();
        self.deliver_message(slot, generation, payload, true)
            .map_err(|payload| Envelope::new(kind, slot, generation, payload))
    }

    /// Acts on one envelope, queueing a message even past its mailbox's
    /// bound (injector, pending spawns, local control).
    pub(crate) fn deliver(&self, envelope: Envelope) {
        let (kind, slot, generation, payload) = envelope.into_parts();
        match kind {
            Kind::Message => {
                let _ = self.deliver_message(slot, generation, payload, false);
            }
            Kind::Stop => self.request_stop(slot, generation, true),
            Kind::Spawn => {
                let spawn: SpawnFn = payload.downcast().expect("spawn payload");
                if self.mesh.phase() >= phase::STOPPING {
                    // Too late to start anything; the factory is dropped.
                    self.dead_letter(DeadLetterCause::Stopped, spawn);
                    return;
                }
                spawn(self, slot, generation);
            }
            Kind::Reply => self.complete_reply(slot, generation, Ok(payload)),
            Kind::ReplyDropped => self.complete_reply(slot, generation, Err(AskError::Closed)),
            Kind::Run => {
                let run: RunFn = payload.downcast().expect("run payload");
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
                    tracing::error!(shard = self.id, "a closure run on the shard panicked");
                }
            }
        }
    }

    /// Queues a message for the actor at `slot`; `bounded`: hands it back
    /// if the mailbox is full. A message for a stopped actor is a dead
    /// letter.
    fn deliver_message(
        &self,
        slot: u32,
        generation: u32,
        payload: Payload,
        bounded: bool,
    ) -> Result<(), Payload> {
        let mut slab = self.slab.borrow_mut();
        if slab.slots.len() <= slot as usize {
            if generation == 0 && slot < self.shared().next_slot.load(Ordering::Relaxed) {
                if let SlotState::Reserved { pending } = &mut slab.ensure(slot).state {
                    pending.push(Envelope::new(Kind::Message, slot, generation, payload));
                    return Ok(());
                }
            }
            drop(slab);
            self.dead_letter(self.mesh.stop_cause(), payload);
            return Ok(());
        }
        let entry = &mut slab.slots[slot as usize];
        match &mut entry.state {
            SlotState::Live(live) if entry.generation == generation => {
                match live.inbox.offer(payload, bounded) {
                    Ok(()) => {}
                    Err(Refused::Full(payload)) => return Err(payload),
                    Err(Refused::WrongType(payload)) => {
                        drop(slab);
                        tracing::error!(shard = self.id, slot, "message of the wrong type dropped");
                        self.dead_letter(DeadLetterCause::WrongType, payload);
                        return Ok(());
                    }
                }
                self.queued.set(self.queued.get() + 1);
                if live.claim_turn() {
                    drop(slab);
                    self.schedule(slot);
                }
            }
            SlotState::Reserved { pending } if entry.generation == generation => {
                pending.push(Envelope::new(Kind::Message, slot, generation, payload));
            }
            _ => {
                drop(slab);
                self.dead_letter(self.mesh.stop_cause(), payload);
            }
        }
        Ok(())
    }

    /// Takes the next message for the actor at `slot`, honouring a pending
    /// stop: after a stop request only the messages queued before it are
    /// handed out.
    #[inline]
    pub(crate) fn pop_message<M: Send + 'static>(&self, slot: u32, generation: u32) -> Option<M> {
        let mut slab = self.slab.borrow_mut();
        let live = slab.live(slot, generation)?;
        if let Some(left) = live.stop_after {
            if left == 0 {
                return None;
            }
            live.stop_after = Some(left - 1);
        }
        let msg = live.inbox.as_any().downcast_mut::<Inbox<M>>()?.pop()?;
        self.queued.set(self.queued.get() - 1);
        Some(msg)
    }

    // ----- lifecycle -----------------------------------------------------

    /// Spawns an actor on this shard; the slot is reused from the free list
    /// (or from the slots offered to other spawners) or freshly reserved.
    pub(crate) fn spawn_here<A: Actor>(
        &self,
        factory: Box<dyn Fn() -> A + Send>,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        if self.mesh.phase() != phase::RUNNING {
            return Err(SpawnError::ShuttingDown);
        }
        let reused = self.slab.borrow_mut().free.pop();
        let slot = match reused {
            Some(slot) => slot,
            None => self.shared().take_slot(false)?.0,
        };
        let generation = self.install(slot, factory);
        Ok(ActorRef::new(self.mesh.id, self.id, slot, generation))
    }

    /// Builds the actor and makes it live at `slot` (vacant, or reserved
    /// for this spawn): runs `started`, then delivers messages that arrived
    /// while the slot was only reserved. Returns the slot's generation.
    pub(crate) fn install<A: Actor>(&self, slot: u32, factory: Box<dyn Fn() -> A + Send>) -> u32 {
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Box::new(ActorCell::new(factory)) as Box<dyn RunActor>
        }));
        let mut slab = self.slab.borrow_mut();
        let entry = slab.ensure(slot);
        let generation = entry.generation;
        let previous = std::mem::replace(
            &mut entry.state,
            SlotState::Live(Live {
                inbox: Box::new(Inbox::<A::Msg>::new(self.mesh.config.mailbox_capacity)),
                actor: None,
                scheduled: false,
                stop_after: None,
                jobs: Vec::new(),
            }),
        );
        drop(slab);
        let pending = match previous {
            SlotState::Reserved { pending } => pending,
            _ => Vec::new(),
        };
        self.shared().actors.fetch_add(1, Ordering::Relaxed);
        let Ok(mut actor) = built else {
            tracing::error!(shard = self.id, slot, "actor factory panicked");
            for envelope in pending {
                self.deliver(envelope);
            }
            self.finish_stop(slot, generation, None);
            return generation;
        };
        let started = actor.start(self, slot, generation);
        if let Some(live) = self.slab.borrow_mut().live(slot, generation) {
            live.actor = Some(actor);
            if !started {
                live.stop_after = Some(0);
            }
        }
        for envelope in pending {
            self.deliver(envelope);
        }
        if !started {
            self.request_stop(slot, generation, false);
        }
        generation
    }

    /// Asks the actor to stop: at once, or after the messages already queued.
    pub(crate) fn request_stop(&self, slot: u32, generation: u32, after_queued: bool) {
        let mut slab = self.slab.borrow_mut();
        // A stop for a slot reserved by a spawn still on its way waits for
        // the actor like a message would.
        let reserved = slot < self.shared().next_slot.load(Ordering::Relaxed);
        if slab.slots.len() <= slot as usize && generation == 0 && reserved {
            let _ = slab.ensure(slot);
        }
        let Some(entry) = slab.slots.get_mut(slot as usize) else { return };
        if entry.generation != generation {
            return;
        }
        match &mut entry.state {
            SlotState::Live(live) => {
                let after = if after_queued { live.inbox.len() } else { 0 };
                live.stop_after = Some(live.stop_after.map_or(after, |n| n.min(after)));
                if live.claim_turn() {
                    drop(slab);
                    self.schedule(slot);
                }
            }
            SlotState::Reserved { pending } => {
                pending.push(Envelope::control(Kind::Stop, slot, generation));
            }
            SlotState::Vacant => {}
        }
    }

    /// Stops the actor at `slot` for good: `stopped` runs, queued messages
    /// become dead letters, its tasks are cancelled, its names freed, and the
    /// slot's generation moves on so old refs see `Closed`.
    pub(crate) fn finish_stop(&self, slot: u32, generation: u32, actor: Option<Box<dyn RunActor>>) {
        if let Some(mut actor) = actor {
            actor.stop(self, slot, generation);
            drop_caught(actor);
        }
        let mut slab = self.slab.borrow_mut();
        let entry = &mut slab.slots[slot as usize];
        if entry.generation != generation {
            return;
        }
        let SlotState::Live(mut live) = std::mem::replace(&mut entry.state, SlotState::Vacant)
        else {
            return;
        };
        if slab.free(slot).is_some() {
            slab.free.push(slot);
        }
        drop(slab);
        let dead = live.inbox.len();
        self.queued.set(self.queued.get() - dead);
        self.count_dead_letters(self.mesh.stop_cause(), dead);
        drop_caught(live.inbox);
        for (_, job) in live.jobs.drain(..) {
            job.cancel();
        }
        self.shared().actors.fetch_sub(1, Ordering::Relaxed);
        if self.shared().registered.load(Ordering::Relaxed) > 0 {
            crate::registry::forget(&self.mesh, self.id, slot, generation);
        }
    }

    /// Runs one turn of the actor at `slot`; returns messages handled.
    pub(crate) fn run_turn(&self, slot: u32) -> usize {
        let (actor, generation, stop_now) = {
            let mut slab = self.slab.borrow_mut();
            let Some(entry) = slab.slots.get_mut(slot as usize) else { return 0 };
            let generation = entry.generation;
            let SlotState::Live(live) = &mut entry.state else { return 0 };
            (live.actor.take(), generation, live.stop_after == Some(0))
        };
        let Some(mut actor) = actor else { return 0 };
        let (handled, stop) = if stop_now {
            (0, true)
        } else {
            let turn = actor.run(self, slot, generation, self.mesh.config.fairness_budget);
            (turn.handled, turn.stop)
        };
        let mut slab = self.slab.borrow_mut();
        let Some(live) = slab.live(slot, generation) else { return handled };
        if stop || live.stop_after == Some(0) {
            drop(slab);
            self.finish_stop(slot, generation, Some(actor));
            return handled;
        }
        live.actor = Some(actor);
        if live.inbox.len() > 0 {
            drop(slab);
            self.ready.borrow_mut().push_back(slot);
        } else {
            live.scheduled = false;
        }
        handled
    }

    /// Tops up the slots offered to spawners on other shards and threads
    /// (see `ShardShared::free_slots`) from the local free list, each
    /// reserved under its generation, so that spawns from elsewhere reuse
    /// freed slots instead of growing the table.
    pub(crate) fn offer_free_slots(&self) {
        let shared = self.shared();
        let mut slab = self.slab.borrow_mut();
        while let Some(&slot) = slab.free.last() {
            let entry = &mut slab.slots[slot as usize];
            if shared.free_slots.push((slot, entry.generation)).is_err() {
                break;
            }
            entry.state = SlotState::Reserved { pending: Vec::new() };
            slab.free.pop();
        }
        shared.free_unoffered.store(slab.free.len(), Ordering::Relaxed);
    }

    // ----- shard-local tasks (timers, piped futures) --------------------

    /// Starts `job` as a task of the actor at `slot`; it is cancelled when
    /// the actor stops. Returns the job's id.
    pub(crate) fn start_job(
        &self,
        slot: u32,
        generation: u32,
        job: impl std::future::Future<Output = ()> + 'static,
    ) -> Option<u64> {
        if self.mesh.phase() != phase::RUNNING {
            return None;
        }
        let id = self.next_job.get();
        self.next_job.set(id + 1);
        let mesh = self.mesh.id;
        let task = glommio::spawn_local(async move {
            let finished = AssertUnwindSafe(job).catch_unwind().await;
            with_current(|shard| match shard {
                Some(shard) if shard.mesh.id == mesh => {
                    // Done: forget the handle (this does not cancel the
                    // running task).
                    shard.forget_job(slot, generation, id);
                    if finished.is_err() {
                        // A panic in a piped future, its mapping or a timer's
                        // message maker is a failure of the actor.
                        tracing::error!(shard = shard.id, slot, "an actor's task panicked");
                        shard.request_stop(slot, generation, false);
                    }
                }
                _ => {}
            });
        });
        let handle = task.detach();
        match self.slab.borrow_mut().live(slot, generation) {
            Some(live) => live.jobs.push((id, handle)),
            None => handle.cancel(),
        }
        Some(id)
    }

    /// Starts a program task (see [`spawn_program`]).
    fn start_program(&self, program: impl std::future::Future<Output = ()> + 'static) {
        let id = self.next_job.get();
        self.next_job.set(id + 1);
        let mesh = self.mesh.id;
        let task = glommio::spawn_local(async move {
            program.await;
            with_current(|shard| match shard {
                Some(shard) if shard.mesh.id == mesh => {
                    shard.programs.borrow_mut().retain(|(program, _)| *program != id);
                }
                _ => {}
            });
        });
        self.programs.borrow_mut().push((id, task.detach()));
    }

    /// Cancels every program task; glommio drops their futures the next
    /// time it runs its queue.
    pub(crate) fn cancel_programs(&self) {
        let programs = std::mem::take(&mut *self.programs.borrow_mut());
        for (_, program) in programs {
            program.cancel();
        }
    }

    fn forget_job(&self, slot: u32, generation: u32, id: u64) {
        if let Some(live) = self.slab.borrow_mut().live(slot, generation) {
            live.jobs.retain(|(job, _)| *job != id);
        }
    }

    /// Cancels one job of the actor at `slot`.
    pub(crate) fn cancel_job(&self, slot: u32, generation: u32, id: u64) {
        if let Some(live) = self.slab.borrow_mut().live(slot, generation) {
            if let Some(at) = live.jobs.iter().position(|(job, _)| *job == id) {
                live.jobs.swap_remove(at).1.cancel();
            }
        }
    }

    /// Cancels every job of every actor (shutdown: no new work).
    pub(crate) fn cancel_all_jobs(&self) {
        let mut slab = self.slab.borrow_mut();
        for entry in &mut slab.slots {
            if let SlotState::Live(live) = &mut entry.state {
                for (_, job) in live.jobs.drain(..) {
                    job.cancel();
                }
            }
        }
    }

    /// Stops every live actor (shutdown).
    pub(crate) fn stop_all(&self) {
        let live: Vec<(u32, u32)> = {
            let slab = self.slab.borrow();
            slab.slots
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.state, SlotState::Live(_)))
                .map(|(i, e)| (i as u32, e.generation))
                .collect()
        };
        for (slot, generation) in live {
            let actor = self.slab.borrow_mut().live(slot, generation).and_then(|l| l.actor.take());
            self.finish_stop(slot, generation, actor);
        }
        self.ready.borrow_mut().clear();
    }
}

/// Runs `program` as a task of the shard running on this thread, for as long
/// as the shard runs: when the shard exits, a program still pending is
/// dropped. Hands `program` back on a thread that runs no shard.
///
/// # Errors
///
/// `program` itself, when called off the runtime.
pub fn spawn_program<F: std::future::Future<Output = ()> + 'static>(program: F) -> Result<(), F> {
    with_current(|shard| match shard {
        Some(shard) => {
            shard.start_program(program);
            Ok(())
        }
        None => Err(program),
    })
}

/// Builds the spawn envelope for an actor to be installed on another shard
/// at the slot (and generation) reserved for it there.
pub(crate) fn spawn_envelope<A: Actor>(
    slot: u32,
    generation: u32,
    factory: Box<dyn Fn() -> A + Send>,
) -> Envelope {
    let spawn: SpawnFn = Box::new(move |shard: &Shard, slot: u32, generation: u32| {
        let installed = shard.install(slot, factory);
        debug_assert_eq!(installed, generation, "the slot was reserved under this generation");
    });
    Envelope::new(Kind::Spawn, slot, generation, Payload::new(spawn))
}
