//! The state all shards of one runtime share: one ring per ordered pair of
//! shards, each shard's doorbell and injection queue, the shutdown phase and
//! the name registry.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use whirl_mailbox::entry_ring::{self, EntryConsumer, EntryProducer};
use whirl_mailbox::{Doorbell, Quiescence};

use crate::base::entry::{self, MAX_ENTRY_WORDS};
use crate::base::injected::Injected;
use crate::base::liveness::Generations;
use crate::base::tunables::FREE_SLOTS_OFFERED;
use crate::types::config::{ConfigError, ShardConfig, RING_SLOT_WORDS};
use crate::types::stats::{DeadLetterCause, ShutdownReport, Stats};

pub(crate) use crate::base::entry::MAX_SLOTS;

/// Phases of a mesh's life (see [`Mesh::phase`]).
pub(crate) mod phase {
    /// Normal operation.
    pub(crate) const RUNNING: u8 = 0;
    /// Shutdown asked: no new work from outside, timers cancelled, actors
    /// drain their mailboxes until every shard is quiet at once, or until
    /// the shutdown deadline.
    pub(crate) const DRAINING: u8 = 1;
    /// Every shard stops its actors.
    pub(crate) const STOPPING: u8 = 2;
    /// Every actor is stopped; shards drain what is left and exit.
    pub(crate) const DONE: u8 = 3;
}

/// What one shard shares with the others.
#[derive(Debug)]
pub(crate) struct ShardShared {
    /// Rings into this shard (and its injector) wake it through this.
    pub(crate) doorbell: Arc<Doorbell>,
    /// Messages and commands from threads outside the runtime.
    pub(crate) injector: ArrayQueue<Injected>,
    /// Freed slots, each reserved under its next generation, that spawns
    /// from elsewhere take before they take a never-used index, so the slot
    /// table does not grow as actors come and go.
    pub(crate) free_slots: ArrayQueue<(u32, u32)>,
    /// Free slots the shard holds beyond those in `free_slots` (published at
    /// the end of each pass). While there are some, a spawn from outside the
    /// runtime that finds `free_slots` empty is refused with `Busy` rather
    /// than given a never-used index: the table grows only when the shard
    /// really has no free slot. Relaxed: a stale value only delays or hurries
    /// one retry.
    pub(crate) free_unoffered: AtomicUsize,
    /// Next never-used slot index. Spawns from other shards reserve an index
    /// here so they can return an `ActorRef` at once; Relaxed, only the
    /// uniqueness of each index matters.
    pub(crate) next_slot: AtomicU32,
    /// Slots taken for a spawn from outside that was refused after all,
    /// when `free_slots` had no room to take them back; the shard takes them
    /// back into its free list at the end of its next pass.
    pub(crate) returned_slots: Mutex<Vec<(u32, u32)>>,
    /// Set after a push to `returned_slots`, so the shard looks at the list
    /// only when there is something in it. Release/Acquire: the shard that
    /// swaps it off takes the lock after the pusher released it.
    pub(crate) slots_returned: AtomicBool,
    /// Live actors on this shard (for placement). Relaxed: a statistic.
    pub(crate) actors: AtomicUsize,
    /// Messages queued in this shard's mailboxes, as of its last pass.
    pub(crate) queued: AtomicUsize,
    /// Slots in this shard's slot table, as of its last pass.
    pub(crate) slots: AtomicUsize,
    /// Dead letters this shard counted, by [`DeadLetterCause`]. Relaxed:
    /// statistics.
    pub(crate) dead_letters: [AtomicU64; DeadLetterCause::ALL.len()],
    /// Names registered for actors of this shard (so a stopping actor only
    /// takes the registry lock when there may be a name to free).
    pub(crate) registered: AtomicUsize,
    /// Times this shard's publications woke a parked shard.
    pub(crate) wakes: AtomicU64,
    /// Restarts of this shard's actors.
    pub(crate) restarts: AtomicU64,
    /// The generation of each slot, for `ActorRef::is_alive` elsewhere.
    pub(crate) generations: Generations,
    /// The generation of each entry of this shard's reply table, so a
    /// `Reply` anywhere sees that its asker gave up (see `refs::ask`).
    pub(crate) reply_generations: Generations,
    /// The deadline of the ask in each entry of the reply table, as
    /// `ask::Instant` ticks (0: none).
    pub(crate) reply_deadlines: crate::base::liveness::Table<AtomicU64>,
    /// `full.get(slot) == generation + 1` while the actor at `slot` is held
    /// back with a full mailbox (see `shard::ops::backpressure`): `Context::send`s on other
    /// shards keep their messages for it in their outboxes meanwhile.
    pub(crate) full: Generations,
    /// Shards whose outboxes wait for a full actor of this shard (bit `i`
    /// for shard `i`; shards from 63 on share bit 63 and are all woken),
    /// woken when one has room again. SeqCst: see `Shard::publish_full`.
    pub(crate) full_waiters: AtomicU64,
    /// Set (before its doorbell is rung) when an actor this shard's
    /// outboxes waited for has room again; the loop then runs a pass instead
    /// of parking (a ring of the doorbell wakes only a parked loop).
    pub(crate) room_news: AtomicBool,
    /// This shard has stopped its actors (counted once in
    /// `Mesh::stopped_shards`).
    stopped: AtomicBool,
    /// This shard's loop has ended (or never started): nothing takes
    /// envelopes from its injector any more. SeqCst, see
    /// [`inject`](Self::inject).
    exited: AtomicBool,
}

