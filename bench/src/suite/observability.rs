//! What observability costs on the message path: same-shard send + handle
//! (a task streaming to an actor on its own shard) with per-actor metrics
//! off and on, and with a `tracing` subscriber installed (per-message spans
//! off, the default; in a child process, since a global subscriber stays),
//! each in a runtime built per run, runs interleaved.

use std::time::{Duration, Instant};

use whirl::Runtime;

use super::whirl_runtime::{per_second, stream, Sink, SinkMsg};
use super::Scale;

/// One run: a runtime of two busy shards with metrics `on` or off, and
/// `scale.messages` streamed to a sink on the task's own shard; messages per
/// second.
fn run(scale: Scale, metrics: bool) -> u64 {
    let rt = Runtime::builder()
        .shards(2)
        .spin_before_park(Duration::from_millis(10))
        .metrics(metrics)
        .build()
        .expect("runtime");
    let messages = scale.messages;
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let sink = sys.spawn_on(here, || Sink { count: 0 }).expect("spawn");
        stream(sink, messages / 10).await; // warm up
        let began = Instant::now();
        stream(sink, messages).await;
        assert_eq!(sink.ask(SinkMsg::Count).await, Ok(messages + messages / 10));
        per_second(messages, began.elapsed())
    })
    .expect("block_on")
}

/// Set in the environment of a child process of the suite that makes one
/// run with a `tracing` subscriber installed and prints its rate.
const SUBSCRIBER_RUN: &str = "WHIRL_SUITE_SUBSCRIBER_RUN";

/// In a child started by [`metrics_cost`]: makes its run with a subscriber
/// installed (the `fmt` one at level INFO, writing to nowhere), prints the
/// rate, and exits. Call first thing in `main`; does nothing otherwise.
pub fn subscriber_run_if_asked(scale: Scale) {
    if std::env::var_os(SUBSCRIBER_RUN).is_none() {
        return;
    }
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber yet");
    println!("{}", run(scale, true));
    std::process::exit(0);
}

/// One run with a subscriber installed, in a child process (a global
/// subscriber cannot be removed again): messages per second.
fn run_with_subscriber(quick: bool) -> u64 {
    let exe = std::env::current_exe().expect("the suite's own path");
    let mut child = std::process::Command::new(exe);
    if quick {
        child.arg("--quick");
    }
    let output = child.env(SUBSCRIBER_RUN, "1").output().expect("the suite runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.trim().parse().unwrap_or_else(|_| panic!("a rate, not {stdout:?}"))
}

/// Same-shard send + handle with metrics off, on, and on with a `tracing`
/// subscriber installed (per-message spans off, the default): one run
/// each, messages per second.
pub fn metrics_cost(scale: Scale, quick: bool) -> [u64; 3] {
    [run(scale, false), run(scale, true), run_with_subscriber(quick)]
}
