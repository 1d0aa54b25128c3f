//! How the shards of a mesh run, and the rules a configuration must follow.

use std::fmt;
use std::time::Duration;

/// Words of one ring slot: ring capacities count 32-byte slots; a message
/// entry takes 2 header words and its message's words.
pub(crate) const RING_SLOT_WORDS: usize = 4;
const _: () =
    assert!(RING_SLOT_WORDS * 8 == 32, "the builder's docs and README quote 32-byte ring slots");

/// Fewest slots a ring may have: the largest inline entry must fit.
pub const MIN_RING_CAPACITY: usize = 16;

/// How the shards of a mesh run. [`validate`](Self::validate) checks it;
/// [`Mesh::new`](crate::Mesh::new) refuses what it refuses.
#[derive(Debug, Clone)]
pub struct ShardConfig {
    /// Number of shards.
    pub shards: usize,
    /// 32-byte slots in each ring between two shards (a power of two, at
    /// least [`MIN_RING_CAPACITY`]). A message takes 16 bytes of header and
    /// its own size, rounded up to 8: one slot for a message of up to 16
    /// bytes.
    pub ring_capacity: usize,
    /// Default bound of each actor's mailbox.
    pub mailbox_capacity: usize,
    /// The most messages an actor gets per turn (one `handle_batch` call)
    /// unless its [`Schedule`](crate::Schedule) sets its own; at most
    /// 65 535 are used.
    pub turn_budget: usize,
    /// Slots of each shard's queue for sends from threads outside the runtime.
    pub injector_capacity: usize,
    /// The longest an idle shard keeps polling before it parks (at most
    /// [`MAX_SPIN_BEFORE_PARK`]); the poll it uses is learned from how its
    /// idle periods ended (see `Builder::spin_before_park` in `whirl`).
    pub spin_before_park: Duration,
    /// How long shutdown lets actors drain before it stops them anyway.
    pub shutdown_timeout: Duration,
    /// Called with the dead letters each shard counts; `None`: a warning
    /// through `tracing`, at most one per shard per second.
    pub dead_letter_hook: Option<crate::types::stats::DeadLetterHook>,
    /// The byte budget of each actor's arena ([`Context::arena`]) unless its
    /// spawn sets one; `None`: unbounded.
    ///
    /// [`Context::arena`]: crate::Context::arena
    pub arena_budget: Option<usize>,
    /// Keep per-actor metrics: messages handled and the mailbox's
    /// high-water mark, counted on the shard without atomics (see
    /// `ActorStats`). Per-shard and runtime-wide counters are kept either
    /// way.
    pub metrics: bool,
    /// With `metrics`, time about one message in this many (rounded up to
    /// a power of two) of each actor: the turn it starts is timed for the
    /// handling-time histograms (0: time none). A timed turn reads the
    /// clock twice.
    pub handling_time_sample_every: u32,
}

/// Most memory the rings between shards may take together. The mesh
/// allocates one ring per ordered pair of shards up front, `shards *
/// (shards - 1) * ring_capacity` envelopes: 64 KiB for two shards with the
/// default capacity, 132 MiB for 64 shards.
pub const MAX_RING_MEMORY: usize = 1 << 30;

/// The longest `spin_before_park` a configuration may set: polling longer
/// than a second before sleeping is a busy loop, not a spin.
pub const MAX_SPIN_BEFORE_PARK: Duration = Duration::from_secs(1);

/// Most shards a mesh may have (shard indices are 16 bits).
pub const MAX_SHARDS: usize = u16::MAX as usize;

impl ShardConfig {
    /// Bytes the rings between the shards take.
    pub fn ring_memory(&self) -> usize {
        let rings = self.shards.saturating_mul(self.shards.saturating_sub(1));
        rings.saturating_mul(self.ring_capacity).saturating_mul(RING_SLOT_WORDS * 8)
    }