/// Why an envelope could not be injected; it comes back inside.
#[derive(Debug)]
pub(crate) enum InjectError {
    /// The injection queue is full.
    Full(Injected),
    /// The shard has exited.
    Exited(Injected),
}

impl ShardShared {
    fn new(doorbell: Arc<Doorbell>, config: &ShardConfig) -> Self {
        Self {
            doorbell,
            injector: ArrayQueue::new(config.injector_capacity),
            free_slots: ArrayQueue::new(FREE_SLOTS_OFFERED),
            free_unoffered: AtomicUsize::new(0),
            next_slot: AtomicU32::new(0),
            returned_slots: Mutex::new(Vec::new()),
            slots_returned: AtomicBool::new(false),
            actors: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            slots: AtomicUsize::new(0),
            dead_letters: Default::default(),
            registered: AtomicUsize::new(0),
            wakes: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            generations: Generations::default(),
            reply_generations: Generations::default(),
            reply_deadlines: Default::default(),
            full: Generations::default(),
            full_waiters: AtomicU64::new(0),
            room_news: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            exited: AtomicBool::new(false),
        }
    }

    /// Queues `envelope` from outside the shard's thread and wakes the shard
    /// if it is parked.
    ///
    /// An envelope that races with the shard's exit is dropped here as a
    /// dead letter instead of waiting forever: after the push this checks
    /// `exited`, and the exiting shard sets `exited` before its last drain of
    /// the queue; with SeqCst on both sides either that drain sees the push
    /// or this load sees the flag (then we drain, as the shard would have).
    pub(crate) fn inject(&self, envelope: Injected) -> Result<(), InjectError> {
        if self.exited.load(Ordering::SeqCst) {
            return Err(InjectError::Exited(envelope));
        }
        self.injector.push(envelope).map_err(InjectError::Full)?;
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.exited.load(Ordering::SeqCst) {
            self.drain_exited();
            return Ok(());
        }
        self.doorbell.ring(&mut 0);
        Ok(())
    }

    /// As [`inject`](Self::inject), for envelopes that must not be refused
    /// for room (stops, replies): yields the thread while the queue is full.
    /// Once the shard has exited the envelope is dropped as a dead letter.
    pub(crate) fn inject_waiting(&self, mut envelope: Injected) {
        loop {
            match self.inject(envelope) {
                Ok(()) => return,
                Err(InjectError::Exited(back)) => {
                    self.discard(DeadLetterCause::ShardExited, back);
                    return;
                }
                Err(InjectError::Full(back)) => envelope = back,
            }
            std::thread::yield_now();
        }
    }

    /// Whether the shard's loop has ended (then none of its actors is
    /// alive, including spawns that were on their way to it).
    pub(crate) fn has_exited(&self) -> bool {
        self.exited.load(Ordering::SeqCst)
    }

    /// Drops whatever waits in the injector of an exited shard.
    fn drain_exited(&self) {
        while let Some(envelope) = self.injector.pop() {
            self.discard(DeadLetterCause::ShardExited, envelope);
        }
    }

