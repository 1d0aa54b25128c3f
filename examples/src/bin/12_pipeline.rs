//! 12. A pipeline across cores: a generator on shard 0 paced to `--rate`
//!     items a second, a worker on shard 1 that handles them in batches, a
//!     logger on shard 0 that prints the live throughput at every heartbeat.
//!     The heartbeat travels down the pipeline with the items, so each line
//!     counts exactly what was handled between two beats.
//!
//! Run: `cargo run --release -p whirl-examples --bin 12_pipeline -- --rate 2000000 --beats 5`

use std::time::{Duration, Instant};

use clap::Parser;
use whirl::{
    Actor, ActorRef, Batch, Context, Placement, Reply, Runtime, Schedule, SpawnOptions,
    DEFAULT_MAILBOX_CAPACITY,
};

/// Generator → worker → logger, with a heartbeat.
#[derive(Debug, Parser)]
struct Args {
    /// Items the generator offers a second.
    #[arg(long, default_value_t = 1_000_000)]
    rate: u64,
    /// Heartbeats to run for.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    beats: u32,
    /// Milliseconds between heartbeats.
    #[arg(long, default_value_t = 1000)]
    beat_ms: u64,
    /// The most items the worker handles in one turn.
    #[arg(long, default_value_t = 256)]
    batch: u16,
    /// Microseconds an idle shard polls before it sleeps (whirl's default
    /// when not given; 0 spares the CPU).
    #[arg(long)]
    spin_us: Option<u64>,
}

/// What flows from the generator to the worker.
enum Item {
    Value(u64),
    /// Heartbeat `n`: everything before it belongs to beats up to `n`.
    Beat(u32),
    /// The generator is done after `sent` items whose sum is `sum`.
    End {
        sent: u64,
        sum: u64,
    },
}

/// What the logger hears.
enum Log {
    /// The worker handled `items` more in one turn, summing `sum`.
    Handled {
        items: u64,
        sum: u64,
    },
    Beat(u32),
    End {
        sent: u64,
        sum: u64,
    },
    /// The program waits for the last line.
    WaitForEnd(Reply<String>),
}

/// 1. The generator: a 1 ms tick tops the items sent up to `rate × time`,
///    a mailbox's worth per call, going on at once (a message to itself)
///    while it is behind: the pace holds however late a tick runs.
struct Generator {
    worker: ActorRef<Item>,
    rate: u64,
    beat: Duration,
    beats: u32,
    began: Option<Instant>,
    sent: u64,
    sum: u64,
    beat_no: u32,
}

impl Actor for Generator {
    /// A tick, or "go on" from itself.
    type Msg = ();

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.began = Some(Instant::now());
        let _ = ctx.send_interval(Duration::from_millis(1), || ());
    }

    fn handle(&mut self, (): (), ctx: &mut Context<Self>) {
        if self.beat_no == self.beats {
            return;
        }
        let elapsed = self.began.expect("started").elapsed();
        let due = (self.rate as u128 * elapsed.as_nanos() / 1_000_000_000) as u64;
        // `ctx.send` never drops: when the worker is full the item waits in
        // this actor's outbox and the generator is held back (backpressure).
        // A call offers at most a mailbox's worth, so it never gets `Full`.
        let batch = (DEFAULT_MAILBOX_CAPACITY as u64 - 2).min(due.saturating_sub(self.sent));
        for _ in 0..batch {
            let value = self.sent;
            let _ = ctx.send(&self.worker, Item::Value(value));
            self.sent += 1;
            self.sum = self.sum.wrapping_add(value);
        }
        if self.sent < due {
            let _ = ctx.send(&ctx.myself(), ());
        }
        if elapsed >= self.beat * (self.beat_no + 1) {
            self.beat_no += 1;
            let _ = ctx.send(&self.worker, Item::Beat(self.beat_no));
            if self.beat_no == self.beats {
                let _ = ctx.send(&self.worker, Item::End { sent: self.sent, sum: self.sum });
            }
        }
    }
}

/// 2. The worker: takes up to `--batch` items a turn (`handle_batch`) and
///    reports once per turn, not per item.
struct Worker {
    logger: ActorRef<Log>,
}

