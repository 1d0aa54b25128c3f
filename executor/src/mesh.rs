//! The state all shards of one runtime share: one ring per ordered pair of
//! shards, each shard's doorbell and injection queue, the shutdown phase and
//! the name registry.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::Waker;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use whirl_mailbox::spsc::{self, Consumer, Producer};
use whirl_mailbox::{CapacityError, Doorbell};

use crate::envelope::Envelope;

/// How the shards of a mesh run. Validated by the runtime's builder.
#[derive(Debug, Clone)]
pub struct ShardConfig {
    /// Number of shards.
    pub shards: usize,
    /// Slots in each ring between two shards (a power of two).
    pub ring_capacity: usize,
    /// Default bound of each actor's mailbox.
    pub mailbox_capacity: usize,
    /// Messages an actor handles per turn before the shard moves on to the
    /// next ready actor.
    pub fairness_budget: usize,
    /// Slots of each shard's queue for sends from threads outside the runtime.
    pub injector_capacity: usize,
    /// How long an idle shard keeps polling before it parks.
    pub spin_before_park: Duration,
}

/// Phases of a mesh's life (see [`Mesh::phase`]).
pub(crate) mod phase {
    /// Normal operation.
    pub(crate) const RUNNING: u8 = 0;
    /// Shutdown asked: no new work from outside, timers cancelled, actors
    /// drain their mailboxes until every shard is quiet at once.
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
    /// Envelopes from threads outside the runtime.
    pub(crate) injector: ArrayQueue<Envelope>,
    /// Next never-used slot index. Spawns from other shards reserve an index
    /// here so they can return an `ActorRef` at once; Relaxed, only the
    /// uniqueness of each index matters.
    pub(crate) next_slot: AtomicU32,
    /// Live actors on this shard (for placement). Relaxed: a statistic.
    pub(crate) actors: AtomicUsize,
    /// Messages queued in this shard's mailboxes, as of its last pass.
    pub(crate) queued: AtomicUsize,
    /// Messages this shard counted as dead letters.
    pub(crate) dead_letters: AtomicU64,
    /// Names registered for actors of this shard (so a stopping actor only
    /// takes the registry lock when there may be a name to free).
    pub(crate) registered: AtomicUsize,
    /// Times this shard's publications woke a parked shard.
    pub(crate) wakes: AtomicU64,
    /// During shutdown: this shard found nothing to do in its last pass.
    pub(crate) quiet: std::sync::atomic::AtomicBool,
}

impl ShardShared {
    /// Queues `envelope` from outside the shard's thread and wakes the shard
    /// if it is parked. Hands the envelope back if the queue is full.
    pub(crate) fn inject(&self, envelope: Envelope) -> Result<(), Envelope> {
        self.injector.push(envelope)?;
        self.doorbell.ring(&mut 0);
        Ok(())
    }

    /// As [`inject`](Self::inject), for envelopes that must not be lost
    /// (stops, replies): yields the thread while the queue is full.
    pub(crate) fn inject_waiting(&self, mut envelope: Envelope) {
        while let Err(back) = self.inject(envelope) {
            envelope = back;
            std::thread::yield_now();
        }
    }

    /// A never-used slot index of this shard.
    pub(crate) fn reserve_slot(&self) -> Result<u32, crate::SpawnError> {
        let slot = self.next_slot.fetch_add(1, Ordering::Relaxed);
        if slot >= crate::envelope::MAX_SLOTS {
            self.next_slot.store(crate::envelope::MAX_SLOTS, Ordering::Relaxed);
            return Err(crate::SpawnError::TooManyActors);
        }
        Ok(slot)
    }
}

/// The ring ends one shard owns, handed to it when it starts.
#[derive(Debug)]
pub(crate) struct ShardEnds {
    /// `inbound[i]` carries envelopes from shard `i` (None for itself).
    pub(crate) inbound: Vec<Option<Consumer<Envelope>>>,
    /// `outbound[i]` carries envelopes to shard `i` (None for itself).
    pub(crate) outbound: Vec<Option<Producer<Envelope>>>,
}

/// A registered name.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    pub(crate) shard: u16,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

/// The shared state of one runtime's shards.
#[derive(Debug)]
pub struct Mesh {
    pub(crate) id: u16,
    pub(crate) config: ShardConfig,
    pub(crate) shards: Box<[ShardShared]>,
    ends: Mutex<Vec<Option<ShardEnds>>>,
    /// One of [`phase`]'s constants. Moves forward only, by CAS.
    pub(crate) phase: AtomicU8,
    /// Bumped whenever a quiet shard gets work again during shutdown, so a
    /// shard that sees every shard quiet can tell the view was consistent.
    pub(crate) activity: AtomicU64,
    /// Shards that have stopped all their actors.
    pub(crate) stopped_shards: AtomicUsize,
    /// Tasks started by `block_on` that have not finished; shards wait for
    /// them before exiting.
    pub(crate) live_tasks: AtomicUsize,
    pub(crate) round_robin: AtomicUsize,
    /// Bumped by [`wake_all`](Self::wake_all) before it rings: a shard that
    /// was polling (not parked, so not rung) sees the change and looks at
    /// the mesh again.
    pub(crate) nudges: AtomicU64,
    pub(crate) registry: Mutex<HashMap<String, Registration>>,
    pub(crate) shutdown_waiters: Mutex<Vec<Waker>>,
}

