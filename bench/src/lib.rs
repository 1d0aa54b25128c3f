//! The whirl benchmark suite: whirl and its peers measured side by side in one
//! run, every sample recorded into an HdrHistogram and reported as
//! percentiles and ratios.
//!
//! Binaries:
//! * `ring`: the cross-core SPSC ring against rtrb, crossbeam's `ArrayQueue`
//!   and glommio's `shared_channel`
//!   (`cargo run --release -p whirl-bench --bin ring`).

pub mod affinity;
pub mod report;
pub mod ring;
