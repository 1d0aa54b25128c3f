//! What observability costs on the message path: same-shard send + handle
//! (a task streaming to an actor on its own shard) with per-actor metrics
//! off and on, and with a `tracing` subscriber installed (per-message spans
//! off, the default), each in runtimes built per run, runs interleaved.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use whirl::Runtime;

use super::whirl_runtime::{per_second, stream, Sink, SinkMsg};
use super::Scale;
use crate::report::histogram;

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

/// Interleaved runs of each configuration of `metrics`: one histogram of
/// messages per second each.
fn interleaved<const N: usize>(scale: Scale, metrics: [bool; N]) -> [Histogram<u64>; N] {
    let mut runs = metrics.map(|_| histogram(100_000_000_000));
    for _ in 0..scale.runs {
        for (on, runs) in metrics.iter().zip(&mut runs) {
            runs.record(run(scale, *on)).expect("in range");
        }
    }
    runs
}

/// Same-shard send + handle with metrics `[off, on]`, no subscriber.
pub fn metrics_cost(scale: Scale) -> [Histogram<u64>; 2] {
    interleaved(scale, [false, true])
}

/// Same-shard send + handle with metrics on, with a `tracing` subscriber
/// (the `fmt` one at level INFO, writing to nowhere) installed for the rest
/// of the process: call it last.
pub fn with_subscriber(scale: Scale) -> Histogram<u64> {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber yet");
    let [on] = interleaved(scale, [true]);
    on
}
