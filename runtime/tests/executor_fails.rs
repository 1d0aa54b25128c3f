//! When glommio cannot start a shard's executor inside its thread, `build`
//! says so, with what to do, instead of returning a runtime that hangs.
//! Its own binary: it lowers this process's
//! locked-memory limit, which glommio checks when an executor starts.

mod common;

use std::time::Duration;

use common::within;
use whirl::Runtime;

#[test]
fn an_executor_that_cannot_start_fails_the_build_with_advice() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit we own.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) }, 0);
    let low = libc::rlimit { rlim_cur: 64 * 1024, rlim_max: limit.rlim_max };
    // SAFETY: lowering our own soft limit, from a valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &low) }, 0);
    let result = within(60, || {
        Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().map(drop)
    });
    // SAFETY: restoring the limit read above.
    unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) };
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("ulimit -l"), "{text}");
    // With the limit back, runtimes build again.
    Runtime::builder().shards(2).spin_before_park(Duration::ZERO).build().unwrap().shutdown();
}
