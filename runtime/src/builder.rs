//! Configuring and starting a runtime.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use whirl_executor::{ConfigError, DeadLetterHook, DeadLetters, Mesh, ShardConfig};

use crate::{Embedded, Error, Runtime};

/// Default bound of an actor's mailbox.
pub const DEFAULT_MAILBOX_CAPACITY: usize = 1024;
/// Default slots in each ring between two shards.
pub const DEFAULT_RING_CAPACITY: usize = 1024;
/// Default messages per actor per turn.
pub const DEFAULT_TURN_BUDGET: usize = 64;

/// The old name of [`DEFAULT_TURN_BUDGET`].
#[deprecated(since = "0.1.0", note = "renamed `DEFAULT_TURN_BUDGET`")]
pub const DEFAULT_FAIRNESS_BUDGET: usize = DEFAULT_TURN_BUDGET;
/// Default slots in each shard's queue for sends from outside the runtime.
pub const DEFAULT_INJECTOR_CAPACITY: usize = 4096;
/// Default longest time an idle shard keeps polling before it parks.
pub const DEFAULT_SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);
/// Default: one turn in this many on each shard is timed for the actors'
/// handling-time histograms.
pub const DEFAULT_HANDLING_TIME_SAMPLE_EVERY: u32 = 1024;

// Numbers the docs quote: a change fails here; update the page named.
const _: () = assert!(DEFAULT_MAILBOX_CAPACITY == 1024, "docs/guarantees.md quotes 1024");
const _: () = assert!(DEFAULT_TURN_BUDGET == 64, "docs/scheduling.md quotes 64");
const _: () =
    assert!(DEFAULT_HANDLING_TIME_SAMPLE_EVERY == 1024, "docs/observability.md quotes 1024");

/// Default time shutdown lets actors drain before it stops them anyway.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Configures a [`Runtime`]; [`build`](Self::build) validates everything and
/// starts one pinned glommio executor per shard.
///
/// ```
/// let rt = whirl::Runtime::builder()
///     .shards(2)
///     .spin_before_park(std::time::Duration::ZERO)
///     .build()?;
/// # Ok::<(), whirl::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    shards: Option<usize>,
    pin: bool,
    spin_before_park: Duration,
    ring_capacity: usize,
    mailbox_capacity: usize,
    turn_budget: usize,
    injector_capacity: usize,
    shutdown_timeout: Duration,
    dead_letter_hook: Option<DeadLetterHook>,
    arena_budget: Option<usize>,
    metrics: bool,
    handling_time_sample_every: u32,
    metrics_endpoint: Option<SocketAddr>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            shards: None,
            pin: true,
            spin_before_park: DEFAULT_SPIN_BEFORE_PARK,
            ring_capacity: DEFAULT_RING_CAPACITY,
            mailbox_capacity: DEFAULT_MAILBOX_CAPACITY,
            turn_budget: DEFAULT_TURN_BUDGET,
            injector_capacity: DEFAULT_INJECTOR_CAPACITY,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            dead_letter_hook: None,
            arena_budget: None,
            metrics: true,
            handling_time_sample_every: DEFAULT_HANDLING_TIME_SAMPLE_EVERY,
            metrics_endpoint: None,
        }
    }
}

impl Builder {
    /// Number of shards (default: one per CPU in the affinity mask).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// Pin shard `i` to the `i`-th CPU of the affinity mask (default: on).
    pub fn pin(mut self, pin: bool) -> Self {
        self.pin = pin;
        self
    }

    /// The longest an idle shard keeps polling its rings before it parks
    /// (default 50 µs, at most one second). The poll it uses is learned
    /// from its idle periods: twice the gaps shorter than this that ended
    /// them, halved after each park that lasted twice this or longer, zero
    /// once work comes rarely (with a probe of the whole limit one idle
    /// period in 32). Periods while asks await answers start at the limit
    /// and learn apart. An idle shard so burns at most one limit of CPU
    /// after its last message. Zero parks at once: use it in tests and on
    /// machines with fewer cores than busy threads (see
    /// `docs/between-cores.md`).
    pub fn spin_before_park(mut self, spin: Duration) -> Self {
        self.spin_before_park = spin;
        self
    }

    /// Slots in each ring between two shards (default 1024; a power of
    /// two). A full ring makes cross-shard `send` return `Full`.
    ///
    /// The runtime allocates one ring per ordered pair of shards when it is
    /// built: `shards * (shards - 1) * ring_capacity` envelopes of 32 bytes
    /// (64 KiB for 2 shards, 132 MiB for 64). More than
    /// [`MAX_RING_MEMORY`](whirl_executor::MAX_RING_MEMORY) in all is refused.
    pub fn ring_capacity(mut self, capacity: usize) -> Self {
        self.ring_capacity = capacity;
        self
    }

    /// Bound of each actor's mailbox (default 1024).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// The most messages an actor gets per turn, one `handle_batch` call,
    /// unless its `Schedule` sets its own (default 64, at most 65 535
    /// used).
    pub fn turn_budget(mut self, budget: usize) -> Self {
        self.turn_budget = budget;
        self
    }

    /// The old name of [`turn_budget`](Self::turn_budget): the most
    /// messages an actor gets per turn was never a fairness budget (that is
    /// the pass's, [`PASS_BUDGET`](crate::PASS_BUDGET)).
    #[deprecated(since = "0.1.0", note = "renamed `turn_budget`")]
    pub fn fairness_budget(self, budget: usize) -> Self {
        self.turn_budget(budget)
    }

