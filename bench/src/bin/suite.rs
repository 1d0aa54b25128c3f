//! The whirl latency suite: whirl's actors against glommio's channels and
//! tokio's mpsc, in one run, on two pinned cores.
//!
//! ```text
//! cargo run --release -p whirl-bench --bin suite            # full run
//! cargo run --release -p whirl-bench --bin suite -- --quick # CI smoke run
//! ```

use std::time::Duration;

use hdrhistogram::Histogram;
use whirl_bench::alloc::TrackingAllocator;
use whirl_bench::report::{mps, nanos, ratio, Latency, Throughput};
use whirl_bench::ring::{glommio_channel, Cores};
use whirl_bench::suite::{backpressure, observability, peers, scheduling, whirl_runtime, Scale};

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

fn latency_row(scenario: &str, peer: &str, h: &Histogram<u64>, baseline: u64) -> Latency {
    let l = Latency::from_histogram(h);
    println!(
        "| {scenario} | {peer} | {} | {} | {} | {} | {} | {} |",
        l.samples,
        nanos(l.p50),
        nanos(l.p99),
        nanos(l.p999),
        nanos(l.max),
        ratio(l.p50, baseline.max(1)),
    );
    l
}

fn throughput_row(scenario: &str, peer: &str, h: &Histogram<u64>, baseline: u64) -> Throughput {
    let t = Throughput::from_histogram(h);
    println!(
        "| {scenario} | {peer} | {} | {} | {} | {} | {} |",
        t.runs,
        mps(t.p50),
        mps(t.min),
        mps(t.max),
        ratio(t.p50, baseline.max(1)),
    );
    t
}

/// A target that `part` runs at `share` of `whole`'s median or better, with
/// the ratio measured.
fn at_least_share(what: &str, part: Throughput, whole: Throughput, share: f64) -> (String, bool) {
    let ratio = part.p50 as f64 / whole.p50.max(1) as f64;
    (format!("{what} ({ratio:.2}x)"), ratio >= share)
}