    /// Checks every rule.
    ///
    /// # Errors
    ///
    /// The first rule broken, with what to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.shards == 0 {
            return Err(ConfigError::NoShards);
        }
        if self.shards > MAX_SHARDS {
            return Err(ConfigError::TooManyShards { requested: self.shards, limit: MAX_SHARDS });
        }
        if self.ring_capacity < MIN_RING_CAPACITY || !self.ring_capacity.is_power_of_two() {
            return Err(ConfigError::RingCapacity(self.ring_capacity));
        }
        if self.mailbox_capacity == 0 {
            return Err(ConfigError::ZeroCapacity("the mailbox capacity"));
        }
        if self.injector_capacity == 0 {
            return Err(ConfigError::ZeroCapacity("the injector capacity"));
        }
        if self.turn_budget == 0 {
            return Err(ConfigError::ZeroBudget);
        }
        if self.spin_before_park > MAX_SPIN_BEFORE_PARK {
            return Err(ConfigError::SpinTooLong(self.spin_before_park));
        }
        let bytes = self.ring_memory();
        if bytes > MAX_RING_MEMORY {
            return Err(ConfigError::RingMemory {
                shards: self.shards,
                ring_capacity: self.ring_capacity,
                bytes,
            });
        }
        Ok(())
    }
}

/// A configuration rule broken; the message says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `shards(0)`.
    NoShards,
    /// More shards than there are CPUs to pin them to, or than shard indices.
    TooManyShards {
        /// Shards asked for.
        requested: usize,
        /// The most there may be (CPUs in the affinity mask when pinned).
        limit: usize,
    },
    /// The ring capacity is not a power of two of at least
    /// [`MIN_RING_CAPACITY`].
    RingCapacity(usize),
    /// A zero capacity (mailbox or injection queue).
    ZeroCapacity(&'static str),
    /// The turn budget is zero.
    ZeroBudget,
    /// `spin_before_park` is longer than [`MAX_SPIN_BEFORE_PARK`].
    SpinTooLong(Duration),
    /// This process has built 2^32 runtimes; runtime ids are never reused,
    /// so that a ref kept from a dropped runtime never reaches a newer one.
    TooManyRuntimes,
    /// The rings between the shards would take more than
    /// [`MAX_RING_MEMORY`].
    RingMemory {
        /// Shards asked for.
        shards: usize,
        /// Slots per ring asked for.
        ring_capacity: usize,
        /// Bytes the rings would take.
        bytes: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoShards => {
                f.write_str("a runtime needs at least one shard: use .shards(1) or more")
            }
            Self::TooManyShards { requested, limit } if *limit == MAX_SHARDS => {
                write!(f, "{requested} shards: a runtime has at most {MAX_SHARDS}")
            }
            Self::TooManyShards { requested, limit } => write!(
                f,
                "{requested} pinned shards but only {limit} CPUs in this process's affinity mask: \
                 use .shards({limit}) or fewer, or .pin(false)"
            ),
            Self::RingCapacity(n) => {
                write!(
                f,
                "ring capacity {n} is not a power of two of at least {MIN_RING_CAPACITY}: use {}",
                (*n).max(MIN_RING_CAPACITY).checked_next_power_of_two().unwrap_or(MIN_RING_CAPACITY)
            )
            }
            Self::ZeroCapacity(what) => write!(f, "{what} must be at least 1"),
            Self::ZeroBudget => {
                f.write_str("the turn budget (messages an actor gets per turn) must be at least 1")
            }
            Self::SpinTooLong(spin) => write!(
                f,
                "spin_before_park {spin:?} is longer than {MAX_SPIN_BEFORE_PARK:?}: an idle shard \
                 would busy-loop; use a few to a few hundred microseconds, or zero to park at once"
            ),
            Self::TooManyRuntimes => f.write_str(
                "this process has built 2^32 runtimes, and runtime ids are never reused: \
                 keep one runtime for the life of the process",
            ),
            Self::RingMemory { shards, ring_capacity, bytes } => write!(
                f,
                "{shards} shards with rings of {ring_capacity} slots need {:.1} GiB up front \
                 (one ring per ordered pair of shards, {} bytes a slot), more than the {} GiB \
                 allowed: use fewer shards or a smaller ring_capacity",
                *bytes as f64 / (1u64 << 30) as f64,
                RING_SLOT_WORDS * 8,
                MAX_RING_MEMORY >> 30,
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