    /// Slots of each shard's queue for sends from threads outside the
    /// runtime (default 4096).
    pub fn injector_capacity(mut self, capacity: usize) -> Self {
        self.injector_capacity = capacity;
        self
    }

    /// How long shutdown lets actors drain their mailboxes before it stops
    /// them anyway (default 10 s). Actors that keep messaging each other
    /// never drain by themselves; at the deadline what they still hold is
    /// counted as dead letters (cause `ShutdownTimeout`) and the
    /// [`ShutdownReport`](crate::ShutdownReport) says so.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Calls `hook` with the dead letters each shard counts, by cause, on
    /// that shard's thread, shortly after they happen (after the shard's
    /// current pass); every dead letter a running shard counts is reported
    /// once (what is counted for a shard after it exited shows only in
    /// `Stats`). The hook may send, spawn and stop. Without one, each shard logs a `tracing`
    /// warning at most once a second.
    pub fn on_dead_letters(mut self, hook: impl Fn(DeadLetters) + Send + Sync + 'static) -> Self {
        self.dead_letter_hook = Some(DeadLetterHook(Arc::new(hook)));
        self
    }

    /// Bounds every actor's arena ([`Context::arena`](crate::Context::arena))
    /// to `bytes`, unless its spawn sets its own budget
    /// ([`ChildSpec::arena_budget`](crate::ChildSpec::arena_budget)). An
    /// allocation past the budget fails that actor alone
    /// ([`StopReason::ArenaBudget`](crate::StopReason::ArenaBudget)).
    /// Default: no budget.
    pub fn arena_budget(mut self, bytes: usize) -> Self {
        self.arena_budget = Some(bytes);
        self
    }

    /// Keep per-actor metrics: messages handled, mailbox high-water mark
    /// and sampled handling times (default: on). They are counted on each
    /// shard with no atomic and no allocation, and read by
    /// [`System::snapshot`](crate::System::snapshot),
    /// [`ActorRef::stats`](crate::ActorRef::stats) and the metrics endpoint;
    /// off, those read 0 and the per-message cost is one branch. Per-shard
    /// and runtime-wide counters are kept either way.
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// Time about one message in `every` (rounded up to a power of two) of
    /// each actor for the handling-time histograms: the turn (`handle` or
    /// `handle_batch` call) that message starts is timed, and its time per
    /// message recorded (default 1024; 0 times none). A timed turn reads
    /// the clock twice.
    pub fn handling_time_sample_every(mut self, every: u32) -> Self {
        self.handling_time_sample_every = every;
        self
    }

    /// Serves `GET /metrics` (Prometheus text) and `GET /health` (JSON) on
    /// `addr`, from shard 0, over glommio's io_uring TCP (see
    /// [`serve_metrics`](crate::serve_metrics)). The port is bound by
    /// [`build`](Self::build), so a taken port fails there; port 0 picks a
    /// free one ([`Runtime::metrics_addr`](crate::Runtime::metrics_addr)
    /// tells which).
    pub fn metrics_endpoint(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.metrics_endpoint = Some(addr.into());
        self
    }

    fn config(&self) -> Result<(ShardConfig, Vec<usize>), Error> {
        let cpus = crate::runtime::allowed_cpus();
        let shards = self.shards.unwrap_or(cpus.len().max(1));
        if self.pin && shards > cpus.len() {
            let limit = cpus.len();
            return Err(ConfigError::TooManyShards { requested: shards, limit }.into());
        }
        let config = ShardConfig {
            shards,
            ring_capacity: self.ring_capacity,
            mailbox_capacity: self.mailbox_capacity,
            turn_budget: self.turn_budget,
            injector_capacity: self.injector_capacity,
            spin_before_park: self.spin_before_park,
            shutdown_timeout: self.shutdown_timeout,
            dead_letter_hook: self.dead_letter_hook.clone(),
            arena_budget: self.arena_budget,
            metrics: self.metrics,
            handling_time_sample_every: self.handling_time_sample_every,
        };
        config.validate()?;
        Ok((config, cpus))
    }

    /// Validates the configuration and starts the shards.
    ///
    /// # Errors
    ///
    /// A configuration [`Error`] that says what to change, or
    /// [`Error::Executor`] if glommio cannot start.
    pub fn build(self) -> Result<Runtime, Error> {
        let (config, cpus) = self.config()?;
        let endpoint = match self.metrics_endpoint {
            Some(addr) => Some(TcpListener::bind(addr).map_err(|error| {
                Error::Endpoint(format!(
                    "could not listen on {addr} for the metrics endpoint: {error}; choose \
                     another address, or port 0 for any free port"
                ))
            })?),
            None => None,
        };
        let mesh = Mesh::new(config)?;
        Runtime::start(mesh, if self.pin { Some(cpus) } else { None }, endpoint)
    }

    /// Validates the configuration and prepares shards for executors the
    /// program runs itself (see [`Embedded`]); `pin` is up to the program.
    ///
    /// # Errors
    ///
    /// A configuration [`Error`].
    pub fn build_embedded(self) -> Result<Embedded, Error> {
        let (config, _) = Self { pin: false, ..self }.config()?;
        Ok(Embedded::new(Mesh::new(config)?))
    }
}