    /// Drops an envelope nobody will deliver, counted as a dead letter of
    /// `cause` if it is a letter.
    pub(crate) fn discard(&self, cause: DeadLetterCause, envelope: Injected) {
        self.count_dead_letters(cause, usize::from(envelope.kind.is_letter()));
        crate::base::drop_caught(envelope);
    }

    pub(crate) fn count_dead_letters(&self, cause: DeadLetterCause, n: usize) {
        if n > 0 {
            self.dead_letters[cause as usize].fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// A never-used slot index of this shard.
    pub(crate) fn reserve_slot(&self) -> Result<u32, crate::SpawnError> {
        let slot = self.next_slot.fetch_add(1, Ordering::Relaxed);
        if slot >= MAX_SLOTS {
            self.next_slot.store(MAX_SLOTS, Ordering::Relaxed);
            return Err(crate::SpawnError::TooManyActors);
        }
        Ok(slot)
    }

    /// A slot for a spawn from another shard or thread: a freed one the
    /// shard reserved for this, or a never-used one. `(slot, generation)`.
    /// `from_outside`: a thread outside the runtime, which can retry, gets
    /// `Busy` while the shard still holds free slots it has not offered yet.
    pub(crate) fn take_slot(&self, from_outside: bool) -> Result<(u32, u32), crate::SpawnError> {
        if let Some(slot) = self.free_slots.pop() {
            return Ok(slot);
        }
        if from_outside && self.free_unoffered.load(Ordering::Relaxed) > 0 {
            return Err(crate::SpawnError::Busy);
        }
        Ok((self.reserve_slot()?, 0))
    }

    /// Gives back a slot from [`take_slot`](Self::take_slot) that was not
    /// used after all (the spawn was refused): no ref to it was handed out,
    /// so the next spawner may take it as it is. If the queue is full the
    /// slot stays reserved, unused.
    pub(crate) fn untake_slot(&self, slot: u32, generation: u32) {
        if self.free_slots.push((slot, generation)).is_err() {
            self.returned_slots.lock().unwrap_or_else(|e| e.into_inner()).push((slot, generation));
            self.slots_returned.store(true, Ordering::Release);
        }
    }
}

/// The ring ends one shard owns, handed to it when it starts.
#[derive(Debug)]
pub(crate) struct ShardEnds {
    /// `inbound[i]` carries entries from shard `i` (None for itself).
    pub(crate) inbound: Vec<Option<EntryConsumer>>,
    /// `outbound[i]` carries entries to shard `i` (None for itself).
    pub(crate) outbound: Vec<Option<EntryProducer>>,
}

/// A registered name.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    pub(crate) shard: u16,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
    pub(crate) fns: &'static crate::base::actor_fns::ActorFns,
}

/// The shared state of one runtime's shards.
#[derive(Debug)]
pub struct Mesh {
    pub(crate) id: u32,
    pub(crate) config: ShardConfig,
    pub(crate) shards: Box<[ShardShared]>,
    ends: Mutex<Vec<Option<ShardEnds>>>,
    /// One of [`phase`]'s constants. Moves forward only, by CAS.
    phase: AtomicU8,
    /// Shutdown's drain: which shards are quiet, and whether every shard
    /// was found quiet at once (see [`Quiescence`]).
    pub(crate) drain: Quiescence,
    /// Shards that have stopped all their actors.
    stopped_shards: AtomicUsize,
    /// `Shutdown` futures pending on a shard of this mesh: shards keep
    /// running after the last actor stopped until these have seen it.
    shutdown_waiting: AtomicUsize,
    round_robin: AtomicUsize,
    /// Bumped by [`wake_all`](Self::wake_all) before it rings: a shard that
    /// was polling (not parked, so not rung) sees the change and looks at
    /// the mesh again.
    pub(crate) nudges: AtomicU64,
    pub(crate) registry: Mutex<HashMap<String, Registration>>,
    /// Wakers of pending `Shutdown` futures, by the future's key.
    shutdown_waiters: Mutex<HashMap<u64, Waker>>,
    next_waiter: AtomicU64,
    /// When the mesh was built: the epoch of `shutdown_deadline`.
    created: Instant,
    /// Nanoseconds after `created` when draining ends anyway; `u64::MAX`
    /// until shutdown begins.
    shutdown_deadline: AtomicU64,
    /// The drain ran into its deadline.
    timed_out: AtomicBool,
}

/// Every live mesh, by id, so an `ActorRef` (which names its mesh by id) can
/// be routed from any thread. Read-locked only on sends from threads outside
/// the runtime; shards reach their mesh directly. Ids are never reused, so a
/// ref kept from a dropped runtime finds nothing and reports `Closed`.
static MESHES: RwLock<Option<HashMap<u32, Weak<Mesh>>>> = RwLock::new(None);

/// The next mesh id.
static NEXT_MESH: AtomicU32 = AtomicU32::new(0);

impl Mesh {
    /// Builds the rings and queues for `config.shards` shards: `shards *
    /// (shards - 1)` rings of `ring_capacity` envelopes, allocated now
    /// ([`ShardConfig::ring_memory`]).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when `config` breaks a rule
    /// ([`ShardConfig::validate`]), or when the process has already built
    /// 2^32 meshes.
    pub fn new(config: ShardConfig) -> Result<Arc<Self>, ConfigError> {
        config.validate()?;
        let n = config.shards;
        let doorbells: Vec<Arc<Doorbell>> = (0..n).map(|_| Arc::new(Doorbell::new())).collect();
        let mut ends: Vec<ShardEnds> = (0..n)
            .map(|_| ShardEnds {
                inbound: (0..n).map(|_| None).collect(),
                outbound: (0..n).map(|_| None).collect(),
            })
            .collect();
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    let words = config.ring_capacity * RING_SLOT_WORDS;
                    let (tx, rx) = entry_ring::channel(
                        words,
                        MAX_ENTRY_WORDS.min(words),
                        entry::drop_entry,
                        doorbells[to].clone(),
                    )
                    .map_err(|_| ConfigError::RingCapacity(config.ring_capacity))?;
                    ends[from].outbound[to] = Some(tx);
                    ends[to].inbound[from] = Some(rx);
                }
            }
        }
        let shards = doorbells.into_iter().map(|d| ShardShared::new(d, &config)).collect();
        let id = NEXT_MESH
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| id.checked_add(1))
            .map_err(|_| ConfigError::TooManyRuntimes)?;
        let mesh = Arc::new(Self {
            id,
            config,
            shards,
            ends: Mutex::new(ends.into_iter().map(Some).collect()),
            phase: AtomicU8::new(phase::RUNNING),
            drain: Quiescence::new(n),
            stopped_shards: AtomicUsize::new(0),
            shutdown_waiting: AtomicUsize::new(0),
            round_robin: AtomicUsize::new(0),
            nudges: AtomicU64::new(0),
            registry: Mutex::new(HashMap::new()),
            shutdown_waiters: Mutex::new(HashMap::new()),
            next_waiter: AtomicU64::new(0),
            created: Instant::now(),
            shutdown_deadline: AtomicU64::new(u64::MAX),
            timed_out: AtomicBool::new(false),
        });
        MESHES
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(id, Arc::downgrade(&mesh));
        Ok(mesh)
    }

    /// The mesh with this id, if it is alive.
    pub(crate) fn find(id: u32) -> Option<Arc<Mesh>> {
        let meshes = MESHES.read().unwrap_or_else(|e| e.into_inner());
        meshes.as_ref()?.get(&id).and_then(Weak::upgrade)
    }

    /// The configuration the shards run with.
    pub fn config(&self) -> &ShardConfig {
        &self.config
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard's ring ends; each can be taken once.
    pub(crate) fn take_ends(&self, shard: usize) -> Option<ShardEnds> {
        self.ends.lock().unwrap_or_else(|e| e.into_inner()).get_mut(shard)?.take()
    }

    /// Marks a shard that will never run (its executor failed to start, or
    /// an embedder dropped its runner): its rings close, and shutdown does
    /// not wait for it. Does nothing to a shard that runs or ran.
    pub fn abandon_shard(&self, shard: usize) {
        if let Some(ends) = self.take_ends(shard) {
            drop(ends);
            self.shard_exited(shard);
        }
    }

    /// Shard `shard`'s loop has ended, for whatever reason: it counts as
    /// stopped and quiet, work injected for it is dropped, and the other
    /// shards look at the mesh again.
    pub(crate) fn shard_exited(&self, shard: usize) {
        let s = &self.shards[shard];
        self.drain.retire(shard);
        s.exited.store(true, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
        s.drain_exited();
        self.shard_stopped(shard);
        self.wake_all();
    }

    /// Shard `shard` has stopped all its actors (or exited); the last shard
    /// to do so ends the shutdown, from whatever phase: with no shard left
    /// to run actors, the runtime is done.
    pub(crate) fn shard_stopped(&self, shard: usize) {
        if self.shards[shard].stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.stopped_shards.fetch_add(1, Ordering::AcqRel) + 1 == self.shard_count() {
            let mut from = self.phase();
            while from != phase::DONE && !self.advance(from, phase::DONE) {
                from = self.phase();
            }
        }
    }

    /// The current phase (see [`phase`]). Acquire: a shard that sees a new
    /// phase also sees what the shard that moved it did before.
    pub(crate) fn phase(&self) -> u8 {
        self.phase.load(Ordering::Acquire)
    }

    /// Moves from `from` to `to` if still in `from`; wakes every shard.
    pub(crate) fn advance(&self, from: u8, to: u8) -> bool {
        let moved =
            self.phase.compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if moved {
            if to == phase::STOPPING {
                // Nothing becomes busy after the drain, whoever ended it.
                self.drain.seal();
            }
            if to == phase::DONE {
                // Every shard has stopped, so none is left to see STOPPING.
                let waiters: Vec<Waker> = self
                    .shutdown_waiters
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .drain()
                    .map(|(_, w)| w)
                    .collect();
                waiters.into_iter().for_each(Waker::wake);
            }
            self.wake_all();
        }
        moved
    }

    /// Asks every shard to look at the mesh again: shards that poll see the
    /// nudge count change, parked ones are rung.
    pub(crate) fn wake_all(&self) {
        // SeqCst: ordered before the rings' loads of each doorbell's epoch,
        // as a parking shard's epoch store is before its re-check of this
        // count (the doorbell's Dekker pattern, with this as the item).
        self.nudges.fetch_add(1, Ordering::SeqCst);
        for shard in self.shards.iter() {
            shard.doorbell.ring(&mut 0);
        }
    }

    // ----- the drain ----------------------------------------------------
    //
    // During DRAINING every shard alternates between busy and quiet; the
    // drain is over when every shard is quiet at once (see `Quiescence`). A
    // shard marks itself busy before it takes anything from a ring or its
    // injector, and a task marks its shard busy before it sends anything;
    // once the decision is made those marks fail, and the send is refused.

    /// Shard `shard` has work again. Returns false once the drain is over.
    pub(crate) fn note_busy(&self, shard: usize) -> bool {
        self.drain.note_busy(shard)
    }

    /// Shard `shard` is quiet. If every shard is, the drain is over and
    /// actors may be stopped.
    pub(crate) fn note_quiet(&self, shard: usize) {
        let (newly, sealed) = self.drain.note_quiet(shard);
        if sealed {
            self.advance(phase::DRAINING, phase::STOPPING);
        } else if newly {
            // A shard can be held back only by a receiver that has not yet
            // taken what it sent, and receivers do not ring senders: wake
            // everyone to look again.
            self.wake_all();
        }
    }

    /// The time left until the shutdown deadline, if shutdown has begun.
    pub(crate) fn until_deadline(&self) -> Option<Duration> {
        let deadline = self.shutdown_deadline.load(Ordering::Relaxed);
        if deadline == u64::MAX {
            return None;
        }
        let now = self.created.elapsed().as_nanos() as u64;
        Some(Duration::from_nanos(deadline.saturating_sub(now)))
    }

    /// Ends the drain at its deadline: actors are stopped with what they
    /// still hold, counted as dead letters of cause `ShutdownTimeout`.
    pub(crate) fn drain_timed_out(&self) {
        if self.phase() == phase::DRAINING {
            // Set first so that every dead letter of the stop gets the
            // cause; taken back if the drain ended by itself meanwhile.
            self.timed_out.store(true, Ordering::SeqCst);
            if self.advance(phase::DRAINING, phase::STOPPING) {
                tracing::warn!(mesh = self.id, "shutdown deadline passed: stopping actors");
            } else {
                self.timed_out.store(false, Ordering::SeqCst);
            }
        }
    }

    /// The cause of a message dropped because its actor stopped: a plain
    /// stop, or the shutdown deadline.
    pub(crate) fn stop_cause(&self) -> DeadLetterCause {
        if self.timed_out.load(Ordering::Relaxed) {
            DeadLetterCause::ShutdownTimeout
        } else {
            DeadLetterCause::Stopped
        }
    }

    // ----- shutdown ------------------------------------------------------

    /// Starts shutdown with the configured deadline
    /// ([`ShardConfig::shutdown_timeout`]): no new work from outside, timers
    /// cancelled, actors drain, then stop. Returns false if shutdown had
    /// already started.
    pub fn begin_shutdown(&self) -> bool {
        self.begin_shutdown_within(self.config.shutdown_timeout)
    }

    /// As [`begin_shutdown`](Self::begin_shutdown), with a deadline of
    /// `timeout` from now; a shutdown already under way gets the earlier of
    /// its deadline and this one.
    pub fn begin_shutdown_within(&self, timeout: Duration) -> bool {
        let at = self.created.elapsed().saturating_add(timeout).as_nanos();
        let at = u64::try_from(at).unwrap_or(u64::MAX - 1);
        self.shutdown_deadline.fetch_min(at, Ordering::Relaxed);
        let began = self.advance(phase::RUNNING, phase::DRAINING);
        if began {
            tracing::info!(runtime = self.id, ?timeout, "shutdown begins: actors drain");
        }
        // A shard parked with the old deadline must look at the new one.
        self.wake_all();
        began
    }

    /// Whether every actor has been stopped.
    pub fn is_shut_down(&self) -> bool {
        self.phase() == phase::DONE
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.phase() != phase::RUNNING
    }

    /// What the shutdown did (meaningful once [`is_shut_down`](Self::is_shut_down)).
    pub fn shutdown_report(&self) -> ShutdownReport {
        let stats = self.stats();
        ShutdownReport {
            timed_out: self.timed_out.load(Ordering::SeqCst),
            cut_short: stats.dead_letters_of(DeadLetterCause::ShutdownTimeout),
            dead_letters: stats.dead_letters,
        }
    }

    /// A key for [`wait_shut_down`](Self::wait_shut_down).
    pub fn shutdown_waiter_key(&self) -> u64 {
        self.next_waiter.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers `waker` under `key` (replacing what that key registered) to
    /// be woken when shutdown completes. Returns whether it already has.
    pub fn wait_shut_down(&self, key: u64, waker: &Waker) -> bool {
        if self.is_shut_down() {
            return true;
        }
        // A replaced waker is dropped after the lock is released: dropping
        // a waker may run code that comes back here.
        let _replaced = {
            let mut waiters = self.shutdown_waiters.lock().unwrap_or_else(|e| e.into_inner());
            match waiters.get(&key) {
                Some(old) if old.will_wake(waker) => None,
                _ => waiters.insert(key, waker.clone()),
            }
        };
        self.is_shut_down()
    }

    /// Forgets the waker registered under `key` (dropped outside the lock).
    pub fn stop_waiting(&self, key: u64) {
        let removed = self.shutdown_waiters.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        drop(removed);
    }

    /// A `Shutdown` future on one of this mesh's shards is pending: shards
    /// keep running after the last actor stopped until it has completed.
    pub fn shutdown_waiter_on_shard(&self) {
        self.shutdown_waiting.fetch_add(1, Ordering::AcqRel);
    }

    /// The future counted by
    /// [`shutdown_waiter_on_shard`](Self::shutdown_waiter_on_shard) is done.
    pub fn shutdown_waiter_done(&self) {
        if self.shutdown_waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake_all();
        }
    }

    pub(crate) fn shutdown_waiters_on_shards(&self) -> usize {
        self.shutdown_waiting.load(Ordering::Acquire)
    }

    // ----- work from outside ----------------------------------------------

    /// Runs `f` on shard `shard` (through its injection queue). Hands `f`
    /// back if the queue is full, the shard does not exist or has exited.
    /// A panic in `f` is caught and logged; the shard carries on.
    #[allow(clippy::type_complexity)]
    pub fn run_on(
        &self,
        shard: usize,
        f: Box<dyn FnOnce() + Send>,
    ) -> Result<(), Box<dyn FnOnce() + Send>> {
        let Some(target) = self.shards.get(shard) else { return Err(f) };
        target.inject(crate::base::injected::injected_run(f)).map_err(|error| {
            let (InjectError::Full(envelope) | InjectError::Exited(envelope)) = error;
            envelope.payload.downcast().unwrap_or_else(|_| unreachable!("run payload"))
        })
    }

    /// Live actors and queued messages on `shard`, as of its last pass.
    pub fn load(&self, shard: usize) -> (usize, usize) {
        let s = &self.shards[shard];
        (s.actors.load(Ordering::Relaxed), s.queued.load(Ordering::Relaxed))
    }

    /// The next shard in round-robin order.
    pub fn next_round_robin(&self) -> usize {
        self.round_robin.fetch_add(1, Ordering::Relaxed) % self.shards.len()
    }

    /// A snapshot of the runtime's counters.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for s in self.shards.iter() {
            stats.actors += s.actors.load(Ordering::Relaxed);
            stats.queued += s.queued.load(Ordering::Relaxed);
            stats.slots += s.slots.load(Ordering::Relaxed);
            for (total, count) in stats.dead_letter_causes.iter_mut().zip(&s.dead_letters) {
                *total += count.load(Ordering::Relaxed);
            }
            stats.wakes += s.wakes.load(Ordering::Relaxed);
            stats.restarts += s.restarts.load(Ordering::Relaxed);
        }
        stats.dead_letters = stats.dead_letter_causes.iter().sum();
        stats
    }

    /// Messages counted as dead letters so far, over all shards.
    pub fn dead_letters(&self) -> u64 {
        self.stats().dead_letters
    }

    /// The address (shard, slot, generation) of the actor registered as
    /// `name`, whatever its message type.
    pub(crate) fn address_of(&self, name: &str) -> Option<(u16, u32, u32)> {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        registry.get(name).map(|r| (r.shard, r.slot, r.generation))
    }

    /// Frees every name of the actor at this address (it stopped for good).
    pub(crate) fn forget_names(&self, shard: u16, slot: u32, generation: u32) {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let before = registry.len();
        registry.retain(|_, r| !(r.shard == shard && r.slot == slot && r.generation == generation));
        let freed = before - registry.len();
        if freed > 0 {
            self.shards[shard as usize].registered.fetch_sub(freed, Ordering::Relaxed);
        }
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        if let Some(meshes) = MESHES.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            meshes.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use glommio::{LocalExecutorBuilder, Placement};

    use super::*;

    /// A slot given back while the offer queue was
    /// full went to a side list nobody read, so it was never used again.
    #[test]
    fn a_slot_returned_while_the_offer_queue_was_full_is_offered_again() {
        let config = ShardConfig {
            shards: 1,
            ring_capacity: 64,
            mailbox_capacity: 64,
            turn_budget: 16,
            injector_capacity: 64,
            spin_before_park: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(10),
            dead_letter_hook: None,
            arena_budget: None,
            metrics: true,
            handling_time_sample_every: 1024,
        };
        let mesh = Mesh::new(config).unwrap();
        let shared = &mesh.shards[0];
        // Spawners from outside took every offered slot and gave them back
        // (their spawns were refused), filling the offer queue...
        for _ in 0..FREE_SLOTS_OFFERED {
            let slot = shared.reserve_slot().unwrap();
            shared.untake_slot(slot, 0);
        }
        // ...so this one has no room there.
        let returned = shared.reserve_slot().unwrap();
        shared.untake_slot(returned, 0);
        // Later spawns take all the offered ones.
        while shared.free_slots.pop().is_some() {}

        let runner = mesh.clone();
        let shard = LocalExecutorBuilder::new(Placement::Unbound)
            .spawn(move || crate::run_shard(runner, 0))
            .unwrap();
        // A pass ends with the shard offering its free slots again.
        let (tx, rx) = std::sync::mpsc::channel();
        assert!(mesh.run_on(0, Box::new(move || tx.send(()).unwrap())).is_ok());
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
        let since = Instant::now();
        let offered = loop {
            if let Some(offered) = shared.free_slots.pop() {
                break Some(offered);
            }
            if since.elapsed() > Duration::from_secs(30) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(offered, Some((returned, 0)), "the returned slot is offered again");
        mesh.begin_shutdown();
        assert!(shard.join().unwrap());
    }
}