fn p50(h: &Histogram<u64>) -> u64 {
    h.value_at_quantile(0.5)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { Scale::quick() } else { Scale::full() };
    observability::subscriber_run_if_asked(scale);
    let cores = Cores { producer: 0, consumer: 1 };
    let glommio_spin = Duration::from_millis(1);
    println!(
        "# whirl latency suite{}: 2 shards pinned to cpus 0 and 1",
        if quick { " (quick)" } else { "" }
    );
    println!(
        "# whirl: 'busy' shards poll 10 ms before parking, 'parked' ones park at once; \
         glommio executors spin {glommio_spin:?} before parking; tokio multi-thread has 2 workers"
    );

    // Same shard.
    let whirl_hops = whirl_runtime::same_shard_hops(scale);
    let glommio_hops = peers::glommio_local_hops(scale);
    let tokio_hops = peers::tokio_local_hops(scale);
    // Cross shard.
    let whirl_rtt = whirl_runtime::cross_shard_round_trip(scale);
    let glommio_rtt =
        glommio_channel::round_trip(cores, scale.samples / 100, scale.samples / 10, glommio_spin);
    let tokio_rtt = peers::tokio_multi_round_trip(scale);
    let short_idle = Duration::from_micros(50);
    let long_idle = Duration::from_millis(1);
    let whirl_wake = whirl_runtime::wake_parked(scale, short_idle);
    let glommio_wake = peers::glommio_foreign_wake(scale.wake_samples, short_idle);
    let whirl_wake_long = whirl_runtime::wake_parked(scale, long_idle);
    let glommio_wake_long = peers::glommio_foreign_wake(scale.wake_samples / 4, long_idle);
    let ask_here = whirl_runtime::ask_round_trip(scale, false);
    let ask_there = whirl_runtime::ask_round_trip(scale, true);
    use whirl_runtime::RestartedBy;
    let restart_fail = whirl_runtime::restart_latency(scale, false, RestartedBy::Policy);
    let restart_panic = whirl_runtime::restart_latency(scale, true, RestartedBy::Policy);
    let restart_sup_here =
        whirl_runtime::restart_latency(scale, false, RestartedBy::SupervisorHere);
    let restart_sup_there =
        whirl_runtime::restart_latency(scale, false, RestartedBy::SupervisorThere);

    println!();
    println!("## latency (vs = p50 / whirl's p50 in the same scenario)");
    println!("| scenario | peer | samples | p50 | p99 | p99.9 | max | vs whirl |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let hop = latency_row("same-shard ping-pong, per hop", "whirl", &whirl_hops, p50(&whirl_hops));
    latency_row("same-shard ping-pong, per hop", "glommio local_channel", &glommio_hops, hop.p50);
    latency_row("same-shard ping-pong, per hop", "tokio mpsc current-thread", &tokio_hops, hop.p50);
    let rtt =
        latency_row("cross-shard round trip, both busy", "whirl", &whirl_rtt, p50(&whirl_rtt));
    let glommio_rt = latency_row(
        "cross-shard round trip, both busy",
        "glommio shared_channel",
        &glommio_rtt,
        rtt.p50,
    );
    latency_row(
        "cross-shard round trip, both busy",
        "tokio mpsc multi-thread",
        &tokio_rtt,
        rtt.p50,
    );
    let wake =
        latency_row("one way to a shard parked 50 µs", "whirl", &whirl_wake, p50(&whirl_wake));
    latency_row(
        "one way to a shard parked 50 µs",
        "glommio task woken from another core",
        &glommio_wake,
        wake.p50,
    );
    let wake_long = latency_row(
        "one way to a shard parked 1 ms",
        "whirl",
        &whirl_wake_long,
        p50(&whirl_wake_long),
    );
    latency_row(
        "one way to a shard parked 1 ms",
        "glommio task woken from another core",
        &glommio_wake_long,
        wake_long.p50,
    );
    let ask = latency_row("ask round trip, same shard", "whirl", &ask_here, p50(&ask_here));
    latency_row("ask round trip, cross shard", "whirl", &ask_there, p50(&ask_there));
    let restart = latency_row(
        "restart: ctx.fail → next message handled, zero backoff",
        "whirl",
        &restart_fail,
        p50(&restart_fail),
    );
    latency_row(
        "restart: panic → next message handled, zero backoff",
        "whirl",
        &restart_panic,
        restart.p50,
    );
    let restart_supervised = latency_row(
        "restart: ctx.fail → next message handled, zero backoff",
        "whirl, supervisor on the same shard",
        &restart_sup_here,
        restart.p50,
    );
    latency_row(
        "restart: ctx.fail → next message handled, zero backoff",
        "whirl, supervisor on the other shard",
        &restart_sup_there,
        restart.p50,
    );

    // Throughput.
    let [whirl_local, whirl_local_restartable, whirl_local_supervised] =
        whirl_runtime::same_shard_send(scale);
    let glommio_local = peers::glommio_local_throughput(scale);
    let tokio_local = peers::tokio_local_throughput(scale);
    let whirl_cross = whirl_runtime::cross_shard_throughput(scale, false);
    let whirl_batched = whirl_runtime::cross_shard_throughput(scale, true);
    let whirl_send_many = whirl_runtime::cross_shard_send_many(scale);
    let mut glommio_cross = whirl_bench::report::histogram(100_000_000_000);
    for _ in 0..scale.runs {
        let run =
            glommio_channel::throughput(cores, 1024, scale.messages.min(1_000_000), glommio_spin);
        glommio_cross.record(run).expect("in range");
    }
    let tokio_cross = peers::tokio_multi_throughput(scale);
    // On a thread of its own: the ring pins the threads it runs on.
    let bare_ring = std::thread::spawn(move || {
        let mut runs = whirl_bench::report::histogram(100_000_000_000);
        for _ in 0..scale.runs {
            let run = whirl_bench::ring::throughput::<whirl_bench::ring::Whirl>(
                cores,
                1024,
                256,
                scale.messages,
            );
            runs.record(run).expect("in range");
        }
        runs
    })
    .join()
    .expect("bare ring runs");

    println!();
    println!("## throughput (messages/s per run; vs = p50 / whirl's p50 in the same scenario)");
    println!("| scenario | peer | runs | p50 | min | max | vs whirl |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let local =
        throughput_row("same-shard send + handle", "whirl", &whirl_local, p50(&whirl_local));
    let restartable = throughput_row(
        "same-shard send + handle, actor with a restart policy",
        "whirl",
        &whirl_local_restartable,
        local.p50,
    );
    let supervised = throughput_row(
        "same-shard send + handle, a supervisor's child",
        "whirl",
        &whirl_local_supervised,
        local.p50,
    );
    throughput_row("same-shard send + receive", "glommio local_channel", &glommio_local, local.p50);
    throughput_row(
        "same-shard send + receive",
        "tokio mpsc current-thread",
        &tokio_local,
        local.p50,
    );
    let cross = throughput_row(
        "cross-shard one way, per message",
        "whirl",
        &whirl_cross,
        p50(&whirl_cross),
    );
    let batched =
        throughput_row("cross-shard one way, batched per pass", "whirl", &whirl_batched, cross.p50);
    let send_many = throughput_row(
        "cross-shard one way, send_many from a task (256 a batch)",
        "whirl",
        &whirl_send_many,
        cross.p50,
    );
    let bare = throughput_row(
        "cross-shard one way, the bare SPSC ring between two threads (256 a batch)",
        "whirl_mailbox ring",
        &bare_ring,
        cross.p50,
    );
    throughput_row("cross-shard one way", "glommio shared_channel", &glommio_cross, cross.p50);
    throughput_row("cross-shard one way", "tokio mpsc multi-thread", &tokio_cross, cross.p50);

    let [plain_sends, outbox_sends] = backpressure::handler_sends(scale);
    let [slow_alone, slow_piped] = backpressure::slow_pipeline(scale, false);
    let [slow_alone_across, slow_piped_across] = backpressure::slow_pipeline(scale, true);
    println!();
    println!("## backpressure from handlers (messages/s per run; vs = p50 / the first row's)");
    println!("| scenario | peer | runs | p50 | min | max | vs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let plain = throughput_row(
        "handler → actor on its shard, nothing full, ActorRef::send",
        "whirl",
        &plain_sends,
        p50(&plain_sends),
    );
    let outbox = throughput_row("the same with Context::send", "whirl", &outbox_sends, plain.p50);
    let alone =
        throughput_row("a slow stage fed by a task", "whirl", &slow_alone, p50(&slow_alone));
    let piped = throughput_row(
        "the same stage last in a pipeline held back by it (fan-out 4 → 1 → slow)",
        "whirl",
        &slow_piped,
        alone.p50,
    );
    let alone_across = throughput_row(
        "a slow stage fed by a task (second run)",
        "whirl",
        &slow_alone_across,
        p50(&slow_alone_across),
    );
    let piped_across = throughput_row(
        "the same, the pipeline's middle stage on the other shard",
        "whirl",
        &slow_piped_across,
        alone_across.p50,
    );

    use scheduling::{AskedOn, Handling};
    let handlings = [Handling::PerMessage, Handling::Batches(256), Handling::Batches(1024)];
    let pipelines = scheduling::pipeline(scale, &handlings);
    let (ask_idle, _) = scheduling::priority_ask(scale, AskedOn::Idle);
    let (ask_high, flood_high) = scheduling::priority_ask(scale, AskedOn::FloodedHigh);
    let (ask_normal, flood_normal) = scheduling::priority_ask(scale, AskedOn::FloodedNormal);
    println!();
    println!("## batches and priorities");
    println!(
        "pipeline: a task sends numbers with send_many → worker (Context::send) → logger, \
         one line per number written to /dev/null (messages/s at the logger; vs = p50 / \
         per message)"
    );
    println!();
    println!("| scenario | peer | runs | p50 | min | max | vs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let per_message = throughput_row(
        "pipeline, one handle (and one write) per message",
        "whirl",
        &pipelines[0],
        p50(&pipelines[0]),
    );
    let batch_256 = throughput_row(
        "pipeline, handle_batch, turns of 256 (one write a turn)",
        "whirl",
        &pipelines[1],
        per_message.p50,
    );
    throughput_row(
        "pipeline, handle_batch, turns of 1024 (one write a turn)",
        "whirl",
        &pipelines[2],
        per_message.p50,
    );
    println!();
    println!(
        "ask round trip from the other shard (vs = p50 / the idle shard's); the flood: 4 \
         Normal actors each sending itself 1000 messages deep"
    );
    println!();
    println!("| scenario | peer | samples | p50 | p99 | p99.9 | max | vs |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let idle = latency_row("High actor, idle shard", "whirl", &ask_idle, p50(&ask_idle));
    let flooded = latency_row(
        &format!("High actor, flooded shard (flood {} meanwhile)", mps(flood_high)),
        "whirl",
        &ask_high,
        idle.p50,
    );
    latency_row(
        &format!("Normal actor, flooded shard (flood {} meanwhile)", mps(flood_normal)),
        "whirl",
        &ask_normal,
        idle.p50,
    );

    let (spawns, bytes_per_actor) = whirl_runtime::spawn_rate_and_memory(scale);
    let spawn = Throughput::from_histogram(&spawns);
    println!();
    println!("## actors");
    println!("| measure | p50 | min | max |");
    println!("|---|---:|---:|---:|");
    println!(
        "| spawn rate on one shard ({} per sample, actors/s) | {} | {} | {} |",
        scale.spawns_per_sample,
        mps(spawn.p50),
        mps(spawn.min),
        mps(spawn.max)
    );
    println!(
        "| runtime memory per idle actor ({} actors, bytes) | {bytes_per_actor:.0} | | |",
        scale.idle_actors
    );

    let [metrics_off, metrics_on, subscribed] = observability::metrics_cost(scale, quick);
    println!();
    println!(
        "## observability (same-shard send + handle; vs = p50 / metrics off; the subscriber \
         runs in a child process, interleaved with the others)"
    );
    println!("| scenario | peer | runs | p50 | min | max | vs |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let scenario = "same-shard send + handle";
    let off = throughput_row(
        &format!("{scenario}, metrics off"),
        "whirl",
        &metrics_off,
        p50(&metrics_off),
    );
    let on = throughput_row(&format!("{scenario}, metrics on"), "whirl", &metrics_on, off.p50);
    let subscribed = throughput_row(
        &format!("{scenario}, metrics on, tracing subscriber (INFO) installed"),
        "whirl",
        &subscribed,
        off.p50,
    );

    let per_message_ns = 1e9 / local.p50.max(1) as f64;
    println!();
    println!("## targets");
    let checks = [
        (
            format!("same-shard send + handle <= 50 ns ({per_message_ns:.1} ns)"),
            per_message_ns <= 50.0,
        ),
        (format!("cross-shard round trip p50 <= 1 µs ({})", nanos(rtt.p50)), rtt.p50 <= 1_000),
        (format!("cross-shard round trip p99 <= 3 µs ({})", nanos(rtt.p99)), rtt.p99 <= 3_000),
        (
            format!(
                "round trip >= 10x better than glommio shared_channel ({:.1}x)",
                glommio_rt.p50 as f64 / rtt.p50.max(1) as f64
            ),
            glommio_rt.p50 >= 10 * rtt.p50,
        ),
        (
            format!(
                "cross-shard one way >= 50 M msg/s (per message {}, batched {})",
                mps(cross.p50),
                mps(batched.p50)
            ),
            cross.p50.max(batched.p50) >= 50_000_000,
        ),
        (
            format!(
                "waking a parked shard p50 <= 10 µs ({} after 50 µs idle, {} after 1 ms; \
                 a bare glommio wake: {} and {})",
                nanos(wake.p50),
                nanos(wake_long.p50),
                nanos(p50(&glommio_wake)),
                nanos(p50(&glommio_wake_long))
            ),
            wake.p50 <= 10_000,
        ),
        (
            format!("restart p50 <= 2 µs, zero backoff ({} after ctx.fail)", nanos(restart.p50)),
            restart.p50 <= 2_000,
        ),
        at_least_share("a restart policy costs <= 5 % on send + handle", restartable, local, 0.95),
        at_least_share("supervision costs <= 5 % on send + handle", supervised, local, 0.95),
        (
            format!(
                "restart under a supervisor on the same shard p50 <= 2 µs ({})",
                nanos(restart_supervised.p50)
            ),
            restart_supervised.p50 <= 2_000,
        ),
        at_least_share("Context::send costs <= 5 % when nothing is full", outbox, plain, 0.95),
        at_least_share(
            "send_many (256) >= 2x per-message sends across shards",
            send_many,
            cross,
            2.0,
        ),
        at_least_share("send_many (256) >= 0.7x the bare ring", send_many, bare, 0.7),
        at_least_share(
            "handle_batch (256) pipeline >= 2x per message",
            batch_256,
            per_message,
            2.0,
        ),
        (
            format!(
                "a High ask on a flooded shard p99 <= 2x the idle shard's ({} vs {})",
                nanos(flooded.p99),
                nanos(idle.p99)
            ),
            flooded.p99 <= 2 * idle.p99,
        ),
        (
            format!(
                "a pipeline held back by its slow last stage runs at >= 80 % of that stage's \
                 speed (one shard {:.2}x, across {:.2}x)",
                piped.p50 as f64 / alone.p50.max(1) as f64,
                piped_across.p50 as f64 / alone_across.p50.max(1) as f64
            ),
            piped.p50 as f64 >= 0.8 * alone.p50 as f64
                && piped_across.p50 as f64 >= 0.8 * alone_across.p50 as f64,
        ),
        at_least_share("metrics cost <= 5 % on same-shard send + handle", on, off, 0.95),
        at_least_share(
            "metrics and a tracing subscriber cost <= 5 % on same-shard send + handle",
            subscribed,
            off,
            0.95,
        ),
        (format!("spawn >= 1 M actors/s per shard ({})", mps(spawn.p50)), spawn.p50 >= 1_000_000),
        (format!("<= 256 bytes per idle actor ({bytes_per_actor:.0})"), bytes_per_actor <= 256.0),
    ];
    let _ = ask;
    for (what, met) in checks {
        println!("- {what}: {}", if met { "met" } else { "MISSED" });
    }
}
