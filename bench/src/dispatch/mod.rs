//! The dispatch-core benchmarks: whirl's shard against the best
//! single-threaded actor runtime (stakker) and tokio's current-thread
//! runtime, written with each runtime's public API as its docs show.
//!
//! Every scenario returns one number per run (operations per second, or
//! nanoseconds per operation); the binary runs the peers interleaved, run
//! after run, so the VM's slow spells spread over all of them.

pub mod stakker_side;
pub mod tokio_side;
pub mod whirl_side;

/// How much each scenario does per run.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Actors in the thread ring.
    pub ring_actors: usize,
    /// Hops of the token around the thread ring.
    pub ring_hops: u64,
    /// Actors in Savina *big*.
    pub big_actors: usize,
    /// Pings each *big* actor sends (and waits for the pong of).
    pub big_pings: u64,
    /// Messages to the one actor of Savina count.
    pub count_messages: u64,
    /// Round trips per ask sample (the sample is their mean).
    pub asks_per_sample: u64,
    /// Ask samples per run.
    pub ask_samples: u64,
    /// Actors spawned per spawn-rate run.
    pub spawns: usize,
}

impl Size {
    /// The full run.
    pub fn full() -> Self {
        Self {
            ring_actors: 100,
            ring_hops: 2_000_000,
            big_actors: 256,
            big_pings: 4_000,
            count_messages: 2_000_000,
            asks_per_sample: 100,
            ask_samples: 2_000,
            spawns: 100_000,
        }
    }

    /// A smoke run for CI.
    pub fn quick() -> Self {
        Self {
            ring_actors: 100,
            ring_hops: 100_000,
            big_actors: 256,
            big_pings: 200,
            count_messages: 100_000,
            asks_per_sample: 20,
            ask_samples: 100,
            spawns: 10_000,
        }
    }
}

/// A small deterministic generator (xorshift64*) for picking peers.
#[derive(Debug, Clone, Copy)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % n
    }
}
