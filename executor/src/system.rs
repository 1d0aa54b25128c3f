//! `System`: what a program does with a running runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::refs::registry::{self, RegistryError};
use crate::shard::ops::lifecycle::Setup;
use crate::{
    Actor, ActorRef, Mesh, RestartPolicy, Schedule, ShutdownReport, SpawnError, Stats, Supervisor,
    SupervisorRef,
};

/// Where to spawn an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On shard `i`, an index below the runtime's shard count (else the
    /// spawn fails with [`SpawnError::NoSuchShard`](crate::SpawnError)).
    Shard(usize),
    /// On the shards in turn.
    RoundRobin,
    /// On the shard with the fewest actors plus queued messages.
    LeastLoaded,
    /// On the same shard as another actor (see [`Placement::near`]).
    Near(usize),
}

impl Placement {
    /// On the same shard as `actor`: the two then talk without crossing
    /// cores.
    pub fn near<M>(actor: &ActorRef<M>) -> Self {
        Self::Near(actor.shard())
    }
}

/// How to spawn an actor besides its factory: where, how it is restarted,
/// how its shard schedules it, and its arena's budget
/// ([`System::spawn_with_options`]).
///
/// ```
/// use whirl_executor::{Placement, Priority, RestartPolicy, Schedule, SpawnOptions};
///
/// let options = SpawnOptions::new(Placement::Shard(0))
///     .restart(RestartPolicy::default())
///     .schedule(Schedule::new().priority(Priority::High));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SpawnOptions {
    placement: Placement,
    setup: Setup,
}

impl SpawnOptions {
    /// Spawn where `placement` says, never restarted, `Normal` priority,
    /// the runtime's arena budget: what [`System::spawn_with`] does.
    pub fn new(placement: Placement) -> Self {
        Self { placement, setup: Setup::default() }
    }

    /// Restart the actor in place as `policy` says when it fails.
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.setup.policy = policy;
        self
    }

    /// Schedule it as `schedule` says (priority class, turn budget).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.setup.schedule = schedule;
        self
    }

    /// Bound its arena ([`Context::arena`](crate::Context::arena)) to
    /// `bytes` instead of the runtime's default.
    pub fn arena_budget(mut self, bytes: usize) -> Self {
        self.setup.arena_budget = Some(bytes);
        self
    }
}

/// A handle to a runtime: spawn actors, name them, shut down. Cheap to
/// clone, usable from shards and from any other thread.
#[derive(Debug, Clone)]
pub struct System {
    mesh: Arc<Mesh>,
}

impl System {
    /// The system of the runtime whose shared state is `mesh` (for the
    /// `whirl` crate, which builds runtimes).
    #[doc(hidden)]
    pub fn new(mesh: Arc<Mesh>) -> Self {
        Self { mesh }
    }

    /// The runtime's shared state (for the `whirl` crate).
    #[doc(hidden)]
    pub fn mesh(&self) -> &Arc<Mesh> {
        &self.mesh
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.mesh.shard_count()
    }

    /// The shard the calling thread runs, if it is one of this runtime's.
    pub fn current_shard(&self) -> Option<usize> {
        crate::current_shard(&self.mesh)
    }

    /// Spawns an actor round-robin over the shards.
    ///
    /// # Errors
    ///
    /// As [`spawn_with`](Self::spawn_with).
    pub fn spawn<A: Actor>(
        &self,
        factory: impl Fn() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.spawn_with(Placement::RoundRobin, factory)
    }

    /// Spawns an actor on shard `shard`.
    ///
    /// # Errors
    ///
    /// As [`spawn_with`](Self::spawn_with).
    pub fn spawn_on<A: Actor>(
        &self,
        shard: usize,
        factory: impl Fn() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.spawn_with(Placement::Shard(shard), factory)
    }

    /// Spawns the actor `factory` builds where `placement` says. The factory
    /// runs on the chosen shard and is kept for restarts.
    ///
    /// # Errors
    ///
    /// [`SpawnError::NoSuchShard`] for a shard index out of range,
    /// [`SpawnError::ShuttingDown`] during shutdown, [`SpawnError::Busy`]
    /// from outside the runtime when the shard's injection queue is full.
    pub fn spawn_with<A: Actor>(
        &self,
        placement: Placement,
        factory: impl Fn() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.spawn_restarting(placement, RestartPolicy::never(), factory)
    }

