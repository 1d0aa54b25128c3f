//! The benchmark suite: scenarios ([`catalog`]), each run on whirl and its
//! peers with runs interleaved ([`results`]), reported as tables, JSON,
//! `.hgrm` files and plots ([`output`]) with the machine they ran on
//! ([`machine`]).

pub mod backpressure;
pub mod catalog;
pub mod machine;
pub mod observability;
pub mod output;
pub mod peers;
pub mod results;
pub mod scenario;
pub mod scheduling;
pub mod whirl_runtime;

/// How much each scenario measures.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Scale {
    /// Hops per same-shard sample (each sample is the mean over its hops).
    pub hops_per_sample: u64,
    /// Samples per latency scenario.
    pub samples: u64,
    /// Messages per throughput run.
    pub messages: u64,
    /// Samples of waking a parked shard (each waits ~200 µs first).
    pub wake_samples: u64,
    /// Actors spawned per spawn-rate sample.
    pub spawns_per_sample: u64,
    /// Idle actors spawned to measure memory per actor.
    pub idle_actors: u64,
}

impl Scale {
    /// The full run.
    pub fn full() -> Self {
        Self {
            hops_per_sample: 1_000,
            samples: 20_000,
            messages: 2_000_000,
            wake_samples: 2_000,
            spawns_per_sample: 10_000,
            idle_actors: 100_000,
        }
    }

    /// A smoke run for CI.
    pub fn quick() -> Self {
        Self {
            hops_per_sample: 200,
            samples: 500,
            messages: 100_000,
            wake_samples: 100,
            spawns_per_sample: 2_000,
            idle_actors: 10_000,
        }
    }
}
