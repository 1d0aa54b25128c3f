//! Foreign asks with timeouts share one timer thread (hardening issue, item
//! 11). Its own binary: it counts the threads of the process.

mod common;

use std::time::Duration;

use common::{runtime, within, Counter, CounterMsg};

/// Every foreign ask with a timeout started an OS thread that slept
/// for the whole limit.
#[test]
fn foreign_asks_with_timeouts_use_a_bounded_number_of_threads() {
    within(300, || {
        let rt = runtime(2);
        let sys = rt.system();
        let c = sys.spawn_on(1, || Counter { n: 7 }).unwrap();
        let threads = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
            line[8..].trim().parse::<usize>().unwrap()
        };
        let before = threads();
        let mut most = before;
        let asks = if cfg!(debug_assertions) { 20_000 } else { 100_000 };
        for i in 0..asks {
            let ask = c.ask(CounterMsg::Get).timeout(Duration::from_secs(30));
            assert_eq!(futures_lite::future::block_on(ask), Ok(7));
            if i % 1000 == 0 {
                most = most.max(threads());
            }
        }
        rt.shutdown();
        assert!(most <= before + 2, "threads grew from {before} to {most}");
    });
}