impl Worker {
    /// Takes one item into `handled` (items, sum); a marker first reports
    /// what was handled before it, then goes on to the logger.
    fn take(&self, item: Item, handled: &mut (u64, u64), ctx: &mut Context<Self>) {
        let marker = match item {
            Item::Value(v) => {
                // The work: a little arithmetic per item.
                handled.0 += 1;
                handled.1 = handled.1.wrapping_add(std::hint::black_box(v));
                return;
            }
            Item::Beat(n) => Log::Beat(n),
            Item::End { sent, sum } => Log::End { sent, sum },
        };
        self.report(handled, ctx);
        let _ = ctx.send(&self.logger, marker);
    }

    /// One report per turn, not per item.
    fn report(&self, handled: &mut (u64, u64), ctx: &mut Context<Self>) {
        let (items, sum) = std::mem::take(handled);
        if items > 0 {
            let _ = ctx.send(&self.logger, Log::Handled { items, sum });
        }
    }
}

impl Actor for Worker {
    type Msg = Item;

    fn handle(&mut self, item: Item, ctx: &mut Context<Self>) {
        let mut handled = (0, 0);
        self.take(item, &mut handled, ctx);
        self.report(&mut handled, ctx);
    }

    fn handle_batch(&mut self, first: Item, rest: &mut Batch<'_, Item>, ctx: &mut Context<Self>) {
        let mut handled = (0, 0);
        self.take(first, &mut handled, ctx);
        for item in rest {
            self.take(item, &mut handled, ctx);
        }
        self.report(&mut handled, ctx);
    }
}

/// 3. The logger: a line per heartbeat, and the totals at the end.
#[derive(Default)]
struct Logger {
    since: Option<Instant>,
    items: u64,
    batches: u64,
    total: u64,
    sum: u64,
    last: Option<String>,
    waiting: Option<Reply<String>>,
}

impl Actor for Logger {
    type Msg = Log;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        self.since = Some(Instant::now());
    }

    fn handle(&mut self, msg: Log, _ctx: &mut Context<Self>) {
        match msg {
            Log::Handled { items, sum } => {
                self.items += items;
                self.batches += 1;
                self.total += items;
                self.sum = self.sum.wrapping_add(sum);
            }
            Log::Beat(n) => {
                let now = Instant::now();
                let took = now - self.since.replace(now).expect("started");
                let per_batch = self.items as f64 / self.batches.max(1) as f64;
                println!(
                    "beat {n}: {:.0} items/s, {} batches of {per_batch:.1} items on average",
                    self.items as f64 / took.as_secs_f64(),
                    self.batches,
                );
                (self.items, self.batches) = (0, 0);
            }
            Log::End { sent, sum } => {
                let check = if sum == self.sum { "sums match" } else { "SUMS DIFFER" };
                let line = format!("sent {sent}, handled {}, {check}", self.total);
                match self.waiting.take() {
                    Some(reply) => reply.send(line),
                    None => self.last = Some(line),
                }
            }
            Log::WaitForEnd(reply) => match self.last.take() {
                Some(line) => reply.send(line),
                None => self.waiting = Some(reply),
            },
        }
    }
}

fn main() -> Result<(), whirl::Error> {
    let args = Args::parse();
    let mut builder = Runtime::builder().shards(2);
    if let Some(spin) = args.spin_us {
        builder = builder.spin_before_park(Duration::from_micros(spin));
    }
    let rt = builder.build()?;
    let last = rt.block_on(move |sys| async move {
        let logger = sys.spawn_once(Placement::Shard(0), Logger::default).expect("shard 0");
        let worker = sys
            .spawn_with_options(
                SpawnOptions::new(Placement::Shard(1))
                    .schedule(Schedule::new().turn_budget(args.batch)),
                move || Worker { logger },
            )
            .expect("shard 1");
        let generator = Generator {
            worker,
            rate: args.rate,
            beat: Duration::from_millis(args.beat_ms),
            beats: args.beats,
            began: None,
            sent: 0,
            sum: 0,
            beat_no: 0,
        };
        sys.spawn_once(Placement::Shard(0), move || generator).expect("shard 0");
        let last = logger.ask(Log::WaitForEnd).await.expect("the logger answers");
        sys.shutdown().await;
        last
    })?;
    println!("{last}");
    Ok(())
}