/// Counters over all shards of a runtime.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Live actors.
    pub actors: usize,
    /// Messages waiting in mailboxes, as of each shard's last pass.
    pub queued: usize,
    /// Messages counted as dead letters.
    pub dead_letters: u64,
    /// Times a shard's publication woke a parked shard (each goes through
    /// glommio's cross-thread wake-up).
    pub wakes: u64,
}

/// Every live mesh, by id, so an `ActorRef` (which names its mesh by a small
/// id) can be routed from any thread. Read-locked only on sends from threads
/// outside the runtime; shards reach their mesh directly.
static MESHES: RwLock<Vec<Weak<Mesh>>> = RwLock::new(Vec::new());

impl Mesh {
    /// Builds the rings and queues for `config.shards` shards.
    ///
    /// # Errors
    ///
    /// When `config.ring_capacity` is not a valid ring capacity.
    pub fn new(config: ShardConfig) -> Result<Arc<Self>, CapacityError> {
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
                    let (tx, rx) =
                        spsc::channel_with_doorbell(config.ring_capacity, doorbells[to].clone())?;
                    ends[from].outbound[to] = Some(tx);
                    ends[to].inbound[from] = Some(rx);
                }
            }
        }
        let shards = doorbells
            .into_iter()
            .map(|doorbell| ShardShared {
                doorbell,
                injector: ArrayQueue::new(config.injector_capacity),
                next_slot: AtomicU32::new(0),
                actors: AtomicUsize::new(0),
                queued: AtomicUsize::new(0),
                dead_letters: AtomicU64::new(0),
                registered: AtomicUsize::new(0),
                wakes: AtomicU64::new(0),
                quiet: false.into(),
            })
            .collect();
        let mut meshes = MESHES.write().unwrap_or_else(|e| e.into_inner());
        // Reuse the id of a mesh that is gone, so ids stay small.
        let id = meshes.iter().position(|m| m.strong_count() == 0).unwrap_or(meshes.len());
        assert!(id <= u16::MAX as usize, "more than 65536 whirl runtimes alive at once");
        let mesh = Arc::new(Self {
            id: id as u16,
            config,
            shards,
            ends: Mutex::new(ends.into_iter().map(Some).collect()),
            phase: AtomicU8::new(phase::RUNNING),
            activity: AtomicU64::new(0),
            stopped_shards: AtomicUsize::new(0),
            live_tasks: AtomicUsize::new(0),
            round_robin: AtomicUsize::new(0),
            nudges: AtomicU64::new(0),
            registry: Mutex::new(HashMap::new()),
            shutdown_waiters: Mutex::new(Vec::new()),
        });
        if id == meshes.len() {
            meshes.push(Arc::downgrade(&mesh));
        } else {
            meshes[id] = Arc::downgrade(&mesh);
        }
        Ok(mesh)
    }

    /// The mesh with this id, if it is alive.
    pub(crate) fn find(id: u16) -> Option<Arc<Mesh>> {
        let meshes = MESHES.read().unwrap_or_else(|e| e.into_inner());
        meshes.get(id as usize).and_then(Weak::upgrade)
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
            self.wake_all();
            if to == phase::DONE {
                for waker in
                    self.shutdown_waiters.lock().unwrap_or_else(|e| e.into_inner()).drain(..)
                {
                    waker.wake();
                }
            }
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

    /// Starts shutdown: no new work from outside, timers cancelled, actors
    /// drain, then stop. Returns false if shutdown had already started.
    pub fn begin_shutdown(&self) -> bool {
        self.advance(phase::RUNNING, phase::DRAINING)
    }

    /// Whether every actor has been stopped.
    pub fn is_shut_down(&self) -> bool {
        self.phase() == phase::DONE
    }

    /// Runs `f` on shard `shard` (through its injection queue). Hands `f`
    /// back if the queue is full or the shard does not exist.
    #[allow(clippy::type_complexity)]
    pub fn run_on(
        &self,
        shard: usize,
        f: Box<dyn FnOnce() + Send>,
    ) -> Result<(), Box<dyn FnOnce() + Send>> {
        let Some(target) = self.shards.get(shard) else { return Err(f) };
        target
            .inject(crate::shard::run_envelope(f))
            .map_err(|envelope| envelope.into_payload().downcast().expect("run payload"))
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

    /// Counts a task that shards must wait for before exiting.
    pub fn task_started(&self) {
        self.live_tasks.fetch_add(1, Ordering::AcqRel);
    }

    /// The task counted by [`task_started`](Self::task_started) is done.
    pub fn task_finished(&self) {
        if self.live_tasks.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.wake_all();
        }
    }

    /// Registers `waker` to be woken when shutdown completes. Returns whether
    /// it already has.
    pub fn wait_shut_down(&self, waker: &Waker) -> bool {
        if self.is_shut_down() {
            return true;
        }
        self.shutdown_waiters.lock().unwrap_or_else(|e| e.into_inner()).push(waker.clone());
        self.is_shut_down()
    }

    /// A snapshot of the runtime's counters.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for s in self.shards.iter() {
            stats.actors += s.actors.load(Ordering::Relaxed);
            stats.queued += s.queued.load(Ordering::Relaxed);
            stats.dead_letters += s.dead_letters.load(Ordering::Relaxed);
            stats.wakes += s.wakes.load(Ordering::Relaxed);
        }
        stats
    }

    /// Messages counted as dead letters so far, over all shards.
    pub fn dead_letters(&self) -> u64 {
        self.shards.iter().map(|s| s.dead_letters.load(Ordering::Relaxed)).sum()
    }
}
