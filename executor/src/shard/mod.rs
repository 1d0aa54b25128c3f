//! One shard: the actors of one core, their run queue, and this shard's ends
//! of the ring mesh.
//!
//! Everything here runs on the shard's own thread, with no atomic on the
//! local paths. The hot state (slots, run queue, outbound rings) sits in
//! [`LocalCell`]s whose accesses never call user code; no borrow is ever held
//! while a handler, hook, factory or `Drop` runs, so user code may send,
//! spawn and stop freely.

pub(crate) mod ops;
pub(crate) mod parts;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

use glommio::task::JoinHandle;
use whirl_mailbox::entry_ring::{EntryConsumer, EntryProducer};

use crate::base::actor_fns::ActorFns;
use crate::base::drop_caught;
use crate::base::entry::{self, EntryFn, How};
use crate::base::injected::Injected;
use crate::base::local_cell::LocalCell;
use crate::base::run_queue::RunQueue;
use crate::mesh::{Mesh, ShardEnds};
use crate::shard::ops::report::Reported;
use crate::shard::ops::room::RoomWaiter;
use crate::shard::parts::replies::ReplySlab;
use crate::shard::parts::slots::{Slots, State};
use crate::types::schedule::Priority;
use crate::types::stats::DeadLetterCause;
use crate::SendError;

/// One shard's state, owned by its dispatch loop.
pub(crate) struct Shard {
    pub(crate) id: u16,
    /// `mesh.id`, kept here so a send compares it without a pointer chase.
    pub(crate) mesh_id: u32,
    /// The mailbox bound (`mesh.config.mailbox_capacity`).
    pub(crate) mailbox_capacity: u32,
    pub(crate) mesh: Arc<Mesh>,
    pub(crate) slots: LocalCell<Slots>,
    /// The handler call running now and its turn.
    pub(crate) turn: crate::shard::parts::turn::Turn,
    /// Every message and stop for this shard's actors, in order: one queue
    /// per priority class (see `schedule`), indexed by `Priority as usize`.
    pub(crate) queues: [LocalCell<RunQueue>; 3],
    /// The class whose run queue the pass runs now (its entries pop from
    /// that queue).
    pub(crate) serving: Cell<Priority>,
    /// The ring whose entries run now, taken out of `inbound` (a batch reads
    /// on from it).
    pub(crate) ring_in_use: LocalCell<Option<EntryConsumer>>,
    /// `outbound[i]`: the ring to shard `i`.
    pub(crate) outbound: LocalCell<Vec<Option<EntryProducer>>>,
    /// Commands (stops, spawns, replies) that found their ring full; they go
    /// first at the next flush, and messages wait behind them.
    pub(crate) overflow: RefCell<Vec<VecDeque<crate::base::entry::EntryBuffer>>>,
    /// `inbound[i]`: the ring from shard `i`.
    pub(crate) inbound: RefCell<Vec<Option<EntryConsumer>>>,
    /// `waiting[i]`: the ring from shard `i` waits, its front entry left in
    /// place, for an actor that is restarting with a full mailbox (see
    /// [`Shard::ring_must_wait`]); passes skip it until a restarting actor
    /// is rebuilt, stops, or waits for its supervisor again.
    pub(crate) waiting: RefCell<Vec<bool>>,
    /// Actors with messages in their outbox (`outbox`), as `(slot,
    /// generation)`; each once.
    pub(crate) outboxes: RefCell<Vec<(u32, u32)>>,
    /// Actors whose outbox waits for room in the mailbox of an actor of
    /// this shard, by that actor (not in `outboxes` meanwhile).
    pub(crate) local_waits: RefCell<crate::shard::parts::local_waits::LocalWaits>,
    /// Outboxes of actors that stopped for good, still to be delivered.
    pub(crate) orphans: RefCell<Vec<crate::shard::parts::outbox::Outbox>>,
    /// `room_wanted[i]`: words the first outbox entry waiting for the ring
    /// to shard `i` needs (0: none), as of the last pass.
    pub(crate) room_wanted: RefCell<Vec<usize>>,
    /// Actors of this shard that are held back (`Slot::held_back`).
    pub(crate) held_back_actors: Cell<u32>,
    pub(crate) replies: RefCell<ReplySlab>,
    /// Tasks waiting for room in a full outgoing ring (see `room`).
    pub(crate) room_waiters: RefCell<Vec<RoomWaiter>>,
    /// The wakers `wake_room_waiters` is about to wake (kept for its
    /// capacity).
    pub(crate) woken: RefCell<Vec<std::task::Waker>>,
    /// An injected message for a full mailbox: it waits here, and the
    /// injector is not drained until it is delivered, so senders outside the
    /// runtime see `Full` instead of growing the mailbox.
    pub(crate) held: RefCell<Option<Injected>>,
    /// The held message was refused while an actor restarts: it may wait
    /// for the restart to end, as a waiting ring does, and is not work
    /// (`has_work`) until a restart ends (`stop_waiting_rings`). Passes
    /// still try it each time.
    pub(crate) held_waits: Cell<bool>,
    /// True while the dispatch loop runs a pass: sends stage their entries
    /// and the pass publishes them.
    pub(crate) in_dispatch: Cell<bool>,
    /// True while the dispatch loop is parked; local senders then wake it.
    pub(crate) idle: Cell<bool>,
    /// Polls of the shard's tasks so far ([`spawn_task`]): the idle loop
    /// spins more gently while tasks share the core (see `idle_wait`).
    pub(crate) task_polls: Cell<u64>,
    /// While the dispatch loop is parked: the mesh view it parked on, for
    /// the shard's tasks to re-check on its behalf (`task_polled`).
    pub(crate) parked_on: Cell<Option<crate::shard::ops::pass::MeshView>>,
    pub(crate) dispatcher: RefCell<Option<Waker>>,
    /// Words of the ring entry being run (its run function reports them
    /// before any user code runs, so a panic does not run it twice).
    pub(crate) consumed: Cell<usize>,
    /// A task marked this quiet shard busy during the shutdown drain: the
    /// loop must look at quiescence again even if no work came of it.
    pub(crate) recheck: Cell<bool>,
    pub(crate) next_job: Cell<u64>,
    /// Program tasks (`block_on`) on this shard, cancelled when it exits.
    pub(crate) programs: RefCell<Vec<(u64, JoinHandle<()>)>>,
    /// A restarted actor's `started` runs: a restart it leads to is queued,
    /// not run inside this one.
    pub(crate) rebuilding: Cell<bool>,
    /// Dead letters reported to the program so far.
    pub(crate) reported: Reported,
    /// Actors of this shard in `State::Restarting`: the shutdown drain
    /// waits for them, so messages held for a new incarnation reach it.
    pub(crate) restarting: Cell<u32>,
    /// The arenas of this shard's actors.
    pub(crate) arenas: LocalCell<crate::shard::ops::arena::Arenas>,
    /// The watches this shard's actors have set on others.
    pub(crate) watches: LocalCell<crate::shard::ops::watch::Watches>,
    /// What the shard counts about itself and its actors (see `metrics`).
    pub(crate) metrics: crate::shard::parts::metrics::ShardMetrics,
}

