//! The dispatch core against stakker: whirl on one shard and on two, stakker
//! (the fastest single-threaded actor runtime in Rust) and tokio's
//! current-thread runtime, in one run, peers interleaved run after run.
//!
//! ```text
//! cargo run --release -p whirl-bench --bin dispatch              # full run
//! cargo run --release -p whirl-bench --bin dispatch -- --quick   # CI smoke run
//! cargo run --release -p whirl-bench --bin dispatch -- --runs 7 --filter big
//! ```

use hdrhistogram::Histogram;
use whirl_bench::affinity::pin_current_thread;
use whirl_bench::alloc::TrackingAllocator;
use whirl_bench::dispatch::{
    stakker_side as stakker, tokio_side as tokio, whirl_side::Whirl, Size,
};
use whirl_bench::report::{histogram, nanos};

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

/// The peers, in table order.
const PEERS: [&str; 4] =
    ["whirl · 1 shard", "whirl · 2 shards", "stakker · 1 thread", "tokio current_thread"];

/// One scenario's results: a value per run, per peer (`None`: the peer does
/// not express the scenario).
struct Row {
    name: &'static str,
    unit: &'static str,
    runs: [Vec<f64>; 4],
    expressed: [bool; 4],
}

fn median_min_max(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let value_of =
        |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize =
        value_of("--runs").map_or(if quick { 2 } else { 5 }, |r| r.parse().expect("--runs N"));
    let filter = value_of("--filter").unwrap_or_default();
    let size = if quick { Size::quick() } else { Size::full() };
    let one = Whirl::new(1);
    let two = Whirl::new(2);
    // The program thread of stakker and tokio shares cpu 0 with whirl's
    // shard 0 (which parks while they run). After the runtimes are built:
    // they take their cpus from this thread's affinity mask.
    let _ = pin_current_thread(0);

    println!(
        "# whirl dispatch core vs stakker{}: {runs} runs per peer, interleaved",
        if quick { " (quick)" } else { "" }
    );
    println!("# {size:?}");

    type Run<'a> = Box<dyn Fn() -> f64 + 'a>;
    let scenarios: Vec<(&'static str, &'static str, [Option<Run>; 4])> = vec![
        (
            "thread ring: 100 actors pass a token",
            "M hops/s",
            [
                Some(Box::new(|| one.thread_ring(size))),
                Some(Box::new(|| two.thread_ring(size))),
                Some(Box::new(|| stakker::thread_ring(size))),
                Some(Box::new(|| tokio::thread_ring(size))),
            ],
        ),
        (
            "Savina big: 256 actors ping random peers, wait for the pong",
            "M msg/s",
            [
                Some(Box::new(|| one.big(size))),
                Some(Box::new(|| two.big(size))),
                Some(Box::new(|| stakker::big(size))),
                Some(Box::new(|| tokio::big(size))),
            ],
        ),
        (
            "Savina count: sends to one actor, then one ask",
            "M msg/s",
            [
                Some(Box::new(|| one.count(size))),
                Some(Box::new(|| two.count(size))),
                Some(Box::new(|| stakker::count(size))),
                Some(Box::new(|| tokio::count(size))),
            ],
        ),
        (
            "spawn",
            "M actors/s",
            [
                Some(Box::new(|| one.spawn_rate(size))),
                None,
                Some(Box::new(|| stakker::spawn_rate(size))),
                Some(Box::new(|| tokio::spawn_rate(size))),
            ],
        ),
    ];

    let mut rows = Vec::new();
    for (name, unit, peers) in &scenarios {
        if !name.contains(filter.as_str()) {
            continue;
        }
        let mut row = Row {
            name,
            unit,
            runs: Default::default(),
            expressed: peers.each_ref().map(Option::is_some),
        };
        for _ in 0..runs {
            for (i, peer) in peers.iter().enumerate() {
                if let Some(run) = peer {
                    row.runs[i].push(run() / 1e6);
                }
            }
        }
        rows.push(row);
    }

    println!();
    println!("## throughput: median of {runs} runs (min–max)");
    println!("| scenario | {} | whirl·1 / stakker | whirl·2 / whirl·1 |", PEERS.join(" | "));
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let cells: Vec<String> = (0..4)
            .map(|i| {
                if !row.expressed[i] {
                    return "—".into();
                }
                let (m, lo, hi) = median_min_max(&row.runs[i]);
                format!("{m:.1} ({lo:.1}–{hi:.1})")
            })
            .collect();
        let med =
            |i: usize| if row.expressed[i] { median_min_max(&row.runs[i]).0 } else { f64::NAN };
        let vs_stakker = med(0) / med(2);
        let scaling = med(1) / med(0);
        let show = |r: f64| if r.is_nan() { "—".to_string() } else { format!("{r:.2}×") };
        println!(
            "| {} ({}) | {} | {} | {} |",
            row.name,
            row.unit,
            cells.join(" | "),
            show(vs_stakker),
            show(scaling)
        );
    }

    if "ask round trip".contains(filter.as_str()) || filter.is_empty() {
        println!();
        println!("## ask round trip on one thread/shard: ns per round trip, each sample the mean of {} (all runs)", size.asks_per_sample);
        println!("| peer | samples | p50 | p99 | p99.9 | max |");
        println!("|---|---:|---:|---:|---:|---:|");
        let mut hists: Vec<(&str, Histogram<u64>)> = vec![
            ("whirl · actor ↔ actor (answer as a message)", histogram(1_000_000_000)),
            ("stakker · actor ↔ actor with `Ret`", histogram(1_000_000_000)),
            ("whirl · program task ↔ actor (`ask`)", histogram(1_000_000_000)),
            ("tokio current_thread · task ↔ task (mpsc + oneshot)", histogram(1_000_000_000)),
        ];
        for _ in 0..runs {
            let samples = [
                one.actor_ask(size),
                stakker::actor_ask(size),
                one.program_ask(size),
                tokio::program_ask(size),
            ];
            for ((_, h), s) in hists.iter_mut().zip(samples) {
                s.into_iter().for_each(|v| h.record(v.max(1)).expect("in range"));
            }
        }
        for (peer, h) in &hists {
            println!(
                "| {peer} | {} | {} | {} | {} | {} |",
                h.len(),
                nanos(h.value_at_quantile(0.5)),
                nanos(h.value_at_quantile(0.99)),
                nanos(h.value_at_quantile(0.999)),
                nanos(h.max())
            );
        }
    }

    if "memory".contains(filter.as_str()) || filter.is_empty() {
        println!();
        println!("## memory per idle actor ({} actors, bytes allocated)", size.spawns);
        println!("| whirl | stakker | tokio task + mpsc |");
        println!("|---:|---:|---:|");
        println!(
            "| {:.0} B | {:.0} B | {:.0} B |",
            Whirl::bytes_per_actor(size),
            stakker::bytes_per_actor(size),
            tokio::bytes_per_actor(size)
        );
    }
}
