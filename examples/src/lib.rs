//! Runnable programs that show how to use whirl, numbered in reading order.
//! Run one with `cargo run -p whirl-examples --bin 00_hello`; the tests in
//! `tests/examples.rs` run each and check what it prints.
//!
//! 0. `00_hello`: one actor, one question, one answer.
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
//! 11. `11_work_pool`: `pool.push_work(f, data)` over workers on every
//!     shard, each with a memory budget; a panicking item is reported failed
//!     (or retried), never lost; round-robin or least-loaded.
//! 12. `12_pipeline`: generator → worker → logger across cores at a fixed
//!     `--rate`, batches (`handle_batch`), live throughput at every
//!     heartbeat, `--beats`.
//! 13. `13_supervision_tree`: workers that fail on purpose under a
//!     one-for-all supervisor with backoff, which escalates to its parent
//!     when they fail too often; whirl's log tells the story.
