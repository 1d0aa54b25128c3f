//! An idle shard polls only while work is likely to come. Once messages
//! come further apart than `spin_before_park`, it parks at once after each
//! and burns almost no CPU between them; a shard that polled the whole
//! 10 ms limit after each message 20 ms apart would burn half a core.
//!
//! The shard's CPU time comes from `/proc/self/task/*/schedstat`, for the
//! thread named after the shard. This file holds one test, so no other
//! runtime's threads share the process.

mod common;

use std::time::Duration;

use common::{Counter, CounterMsg};

/// The configured limit: long, so a shard that polls it is plain to see.
const LIMIT: Duration = Duration::from_millis(10);
/// The gap between messages: longer than the limit.
const GAP: Duration = Duration::from_millis(20);

/// How long the threads of shard `shard` have run: glommio names its
/// executor's thread `whirl-{shard}-{executor id}`, and threads that thread
/// starts (glommio's blocking pool) inherit the name; all are counted.
fn cpu_of_shard(shard: usize) -> Duration {
    let prefix = format!("whirl-{shard}-");
    let mut ran = Duration::ZERO;
    let mut threads = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task").path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else { continue };
        if comm.starts_with(&prefix) {
            let stat = std::fs::read_to_string(path.join("schedstat")).expect("schedstat");
            let ns = stat.split_whitespace().next().expect("run time").parse().expect("ns");
            ran += Duration::from_nanos(ns);
            threads += 1;
        }
    }
    assert!(threads > 0, "no thread of shard {shard}");
    ran
}

#[test]
fn sparse_messages_burn_no_cpu_once_the_poll_is_learned() {
    common::within(60, || {
        let rt = common::builder(2).spin_before_park(LIMIT).build().expect("runtime");
        rt.block_on(|sys| async move {
            let sink = sys.spawn_on(1, || Counter { n: 0 }).expect("spawn");
            let mut sent = 0;
            let send_spaced = |messages: u64| async move {
                for _ in 0..messages {
                    glommio::timer::sleep(GAP).await;
                    sink.send(CounterMsg::Add(1)).expect("room");
                }
            };
            // Learning: each gap at least the limit halves the bound, from
            // 10 ms to below 1 µs in 14 gaps.
            send_spaced(20).await;
            sent += 20;
            let before = cpu_of_shard(1);
            let window = std::time::Instant::now();
            send_spaced(10).await;
            sent += 10;
            let burnt = cpu_of_shard(1) - before;
            let elapsed = window.elapsed();
            assert_eq!(sink.ask(CounterMsg::Get).await.expect("ask"), sent);
            // Polling the limit after each message: half the window. At
            // most one probe (one idle period in 32 at a zero bound) polls
            // the limit: a twentieth.
            assert!(
                burnt < elapsed / 5,
                "shard 1 ran {burnt:?} of {elapsed:?} while messages came {GAP:?} apart"
            );
        })
        .expect("block_on");
    });
}