    /// Spawns an actor that is never restarted from a one-shot `build`
    /// (it may move in what cannot be cloned: a channel end, a file).
    /// `build` runs once, on the chosen shard, so the actor it returns need
    /// not be `Send`, but `build` itself and what it captures must be;
    /// `spawn_once(p, move || actor)` spawns a `Send` value.
    ///
    /// A connection accepted on one shard and owned by an actor on another:
    /// accept it with glommio's `TcpListener::shared_accept` (a `Send`
    /// stream) and call `bind_to_executor` on it inside `build`. A value that
    /// is not `Send` (a glommio `TcpStream` accepted here, an `Rc`) is
    /// spawned on the shard it is on with [`spawn_local`](Self::spawn_local).
    /// `tests/local_actors.rs` does both.
    ///
    /// Restartable actors take an `Fn` factory instead (`spawn_with`,
    /// `spawn_restarting`, [`ChildSpec`](crate::ChildSpec)): a restart
    /// builds a fresh actor from it, and a value that was moved into the
    /// first one cannot be moved again.
    ///
    /// # Errors
    ///
    /// As [`spawn_with`](Self::spawn_with); `build` is dropped unrun.
    pub fn spawn_once<A: Actor>(
        &self,
        placement: Placement,
        build: impl FnOnce() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        let build = std::cell::Cell::new(Some(build));
        self.spawn_with(placement, move || {
            // Never restarted (`RestartPolicy::never`): called once.
            let build = build.take().expect("a spawn_once actor is built once");
            build()
        })
    }

    /// Spawns `actor`, a value already built, on the shard this is called
    /// on: from a program task (`Runtime::block_on`), a piped job, or any
    /// glommio task on one of this runtime's shards. The actor need not be
    /// `Send`: it may own what lives on this shard only — an accepted
    /// `glommio::net::TcpStream`, an `Rc`, a file. It is never restarted
    /// (there is no factory to build another); handlers use
    /// [`Context::spawn_local`](crate::Context::spawn_local). The `whirl`
    /// crate's docs show it; its `tests/local_actors.rs` gives an actor an
    /// accepted connection.
    ///
    /// # Errors
    ///
    /// [`SpawnError::NotOnAShard`] off this runtime's shards (the actor is
    /// dropped); [`SpawnError::ShuttingDown`] during shutdown.
    pub fn spawn_local<A: Actor>(&self, actor: A) -> Result<ActorRef<A::Msg>, SpawnError> {
        crate::actor::spawn::spawn_local(&self.mesh, actor)
    }

    /// Spawns the supervisor `spec` where `placement` says; it starts its
    /// children (each on its own shard, if its spec names one) in order, in
    /// its first turn. Its children are restarted behind the same refs and
    /// names, as its strategy and intensity say; a failure that exceeds the
    /// intensity of this top-level supervisor is logged and stops its whole
    /// subtree for good, not the runtime. [`SupervisorRef::stop`] stops the
    /// tree.
    ///
    /// # Errors
    ///
    /// [`SpawnError::InvalidSupervisor`] when a child is placed on a shard
    /// the runtime does not have, or two children share an id; otherwise as
    /// [`spawn_with`](Self::spawn_with).
    pub fn spawn_supervisor(
        &self,
        placement: Placement,
        spec: Supervisor,
    ) -> Result<SupervisorRef, SpawnError> {
        crate::spawn_supervisor(&self.mesh, self.place(placement), spec)
    }

    /// Spawns the actor `factory` builds where `placement` says, restarted
    /// in place as `policy` says when it fails: the same refs and names
    /// reach each new incarnation (see [`RestartPolicy`]).
    ///
    /// # Errors
    ///
    /// As [`spawn_with`](Self::spawn_with).
    pub fn spawn_restarting<A: Actor>(
        &self,
        placement: Placement,
        policy: RestartPolicy,
        factory: impl Fn() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        crate::spawn_on_with(&self.mesh, self.place(placement), policy, factory)
    }

    /// Spawns the actor `factory` builds as `options` say (placement,
    /// restart policy, schedule, arena budget).
    ///
    /// # Errors
    ///
    /// As [`spawn_with`](Self::spawn_with).
    pub fn spawn_with_options<A: Actor>(
        &self,
        options: SpawnOptions,
        factory: impl Fn() -> A + Send + 'static,
    ) -> Result<ActorRef<A::Msg>, SpawnError> {
        crate::actor::spawn::spawn_set_up(
            &self.mesh,
            self.place(options.placement),
            options.setup,
            factory,
        )
    }

    /// The shard `placement` picks.
    fn place(&self, placement: Placement) -> usize {
        match placement {
            Placement::Shard(shard) | Placement::Near(shard) => shard,
            Placement::RoundRobin => self.mesh.next_round_robin(),
            Placement::LeastLoaded => (0..self.shards())
                .min_by_key(|&s| {
                    let (actors, queued) = self.mesh.load(s);
                    actors + queued
                })
                .unwrap_or(0),
        }
    }

