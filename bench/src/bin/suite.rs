//! The whirl benchmark suite: whirl against actix, ractor, kameo, tokio and
//! glommio on Savina, micro scenarios with their floors, open-loop latency
//! and the steady_state pipeline, in one run.
//!
//! ```text
//! cargo run --release -p whirl-bench                      # everything
//! cargo run --release -p whirl-bench -- --quick           # under 2 minutes
//! cargo run --release -p whirl-bench -- --list            # the scenarios
//! cargo run --release -p whirl-bench -- --filter savina/big --runs 9
//! ```
//!
//! Prints the machine, a markdown table and a summary against the best
//! peer; writes `results.json`, an SVG and `.hgrm` files per latency
//! scenario to `--out` (default `target/whirl-bench`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use whirl_bench::alloc::TrackingAllocator;
use whirl_bench::savina::Params;
use whirl_bench::suite::catalog::{self, Config};
use whirl_bench::suite::machine::Machine;
use whirl_bench::suite::results::{self, ScenarioResult};
use whirl_bench::suite::{observability, output, Scale};

#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

/// The whirl benchmark suite: whirl and its peers side by side.
#[derive(Debug, Parser, Serialize)]
#[command(version, about)]
struct Args {
    /// Run only the scenarios whose id contains one of these (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Scaled-down sizes and 3 runs: the whole suite in under 2 minutes.
    #[arg(long)]
    quick: bool,
    /// Cores of the spread-out variants: whirl shards, actix arbiters,
    /// tokio workers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(2..=256))]
    shards: u16,
    /// Measured runs per peer (after one warm-up run); default 5, or 3
    /// with --quick.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    runs: Option<u16>,
    /// Where to write the JSON report (default: OUT/results.json).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Directory for the JSON report, the SVG plots and the .hgrm files.
    #[arg(long, value_name = "DIR", default_value = "target/whirl-bench")]
    out: PathBuf,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// Open-loop rate, messages per second (default 100000, or 50000
    /// with --quick).
    #[arg(long, value_name = "MSG_PER_S", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    rate: Option<u64>,
    /// Heartbeats (of 100 ms) per open-loop run (default 10, or 2 with
    /// --quick).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    beats: Option<u32>,
    /// Also write the results as a markdown page (the machine, the command,
    /// every table): `bench/RESULTS.md` is written this way, never by hand.
    #[arg(long, value_name = "PATH")]
    results_md: Option<PathBuf>,
}

/// The JSON report.
#[derive(Serialize)]
struct Report<'a> {
    machine: &'a Machine,
    args: &'a Args,
    runs: usize,
    rate: u64,
    beats: u32,
    scale: Scale,
    params: Params,
    seconds: f64,
    scenarios: &'a [ScenarioResult],
}

fn main() {
    let args = Args::parse();
    observability::subscriber_run_if_asked(if args.quick { Scale::quick() } else { Scale::full() });
    let config = Config {
        quick: args.quick,
        cores: usize::from(args.shards),
        rate: args.rate.unwrap_or(if args.quick { 50_000 } else { 100_000 }),
        beats: args.beats.unwrap_or(if args.quick { 2 } else { 10 }),
        beat: Duration::from_millis(100),
        scale: if args.quick { Scale::quick() } else { Scale::full() },
        params: if args.quick { Params::quick() } else { Params::paper() },
    };
    let runs = usize::from(args.runs.unwrap_or(if args.quick { 3 } else { 5 }));
    let scenarios: Vec<_> = catalog::all(&config)
        .into_iter()
        .filter(|s| args.filter.is_empty() || args.filter.iter().any(|f| s.id.contains(f.as_str())))
        .collect();
    if args.list {
        for s in &scenarios {
            let peers: Vec<_> = s.entries.iter().map(|e| e.peer.as_str()).collect();
            println!("{:32} {}\n{:32} peers: {}", s.id, s.title, "", peers.join("; "));
        }
        return;
    }
    if scenarios.is_empty() {
        eprintln!("no scenario matches {:?}; see --list", args.filter);
        std::process::exit(2);
    }
    let machine = Machine::describe();
    let command: Vec<String> = std::env::args().skip(1).collect();
    let head = format!(
        "# whirl benchmark suite{}\n\n\
         machine: {} ({} CPUs, {}), {}; {}; commit {}; {}\n\
         config: {runs} runs per peer after a warm-up, peers interleaved; spread-out variants on \
         {} cores; open loop {} msg/s for {} beats of 100 ms\n\
         command: `cargo run --release -p whirl-bench --bin suite -- {}`\n\n",
        if args.quick { " (--quick)" } else { "" },
        machine.cpu,
        machine.cpus,
        machine.memory,
        machine.kernel,
        machine.rustc,
        machine.commit,
        machine.date,
        config.cores,
        config.rate,
        config.beats,
        command.join(" "),
    );
    print!("{head}");

    let total: u64 = scenarios.iter().map(|s| results::runs_of(s, runs)).sum();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar
    });
    let began = Instant::now();
    let count = scenarios.len();
    let mut done = Vec::with_capacity(count);
    for (i, scenario) in scenarios.into_iter().enumerate() {
        let id = scenario.id.clone();
        if bar.is_none() {
            eprintln!("[{}/{count}] {id} ({:.0} s)", i + 1, began.elapsed().as_secs_f64());
        }
        let result = results::run(scenario, runs, &mut |peer| {
            if let Some(bar) = &bar {
                bar.set_message(format!("{id} · {peer}"));
                bar.inc(1);
            }
        });
        done.push(result);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = began.elapsed().as_secs_f64();

    let tables = output::markdown(&done);
    print!("{tables}");
    println!("\n{count} scenarios in {seconds:.0} s");
    if let Some(path) = &args.results_md {
        let page = format!("{head}{tables}\n{count} scenarios in {seconds:.0} s.\n");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).expect("create the results page's directory");
        }
        std::fs::write(path, page).expect("write the results page");
        println!("wrote {}", path.display());
    }

    std::fs::create_dir_all(&args.out).expect("create the output directory");
    for r in &done {
        if r.entries.iter().all(|e| e.histogram.is_none()) {
            continue;
        }
        let name = output::slug(&r.id);
        for e in &r.entries {
            if let Some(h) = &e.histogram {
                let path = args.out.join(format!("{name}.{}.hgrm", output::slug(&e.peer)));
                std::fs::write(&path, output::hgrm(h)).expect("write .hgrm");
            }
        }
        let svg = args.out.join(format!("{name}.svg"));
        if let Err(e) = output::plot(r, &svg) {
            eprintln!("plot {}: {e}", svg.display());
        }
    }
    let report = Report {
        machine: &machine,
        args: &args,
        runs,
        rate: config.rate,
        beats: config.beats,
        scale: config.scale,
        params: config.params,
        seconds,
        scenarios: &done,
    };
    let json = args.json.clone().unwrap_or_else(|| args.out.join("results.json"));
    let text = serde_json::to_string_pretty(&report).expect("serialise");
    std::fs::write(&json, text).expect("write the JSON report");
    println!("wrote {} and the plots and .hgrm files in {}", json.display(), args.out.display());
}
