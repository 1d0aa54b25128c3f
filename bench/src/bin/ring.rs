//! The cross-core ring benchmark: whirl's SPSC ring against rtrb, crossbeam's
//! `ArrayQueue` and glommio's `shared_channel`, in one run, on two pinned
//! cores.
//!
//! ```text
//! cargo run --release -p whirl-bench --bin ring            # full run
//! cargo run --release -p whirl-bench --bin ring -- --quick # CI smoke run
//! ```

use std::time::Duration;

use hdrhistogram::Histogram;
use whirl_bench::affinity::available_cpus;
use whirl_bench::report::{histogram, mps, nanos, ratio, Latency, Throughput};
use whirl_bench::ring::{
    glommio_channel, round_trip, throughput, Cores, CrossbeamArrayQueue, Rtrb, SpscQueue, Whirl,
};

/// What one invocation measures.
struct Config {
    capacity: usize,
    messages: u64,
    runs: usize,
    warmup: u64,
    samples: u64,
}

impl Config {
    fn from_args() -> Self {
        let mut config = Self {
            capacity: 1024,
            messages: 4_000_000,
            runs: 11,
            warmup: 20_000,
            samples: 200_000,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = |i: usize| -> u64 {
                args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                    eprintln!("{} needs a number", args[i]);
                    std::process::exit(2)
                })
            };
            match args[i].as_str() {
                "--quick" => {
                    config.messages = 200_000;
                    config.runs = 3;
                    config.warmup = 1_000;
                    config.samples = 10_000;
                }
                "--messages" => {
                    config.messages = value(i);
                    i += 1;
                }
                "--runs" => {
                    config.runs = value(i) as usize;
                    i += 1;
                }
                "--samples" => {
                    config.samples = value(i);
                    i += 1;
                }
                "--bench" => {} // passed by `cargo bench`
                other => {
                    eprintln!(
                        "unknown argument {other}; use --quick, --messages N, --runs N, --samples N"
                    );
                    std::process::exit(2)
                }
            }
            i += 1;
        }
        config
    }
}

/// One throughput row: a peer in one mode, one sample per run.
struct Row {
    peer: &'static str,
    mode: String,
    run: Box<dyn Fn() -> u64>,
    samples: Vec<u64>,
}

impl Row {
    fn new(peer: &'static str, mode: String, run: Box<dyn Fn() -> u64>) -> Self {
        Self { peer, mode, run, samples: Vec::new() }
    }

    fn result(&self) -> Throughput {
        let mut h = histogram(100_000_000_000);
        for &s in &self.samples {
            h.record(s).expect("in range");
        }
        Throughput::from_histogram(&h)
    }

    /// The median over rounds of this row's run divided by `baseline`'s run
    /// of the same round: a paired comparison, so a slow phase of the
    /// machine that hits both runs of a round cancels out.
    fn paired_ratio(&self, baseline: &Row) -> f64 {
        let mut ratios: Vec<f64> = self
            .samples
            .iter()
            .zip(&baseline.samples)
            .map(|(&a, &b)| a as f64 / b.max(1) as f64)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
    }
}

fn spsc_row<Q: SpscQueue>(config: &Config, cores: Cores, batch: usize) -> Row {
    let (capacity, messages) = (config.capacity, config.messages);
    let mode = if batch == 1 { "per item".to_string() } else { format!("batch {batch}") };
    Row::new(Q::NAME, mode, Box::new(move || throughput::<Q>(cores, capacity, batch, messages)))
}

/// Runs every row `runs` times, interleaving the rows within each round so
/// that the machine's noise hits every peer alike.
fn run_interleaved(rows: &mut [Row], runs: usize) {
    for _ in 0..runs {
        for row in rows.iter_mut() {
            let sample = (row.run)();
            row.samples.push(sample);
        }
    }
}

/// Round trips of every peer, in `rounds` interleaved rounds.
fn round_trips(config: &Config, cores: Cores, rounds: u64) -> Vec<(&'static str, Latency)> {
    type Measure = Box<dyn Fn(u64, u64) -> Histogram<u64>>;
    let peers: Vec<(&'static str, u64, Measure)> = vec![
        (Whirl::NAME, 1, Box::new(move |w, s| round_trip::<Whirl>(cores, w, s))),
        (Rtrb::NAME, 1, Box::new(move |w, s| round_trip::<Rtrb>(cores, w, s))),
        (
            CrossbeamArrayQueue::NAME,
            1,
            Box::new(move |w, s| round_trip::<CrossbeamArrayQueue>(cores, w, s)),
        ),
        // glommio's round trip is ~100x slower: a tenth of the samples.
        (
            glommio_channel::NAME,
            10,
            Box::new(move |w, s| glommio_channel::round_trip(cores, w, s, config_spin())),
        ),
    ];
    let mut merged: Vec<_> = peers.iter().map(|_| histogram(60_000_000_000)).collect();
    for _ in 0..rounds {
        for ((_, divisor, measure), h) in peers.iter().zip(&mut merged) {
            let warmup = config.warmup / rounds / divisor;
            let samples = config.samples / rounds / divisor;
            h.add(measure(warmup, samples)).expect("same bounds");
        }
    }
    peers.iter().zip(&merged).map(|((name, _, _), h)| (*name, Latency::from_histogram(h))).collect()
}