    /// Names `actor`. The name frees itself when the actor stops for good.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NameTaken`] if another actor has the name.
    pub fn register<M: Send + 'static>(
        &self,
        name: &str,
        actor: ActorRef<M>,
    ) -> Result<(), RegistryError> {
        registry::register(&self.mesh, name, actor)
    }

    /// Frees `name` before its actor stops; returns whether it was taken.
    pub fn unregister(&self, name: &str) -> bool {
        registry::unregister(&self.mesh, name)
    }

    /// The actor named `name`, if it handles `M`.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`], or [`RegistryError::WrongType`] when the
    /// actor handles another message type.
    pub fn lookup<M: Send + 'static>(&self, name: &str) -> Result<ActorRef<M>, RegistryError> {
        registry::lookup(&self.mesh, name)
    }

    /// Messages counted as dead letters so far (sent to stopped actors,
    /// queued when an actor stopped, or answers to asks that gave up).
    pub fn dead_letters(&self) -> u64 {
        self.mesh.dead_letters()
    }

    /// A snapshot of the runtime's counters (actors, queued messages, dead
    /// letters, wake-ups of parked shards): atomic loads, on any thread.
    pub fn stats(&self) -> Stats {
        self.mesh.stats()
    }

    /// Every shard's and every actor's counters, read on each shard's own
    /// thread while the shards keep running (see [`Snapshot`]). Works from
    /// any shard or thread.
    ///
    /// [`Snapshot`]: crate::Snapshot
    pub fn snapshot(&self) -> impl Future<Output = crate::Snapshot> + Send + 'static {
        self.mesh.snapshot()
    }

    /// The counters of the actor registered as `name`, as
    /// [`ActorRef::stats`].
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] if no actor has this name (names free
    /// themselves when their actor stops for good), or its actor stopped
    /// before its shard read it.
    pub fn stats_of(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<crate::ActorStats, RegistryError>> + Send + 'static {
        let found = self.mesh.address_of(name);
        let mesh = self.mesh.clone();
        let name = name.to_owned();
        async move {
            let not_found = || RegistryError::NotFound(name.clone());
            let (shard, slot, generation) = found.ok_or_else(not_found)?;
            mesh.actor_stats(shard as usize, slot, generation).await.ok_or_else(not_found)
        }
    }

    /// Starts shutdown (see `whirl::Runtime`) with the deadline from
    /// `whirl::Builder::shutdown_timeout`,
    /// and resolves once every actor has stopped, with what was cut short.
    pub fn shutdown(&self) -> Shutdown {
        self.mesh.begin_shutdown();
        Shutdown::new(self.mesh.clone())
    }

    /// As [`shutdown`](Self::shutdown), with a deadline of `timeout` from
    /// now (the earlier deadline wins if shutdown is already under way).
    pub fn shutdown_timeout(&self, timeout: std::time::Duration) -> Shutdown {
        self.mesh.begin_shutdown_within(timeout);
        Shutdown::new(self.mesh.clone())
    }
}

/// Resolves once every actor of the runtime has stopped, with a
/// [`ShutdownReport`].
///
/// Awaited on one of the runtime's shards (in a `block_on` program, say), it
/// keeps that shard's executor running until it has resolved, so the program
/// can finish after the shutdown.
#[derive(Debug)]
#[must_use = "shutdown has begun; await this to wait for every actor to stop"]
pub struct Shutdown {
    mesh: Arc<Mesh>,
    /// This future's waker registration.
    key: u64,
    /// Counted in the mesh's shutdown waiters on shards.
    counted: bool,
}

/// A handler reaches its runtime (here, above the actor layer, which knows
/// nothing of `System`).
impl<A: Actor> crate::Context<A> {
    /// The runtime this actor runs in, as a [`System`](crate::System): look
    /// up names, spawn anywhere (with a restart policy, a supervisor), read
    /// stats, from a handler, without a `System` captured in each factory.
    /// A clone of one `Arc` (an atomic increment): keep it in the actor if
    /// a hot handler needs it each time.
    pub fn system(&self) -> System {
        System::new(self.shard().mesh.clone())
    }
}

impl Shutdown {
    fn new(mesh: Arc<Mesh>) -> Self {
        let key = mesh.shutdown_waiter_key();
        Self { mesh, key, counted: false }
    }

    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            self.mesh.shutdown_waiter_done();
        }
    }
}

impl Future for Shutdown {
    type Output = ShutdownReport;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ShutdownReport> {
        if !self.counted && !self.mesh.is_shut_down() && crate::current_shard(&self.mesh).is_some()
        {
            self.counted = true;
            self.mesh.shutdown_waiter_on_shard();
        }
        if self.mesh.wait_shut_down(self.key, cx.waker()) {
            self.mesh.stop_waiting(self.key);
            self.uncount();
            Poll::Ready(self.mesh.shutdown_report())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Shutdown {
    fn drop(&mut self) {
        self.mesh.stop_waiting(self.key);
        self.uncount();
    }
}
