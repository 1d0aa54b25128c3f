//! Runnable programs that show how to use whirl, numbered in reading order.
//! Run one with `cargo run -p whirl-examples --bin 01_counter`; the tests in
//! `tests/examples.rs` run each and check what it prints.
//!
//! 1. `01_counter`: spawn an actor, send, ask, shut down.
//! 2. `02_cross_shard`: actors on different cores, ping-pong, placement.
//! 3. `03_timers_and_io`: timers, and async work piped back as messages.
//! 4. `04_names_and_outside_threads`: the registry, sending from a plain
//!    thread, and what shutdown guarantees.
//! 5. `05_embedding`: whirl shards inside executors the program runs itself.
//! 6. `06_restarts`: a restart policy, what a restart keeps and drops.
//! 7. `07_supervision`: an OTP supervisor, its strategy and its children.
//! 8. `08_calling_from_a_program`: blocking calls from plain threads,
//!    `ctx.system()`, `whirl::time`, whirl's log.
//! 9. `09_watching`: metrics, a live snapshot, the Prometheus endpoint.
//! 10. `kv`: a sharded key-value server speaking the Redis protocol, every
//!     shard accepting on one port; `tests/kv.rs` drives it with the `redis`
//!     crate, `.ci/kv-with-redis-tools` with `redis-cli` and
//!     `redis-benchmark`.
