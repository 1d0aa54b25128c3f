//! The whirl benchmark suite: whirl and its peers measured side by side in one
//! run, every sample recorded into an HdrHistogram and reported as
//! percentiles and ratios.
//!
//! Binaries (`cargo run --release -p whirl-bench` runs `suite`):
//! * `suite`: the benchmark suite — whirl against actix, ractor, kameo,
//!   tokio and glommio on Savina, micro scenarios with their floors, open
//!   loop and the steady_state pipeline (`--help` for its options).
//! * `dispatch`: the dispatch core — whirl on one and two shards against
//!   stakker and tokio's current-thread runtime
//!   (`cargo run --release -p whirl-bench --bin dispatch`).
//! * `ring`: the cross-core SPSC ring against rtrb, crossbeam's `ArrayQueue`
//!   and glommio's `shared_channel`
//!   (`cargo run --release -p whirl-bench --bin ring`).

pub mod actors;
pub mod affinity;
pub mod alloc;
pub mod ask;
pub mod dispatch;
pub mod echo;
pub mod fan_in;
pub mod floors;
pub mod memory;
pub mod open_loop;
pub mod report;
pub mod restart;
pub mod ring;
pub mod savina;
pub mod suite;