/// The first buffer of the `High` and `Low` run queues, in words (most
/// shards have few actors of those classes).
const SMALL_QUEUE_WORDS: usize = 64;

/// Entries staged on one ring during a pass before they are published
/// anyway, so the receiver starts on a long burst early.
const PUBLISH_BATCH_WORDS: usize = 128;

thread_local! {
    /// The shard running on this thread, if any: a pointer from
    /// `Rc::into_raw`, whose strong count [`CurrentShard`] holds while it is
    /// set.
    static CURRENT: Cell<*const Shard> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the mesh `id`, if it is alive: the running shard's own
/// (a compare) on one of its shards, else a look-up under a read lock.
pub(crate) fn with_mesh<R>(id: u32, f: impl FnOnce(&Mesh) -> R) -> Option<R> {
    // SAFETY: the shard is used only within this call, which runs `f` on
    // its mesh; `f` calls no user code (its callers read tables).
    if let Some(shard) = unsafe { current_of(id) } {
        return Some(f(&shard.mesh));
    }
    Mesh::find(id).map(|mesh| f(&mesh))
}

/// Runs `f` with the shard of this thread, or `None` on a thread outside the
/// runtime.
///
/// The shard is kept alive for the whole call by a strong reference of our
/// own: an embedding program owns the shard's future and may drop it from
/// inside a wake-up that `f` makes (it polls that future with a waker of its
/// choosing), which must not free the shard under `f`.
#[inline(always)]
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

/// The shard of this thread if it belongs to mesh `mesh`.
///
/// Unlike [`with_current`] this takes no strong reference: a thread-local
/// load and a compare.
///
/// # Safety
///
/// The caller must use the reference only for code that calls no user code
/// and wakes no task of this thread, and only until it returns: then nothing
/// can drop the shard under it (whatever runs the caller on this thread is
/// inside the shard's executor, whose shard future owns the shard and is not
/// dropped without user code running).
#[inline(always)]
pub(crate) unsafe fn current_of<'a>(mesh: u32) -> Option<&'a Shard> {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer is the live shard of this thread (see
    // `with_current`), alive as long as the caller needs it (the contract).
    let current = unsafe { &*current };
    (current.mesh_id == mesh).then_some(current)
}

/// Makes a shard this thread's current shard until dropped.
pub(crate) struct CurrentShard {
    /// From `Rc::into_raw`: the strong count `CURRENT` relies on.
    shard: *const Shard,
}

impl CurrentShard {
    pub(crate) fn enter(shard: Rc<Shard>) -> Self {
        let shard = CURRENT.with(|current| {
            // Checked before `into_raw`, so a refused shard is dropped, not
            // leaked.
            assert!(current.get().is_null(), "a whirl shard already runs on this thread");
            let shard = Rc::into_raw(shard);
            current.set(shard);
            shard
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

/// Wakes a parked shard, holding a reference to this thread's shard across
/// the call: the waker may be an embedding program's, and the sender may
/// hold this shard only by [`current_of`]'s borrowed reference.
#[cold]
#[inline(never)]
fn wake_other_shard(waker: Waker) {
    with_current(|_| waker.wake());
}

/// Why a message could not be queued.
pub(crate) enum Refusal {
    Full,
    Closed,
}

impl Shard {
    pub(crate) fn new(mesh: Arc<Mesh>, id: usize, ends: ShardEnds) -> Rc<Self> {
        let shards = mesh.shard_count();
        let metrics = crate::shard::parts::metrics::ShardMetrics::new(shards);
        let slots = Slots {
            metrics: mesh.config.metrics,
            timed_every: crate::shard::parts::metrics::timed_every(
                mesh.config.handling_time_sample_every,
            ),
            ..Slots::default()
        };
        Rc::new(Self {
            id: id as u16,
            mesh_id: mesh.id,
            mailbox_capacity: u32::try_from(mesh.config.mailbox_capacity).unwrap_or(u32::MAX),
            mesh,
            slots: LocalCell::new(slots),
            turn: crate::shard::parts::turn::Turn::new(),
            queues: [
                LocalCell::new(RunQueue::with_words(SMALL_QUEUE_WORDS)),
                LocalCell::new(RunQueue::new()),
                LocalCell::new(RunQueue::with_words(SMALL_QUEUE_WORDS)),
            ],
            serving: Cell::new(Priority::Normal),
            ring_in_use: LocalCell::new(None),
            outbound: LocalCell::new(ends.outbound),
            overflow: RefCell::new((0..shards).map(|_| VecDeque::new()).collect()),
            inbound: RefCell::new(ends.inbound),
            waiting: RefCell::new(vec![false; shards]),
            outboxes: RefCell::new(Vec::new()),
            local_waits: RefCell::default(),
            orphans: RefCell::new(Vec::new()),
            room_wanted: RefCell::new(vec![0; shards]),
            held_back_actors: Cell::new(0),
            replies: RefCell::new(ReplySlab::default()),
            room_waiters: RefCell::new(Vec::with_capacity(8)),
            woken: RefCell::new(Vec::with_capacity(8)),
            held: RefCell::new(None),
            held_waits: Cell::new(false),
            in_dispatch: Cell::new(false),
            idle: Cell::new(false),
            task_polls: Cell::new(0),
            parked_on: Cell::new(None),
            dispatcher: RefCell::new(None),
            consumed: Cell::new(0),
            recheck: Cell::new(false),
            next_job: Cell::new(0),
            programs: RefCell::new(Vec::new()),
            rebuilding: Cell::new(false),
            reported: Reported::new(),
            restarting: Cell::new(0),
            arenas: LocalCell::new(crate::shard::ops::arena::Arenas::default()),
            watches: LocalCell::new(crate::shard::ops::watch::Watches::default()),
            metrics,
        })
    }

    pub(crate) fn shared(&self) -> &crate::mesh::ShardShared {
        &self.mesh.shards[self.id as usize]
    }

    /// This shard as the untyped pointer run functions get.
    #[inline(always)]
    pub(crate) fn erased(&self) -> *const () {
        (self as *const Self).cast()
    }

    /// The shard behind a run function's pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure: `shard` came from [`erased`](Self::erased) of
    /// a shard that is alive for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn from_erased<'a>(shard: *const ()) -> &'a Shard {
        // SAFETY: as the contract says.
        unsafe { &*shard.cast::<Shard>() }
    }

    /// Wakes the dispatch loop if it is parked and the caller is not the
    /// dispatch loop itself (a task, a timer, a piped future).
    ///
    /// The waker is taken out before it is called: the wake-up may run
    /// arbitrary code of an embedding program (even drop this shard's
    /// future, see [`with_current`]), so no borrow may be held across it.
    #[inline(always)]
    pub(crate) fn wake_dispatcher(&self) {
        if self.idle.get() && !self.in_dispatch.get() {
            let waker = self.dispatcher.borrow_mut().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
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
    ///
    /// Once the drain is over every send from a task is refused, also after
    /// its shard became busy again, so nothing is sent into shards that are
    /// exiting.
    #[inline(always)]
    pub(crate) fn note_send_outside_pass(&self) -> bool {
        if self.in_dispatch.get() {
            return true;
        }
        if !self.mesh.drain.is_quiet(self.id as usize) {
            return !self.mesh.drain.is_sealed();
        }
        let busy = self.mesh.note_busy(self.id as usize);
        // The send may come to nothing (a stopped actor): make the loop look
        // at quiescence again anyway.
        self.recheck.set(true);
        self.wake_dispatcher();
        busy
    }

    /// The first step of every run function, for an entry holding a `T`:
    /// moves the `T` out and tells where the entry was consumed from. A
    /// run-queue entry is popped at once (user code may push, and grow the
    /// queue, next); a ring entry's length is noted for the pass, which
    /// advances the ring. For `How::Drop` the `T` is dropped here (a panic in
    /// its `Drop` caught) and `None` comes back.
    ///
    /// # Safety
    ///
    /// As [`RunFn`], for an entry written by `entry::write::<T>`.
    #[inline(always)]
    pub(crate) unsafe fn open_entry<'a, T>(
        shard: *const (),
        at: *mut u64,
        how: How,
    ) -> Option<(&'a Shard, (u32, u32), T)> {
        if how == How::Measure {
            return None;
        }
        // SAFETY: a complete entry holding a `T`, read once.
        let (target, value) = unsafe { (entry::target(at), entry::read::<T>(at)) };
        if how == How::Drop {
            drop_caught(value);
            return None;
        }
        // SAFETY: not `Drop`, so `shard` is the running shard.
        let shard = unsafe { Shard::from_erased(shard) };
        match how {
            How::FromQueue => {
                shard.queue(shard.serving.get()).with(|q| q.pop_front(entry::entry_words::<T>()))
            }
            How::FromRing => shard.consumed.set(entry::entry_words::<T>()),
            How::Held | How::Drop | How::Measure => {}
        }
        Some((shard, target, value))
    }

    // ----- local delivery ------------------------------------------------

    /// Queues `msg` for the actor at `slot` of this shard, within its
    /// mailbox bound. Messages for a slot reserved by a spawn still on its
    /// way wait for the actor.
    ///
    pub(crate) fn send_local<M: Send + 'static>(
        &self,
        fns: &'static ActorFns,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        let msg = match self.try_push_local(fns, slot, generation, msg) {
            Ok(()) => {
                self.wake_dispatcher();
                return Ok(());
            }
            Err(msg) => msg,
        };
        // Not queued: a live actor that is not stopping has a full mailbox;
        // a reserved slot keeps the message for its actor; anything else is
        // gone.
        let capacity = self.mailbox_capacity;
        let waits = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s) if s.generation == generation => match s.state {
                State::Live if !s.stopping => Err(Refusal::Full),
                State::Reserved => Ok(false),
                // Restarting: queued within the bound like a live actor's
                // messages, and held for the new incarnation when it comes up.
                State::Restarting if !s.stopping && s.queued < capacity => {
                    s.queued += 1;
                    Ok(true)
                }
                State::Restarting if !s.stopping => Err(Refusal::Full),
                _ => Err(Refusal::Closed),
            },
            Some(_) => Err(Refusal::Closed),
            None if self.is_reserved_beyond(slot, generation) => Ok(false),
            None => Err(Refusal::Closed),
        });
        let target = entry::target_word(slot, generation);
        match waits {
            Ok(true) => {
                self.push_command(fns.run, target, msg);
                Ok(())
            }
            Ok(false) => {
                self.keep_pending(slot, fns.run, target, msg);
                Ok(())
            }
            Err(Refusal::Full) => Err(SendError::Full(msg)),
            Err(Refusal::Closed) => Err(SendError::Closed(msg)),
        }
    }

    /// Whether a send may take the fast paths ([`try_push_local`],
    /// [`try_write_remote`]): in a pass, or while the shard is not quiet in
    /// the shutdown drain (which [`note_send_outside_pass`] would have to
    /// record) and the drain is not over.
    ///
    /// [`try_push_local`]: Self::try_push_local
    /// [`try_write_remote`]: Self::try_write_remote
    /// [`note_send_outside_pass`]: Self::note_send_outside_pass
    #[inline(always)]
    pub(crate) fn may_send_fast(&self) -> bool {
        self.in_dispatch.get()
            || (!self.mesh.drain.is_quiet(self.id as usize) && !self.mesh.drain.is_sealed())
    }

    /// Queues `msg` for the live actor at `slot` if it has room in its
    /// mailbox; hands it back otherwise (stopped, full, reserved, stale:
    /// [`send_local`](Self::send_local) sorts those out). A few compares and
    /// a push, inlined into the sender; it wakes nothing (the caller wakes
    /// the dispatch loop if it is parked). Only when
    /// [`may_send_fast`](Self::may_send_fast) or after
    /// [`note_send_outside_pass`](Self::note_send_outside_pass).
    #[inline(always)]
    pub(crate) fn try_push_local<M: Send + 'static>(
        &self,
        fns: &'static ActorFns,
        slot: u32,
        generation: u32,
        msg: M,
    ) -> Result<(), M> {
        let capacity = self.mailbox_capacity;
        let room = self.slots.with(|slots| match slots.slots.get_mut(slot as usize) {
            Some(s)
                if s.generation == generation
                    && s.state == State::Live
                    && !s.stopping
                    && s.queued < capacity =>
            {
                s.queued += 1;
                Some(s.priority)
            }
            _ => None,
        });
        let Some(priority) = room else { return Err(msg) };
        if priority != Priority::Normal {
            // Off the common path, so the `Normal` queue's address does not
            // wait for the slot's load.
            self.push_entry_of_class(priority, fns.run, entry::target_word(slot, generation), msg);
            return Ok(());
        }
        let at = self.queue(Priority::Normal).with(|q| q.reserve(entry::entry_words::<M>()));
        // SAFETY: the words just reserved, written before the queue is used
        // again. Written here, not in a closure, so the message is copied
        // once, from the sender's hands into the queue.
        unsafe { entry::write_at(at, fns.run, entry::target_word(slot, generation), msg) };
        Ok(())
    }

    /// Queues an entry in the run queue of class `priority` (off the common
    /// path of [`try_push_local`](Self::try_push_local), which is for
    /// `Normal` actors).
    #[cold]
    #[inline(never)]
    pub(crate) fn push_entry_of_class<M>(
        &self,
        priority: Priority,
        run: EntryFn,
        target: u64,
        msg: M,
    ) {
        self.queue(priority)
            .with(|q| q.push(entry::entry_words::<M>(), |w| entry::write(w, run, target, msg)));
    }

    /// Writes `msg` into the ring to shard `to` if there is room and no
    /// command waits for it; hands it back otherwise
    /// ([`send_remote`](Self::send_remote) tells full from closed).
    /// Published at once outside a pass; in one, at its end or once a batch
    /// is big. Only when [`may_send_fast`](Self::may_send_fast) or after
    /// [`note_send_outside_pass`](Self::note_send_outside_pass).
    #[inline(always)]
    pub(crate) fn try_write_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), M> {
        self.try_stage_remote(to, run, target, msg)?;
        let in_dispatch = self.in_dispatch.get();
        self.publish_remote(to, in_dispatch);
        Ok(())
    }

    /// As [`try_write_remote`](Self::try_write_remote), without publishing:
    /// the caller publishes with [`publish_remote`](Self::publish_remote).
    #[inline(always)]
    pub(crate) fn try_stage_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), M> {
        if self.overflow_waiting(to) {
            // Keep order behind commands still waiting for room.
            return Err(msg);
        }
        let words = entry::entry_words::<M>();
        let reserved = self.outbound.with(|outbound| {
            let producer = outbound.get_mut(to as usize).and_then(Option::as_mut)?;
            // SAFETY: an entry of `entry_words::<M>` words, written whole
            // just below before the producer is used again; `M: Send`;
            // `entry::drop_entry` reads any entry.
            unsafe { producer.reserve(words) }.ok()
        });
        let Some(at) = reserved else { return Err(msg) };
        // SAFETY: the words just reserved. Written here, not in a closure, so
        // the message is copied once, into the ring.
        unsafe { entry::write_at(at, run, target, msg) };
        Ok(())
    }

    /// Publishes what is staged in the ring to shard `to` (one release
    /// store, at most one wake-up), unless `in_dispatch` and the batch is
    /// still small: the pass publishes it.
    #[inline(always)]
    pub(crate) fn publish_remote(&self, to: u16, in_dispatch: bool) {
        let wake = self.outbound.with(|outbound| {
            let producer = outbound.get_mut(to as usize).and_then(Option::as_mut)?;
            if in_dispatch && producer.staged() < PUBLISH_BATCH_WORDS {
                return None;
            }
            producer.publish_deferring_wake()
        });
        if let Some(waker) = wake {
            wake_other_shard(waker);
        }
    }

    /// Whether commands wait in the overflow queue to shard `to`.
    #[inline(always)]
    fn overflow_waiting(&self, to: u16) -> bool {
        self.overflow.borrow().get(to as usize).is_some_and(|q| !q.is_empty())
    }

    /// Whether `slot`, known to lie past the end of the table, was reserved by a spawn
    /// from another shard or thread (generation 0, index handed out).
    pub(crate) fn is_reserved_beyond(&self, slot: u32, generation: u32) -> bool {
        generation == 0 && slot < self.shared().next_slot.load(Ordering::Relaxed)
    }

    /// Keeps an entry for `msg` until the actor of reserved `slot` is built.
    pub(crate) fn keep_pending<M>(&self, slot: u32, run: EntryFn, target: u64, msg: M) {
        let words = entry::entry_words::<M>();
        let mut buffer = Box::new_uninit_slice(words);
        entry::write(&mut buffer, run, target, msg);
        self.slots.with(|slots| {
            slots.ensure(slot);
            slots.pending.entry(slot).or_default().push_back(buffer);
        });
    }

    /// Queues the entries that waited in [`Slots::pending`] for the actor at
    /// `slot`, in order. `count`: they were not counted against its mailbox
    /// yet (they waited for a spawn), so they are now, past the bound if
    /// they must; entries held for a restart are counted already.
    ///
    /// [`Slots::pending`]: crate::shard::parts::slots::Slots::pending
    pub(crate) fn queue_pending(
        &self,
        slot: u32,
        generation: u32,
        pending: std::collections::VecDeque<entry::EntryBuffer>,
        count: bool,
    ) {
        if count && !pending.is_empty() {
            self.slots.with(|slots| {
                if let Some(s) = slots.live(slot, generation) {
                    s.queued += pending.len() as u32;
                }
            });
        }
        let queue = self.queue(self.priority_of(slot));
        for buffer in pending {
            queue.with(|q| q.push(buffer.len(), |w| w.copy_from_slice(&buffer)));
        }
    }

    /// The run queue of class `priority`.
    #[inline(always)]
    pub(crate) fn queue(&self, priority: Priority) -> &LocalCell<RunQueue> {
        &self.queues[priority as usize]
    }

    /// The class of the actor at `slot` (`Normal` for a slot not in use).
    pub(crate) fn priority_of(&self, slot: u32) -> Priority {
        self.slots
            .with(|slots| slots.slots.get(slot as usize).map_or(Priority::Normal, |s| s.priority))
    }

    /// Entries in the run queues.
    pub(crate) fn queued_entries(&self) -> usize {
        self.queues.iter().map(|q| q.with(|q| q.len())).sum()
    }

    /// Queues an entry for the actor at slot `target` behind what is queued
    /// in its class's run queue: a command for it (stop, restart, notice),
    /// or a message its caller has counted against its mailbox. Wakes the
    /// dispatch loop if it is parked.
    pub(crate) fn push_command<T>(&self, run: EntryFn, target: u64, payload: T) {
        self.push_entry_of_class(self.priority_of(target as u32), run, target, payload);
        self.wake_dispatcher();
    }

    // ----- remote delivery -------------------------------------------------

    /// Writes `msg` into the ring to shard `to`; published at the end of the
    /// current pass (or once a batch is big), or at once outside a pass.
    #[inline]
    pub(crate) fn send_remote<M: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        msg: M,
    ) -> Result<(), SendError<M>> {
        if !self.note_send_outside_pass() {
            return Err(SendError::Closed(msg));
        }
        match self.try_write_remote(to, run, target, msg) {
            Ok(()) => Ok(()),
            Err(msg) if self.ring_closed(to) => Err(SendError::Closed(msg)),
            // The ring is full, or commands wait for room before it.
            Err(msg) => Err(SendError::Full(msg)),
        }
    }

    /// Whether the ring to shard `to` is gone (that shard has exited).
    pub(crate) fn ring_closed(&self, to: u16) -> bool {
        self.outbound.with(|outbound| {
            outbound.get(to as usize).and_then(Option::as_ref).is_none_or(|p| p.is_closed())
        })
    }

    /// Sends a command (stop, spawn, reply) to shard `to`; never refused: if
    /// the ring is full it waits in the overflow queue, and if the shard has
    /// exited it is a dead letter.
    pub(crate) fn send_command<T: Send + 'static>(
        &self,
        to: u16,
        run: EntryFn,
        target: u64,
        payload: T,
    ) {
        // During the drain commands still mark the shard busy, and after it
        // they still go out (replies complete asks until the shards exit).
        let _ = self.note_send_outside_pass();
        match self.try_write_remote(to, run, target, payload) {
            Ok(()) => {}
            Err(payload) if self.ring_closed(to) => {
                self.count_dead_letters(
                    DeadLetterCause::ShardExited,
                    usize::from(run.kind.is_letter()),
                );
                drop_caught(payload);
            }
            Err(payload) => {
                // The ring is full, or commands wait before it: wait in line.
                let mut buffer = Box::new_uninit_slice(entry::entry_words::<T>());
                entry::write(&mut buffer, run, target, payload);
                self.overflow.borrow_mut()[to as usize].push_back(buffer);
                self.wake_dispatcher();
            }
        }
    }

    /// Program tasks: see [`spawn_program`].
    fn start_program(&self, program: impl std::future::Future<Output = ()> + 'static) {
        let id = self.next_job.get();
        self.next_job.set(id + 1);
        let mesh = self.mesh.id;
        let task = spawn_task(async move {
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
}

/// Spawns `task` on this thread's executor as a task of its shard
/// (programs, piped futures): each poll of it also stands in for the
/// shard's dispatch loop when that is parked, looking at the rings and
/// waking the loop (a local wake: immediate) when work came.
///
/// A parked loop is woken from another shard through glommio's foreign
/// waker, which glommio notices only when its task queue runs dry or its
/// preempt timer fires (100 ms). A task that keeps yielding (pacing sends
/// with `yield_now`, say) keeps the queue from running dry, and messages
/// from other shards would wait up to that long. Tasks spawned with
/// glommio directly, beside the shard, do not stand in.
pub(crate) fn spawn_task<T: 'static>(
    task: impl std::future::Future<Output = T> + 'static,
) -> glommio::Task<T> {
    glommio::spawn_local(async move {
        let mut task = std::pin::pin!(task);
        std::future::poll_fn(|cx| {
            let poll = task.as_mut().poll(cx);
            with_current(|shard| {
                if let Some(shard) = shard {
                    shard.task_polled();
                }
            });
            poll
        })
        .await
    })
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