/// How long glommio's executors spin before parking: long enough that they
/// never park during the benchmark, its best case.
fn config_spin() -> Duration {
    Duration::from_millis(1)
}

fn main() {
    if available_cpus() < 2 {
        eprintln!("the ring benchmark needs two CPUs (one per side); this process has one");
        std::process::exit(2);
    }
    let config = Config::from_args();
    let cores = Cores { producer: 0, consumer: 1 };
    println!(
        "# ring benchmark: u64 items, capacity {}, producer on cpu {}, consumer on cpu {}",
        config.capacity, cores.producer, cores.consumer
    );
    println!(
        "# throughput: {} interleaved runs x {} messages per row (glommio: at most 1M); \
         round trip: {} samples after {} warm-up (glommio: a tenth), in 10 interleaved rounds",
        config.runs, config.messages, config.samples, config.warmup
    );
    println!(
        "# whirl park barrier: {}; glommio spin before park: {:?}",
        if whirl_mailbox::asymmetric_barriers() { "membarrier" } else { "SeqCst fence" },
        config_spin()
    );

    let (capacity, glommio_messages) = (config.capacity, config.messages.min(1_000_000));
    let mut per_item = vec![
        spsc_row::<Whirl>(&config, cores, 1),
        spsc_row::<Rtrb>(&config, cores, 1),
        spsc_row::<CrossbeamArrayQueue>(&config, cores, 1),
        Row::new(
            glommio_channel::NAME,
            "per item".into(),
            Box::new(move || {
                glommio_channel::throughput(cores, capacity, glommio_messages, config_spin())
            }),
        ),
    ];
    run_interleaved(&mut per_item, config.runs);
    let mut rows = per_item;
    for batch in [16, 64] {
        let mut batched =
            vec![spsc_row::<Whirl>(&config, cores, batch), spsc_row::<Rtrb>(&config, cores, batch)];
        run_interleaved(&mut batched, config.runs);
        rows.extend(batched);
    }

    println!();
    println!(
        "## one-way throughput (messages/s per run; vs rtrb = median over rounds of \
         this run / rtrb's run of the same round, same mode)"
    );
    println!("| peer | mode | p50 | min | max | vs rtrb |");
    println!("|---|---|---:|---:|---:|---:|");
    let paired = |row: &Row| {
        rows.iter()
            .find(|r| r.peer == Rtrb::NAME && r.mode == row.mode)
            .map_or(0.0, |baseline| row.paired_ratio(baseline))
    };
    for row in &rows {
        let result = row.result();
        println!(
            "| {} | {} | {} | {} | {} | {:.3}× |",
            row.peer,
            row.mode,
            mps(result.p50),
            mps(result.min),
            mps(result.max),
            paired(row)
        );
    }

    let latencies = round_trips(&config, cores, 10);
    let rtrb_rtt = latencies[1].1.p50;
    println!();
    println!("## round trip between the two cores (ratio = p50 / rtrb's p50)");
    println!("| peer | samples | p50 | p99 | p99.9 | max | vs rtrb |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (peer, l) in &latencies {
        println!(
            "| {peer} | {} | {} | {} | {} | {} | {} |",
            l.samples,
            nanos(l.p50),
            nanos(l.p99),
            nanos(l.p999),
            nanos(l.max),
            ratio(l.p50, rtrb_rtt)
        );
    }

    let whirl_vs_rtrb = |mode: &str| {
        rows.iter().find(|r| r.peer == Whirl::NAME && r.mode == mode).map_or(0.0, paired)
    };
    println!();
    println!("## targets");
    let checks = [
        ("per-item throughput >= rtrb per-item", whirl_vs_rtrb("per item") >= 1.0),
        ("batch 16 throughput >= rtrb chunks", whirl_vs_rtrb("batch 16") >= 1.0),
        ("batch 64 throughput >= rtrb chunks", whirl_vs_rtrb("batch 64") >= 1.0),
        ("round-trip p50 <= 1.2 x rtrb", latencies[0].1.p50 * 10 <= rtrb_rtt * 12),
    ];
    for (what, met) in checks {
        println!("- {what}: {}", if met { "met" } else { "MISSED" });
    }
}
