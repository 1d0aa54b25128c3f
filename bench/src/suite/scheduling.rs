//! Batches and priorities: the steady_state pipeline with and without
//! `Actor::handle_batch`, and a `High` actor's ask latency on a shard
//! flooded by `Normal` work against the same ask on an idle shard.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use whirl::{Actor, ActorRef, Batch, Context, Placement, Priority, Reply, Schedule, SpawnOptions};

use super::whirl_runtime::{per_second, runtime};
use super::Scale;
use crate::report::histogram;

/// How the pipeline's stages take their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// One `handle` per message (the default `handle_batch`).
    PerMessage,
    /// `handle_batch` with this turn budget; the generator sends batches of
    /// the same size.
    Batches(u16),
}

/// Transforms each number and forwards it to the logger.
struct Worker {
    logger: ActorRef<LogMsg>,
    batched: bool,
}

fn work(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

impl Actor for Worker {
    type Msg = u64;
    fn handle(&mut self, n: u64, ctx: &mut Context<Self>) {
        ctx.send(&self.logger, LogMsg::Line(work(n))).unwrap_or_else(|_| panic!("logger runs"));
    }
    fn handle_batch(&mut self, first: u64, rest: &mut Batch<'_, u64>, ctx: &mut Context<Self>) {
        if !self.batched {
            return self.handle(first, ctx);
        }
        for n in std::iter::once(first).chain(rest) {
            self.handle(n, ctx);
        }
    }
}

/// Writes one line per number to /dev/null: one write per message, or one
/// per batch.
struct Logger {
    out: File,
    buffer: Vec<u8>,
    lines: u64,
    heartbeat: Option<Reply<()>>,
    expect: u64,
    batched: bool,
}

enum LogMsg {
    Line(u64),
    /// Answered once `u64` lines are written.
    Heartbeat(u64, Reply<()>),
}

impl Logger {
    fn line(&mut self, msg: LogMsg) {
        match msg {
            LogMsg::Line(n) => {
                writeln!(self.buffer, "value {n:016x}").expect("to memory");
                self.lines += 1;
            }
            LogMsg::Heartbeat(expect, reply) => {
                (self.expect, self.heartbeat) = (expect, Some(reply))
            }
        }
    }

    fn flush(&mut self) {
        self.out.write_all(&self.buffer).expect("/dev/null takes it");
        self.buffer.clear();
        if self.lines >= self.expect {
            if let Some(reply) = self.heartbeat.take() {
                reply.send(());
            }
        }
    }
}

impl Actor for Logger {
    type Msg = LogMsg;
    fn handle(&mut self, msg: LogMsg, _ctx: &mut Context<Self>) {
        self.line(msg);
        self.flush();
    }
    fn handle_batch(
        &mut self,
        first: LogMsg,
        rest: &mut Batch<'_, LogMsg>,
        ctx: &mut Context<Self>,
    ) {
        if !self.batched {
            return self.handle(first, ctx);
        }
        self.line(first);
        for msg in rest {
            self.line(msg);
        }
        self.flush();
    }
}

/// Generator (a task on one shard, `send_many`) → worker → logger (both on
/// the other shard), messages per second at the logger: one run of each
/// handling.
pub fn pipeline(scale: Scale, handlings: &[Handling]) -> Vec<u64> {
    let handlings = handlings.to_vec();
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let there = 1 - sys.current_shard().expect("on a shard");
        let mut rates = Vec::with_capacity(handlings.len());
        let messages = scale.messages / 4;
        for &handling in &handlings {
            let (batched, chunk, schedule) = match handling {
                Handling::PerMessage => (false, 256, Schedule::new()),
                Handling::Batches(n) => (true, n as usize, Schedule::new().turn_budget(n)),
            };
            let options = SpawnOptions::new(Placement::Shard(there)).schedule(schedule);
            let logger = sys
                .spawn_with_options(options, move || Logger {
                    out: File::create("/dev/null").expect("/dev/null"),
                    buffer: Vec::with_capacity(64 * 1024),
                    lines: 0,
                    heartbeat: None,
                    expect: u64::MAX,
                    batched,
                })
                .expect("spawn");
            let worker =
                sys.spawn_with_options(options, move || Worker { logger, batched }).expect("spawn");
            let began = Instant::now();
            let mut batch = VecDeque::with_capacity(chunk);
            let mut next = 0;
            while next < messages {
                let end = (next + chunk as u64).min(messages);
                batch.extend(next..end);
                next = end;
                worker.send_many(&mut batch).await.expect("worker runs");
            }
            logger.ask(|reply| LogMsg::Heartbeat(messages, reply)).await.expect("logger");
            rates.push(per_second(messages, began.elapsed()));
            worker.stop();
            logger.stop();
        }
        rates
    })
    .expect("block_on")
}

/// Sends each message it handles to itself again: a flood as deep as what
/// it was given.
struct Flooder {
    handled: Arc<AtomicU64>,
}

impl Actor for Flooder {
    type Msg = u64;
    fn handle(&mut self, n: u64, ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        let _ = ctx.myself().send(n);
    }
}

/// Answers at once.
struct Control;

impl Actor for Control {
    type Msg = Reply<()>;
    fn handle(&mut self, reply: Reply<()>, _ctx: &mut Context<Self>) {
        reply.send(());
    }
}

/// Where the asked actor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedOn {
    /// A `High` actor on an idle shard.
    Idle,
    /// A `High` actor on a shard where 4 `Normal` actors flood themselves,
    /// 1000 messages deep each.
    FloodedHigh,
    /// The same flood, the asked actor `Normal`.
    FloodedNormal,
}

/// Ask round trips (ns) from a task on one shard to an actor on the other,
/// as `on` says; also the flood's messages per second meanwhile.
pub fn priority_ask(scale: Scale, on: AskedOn) -> (Histogram<u64>, u64) {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let there = 1 - sys.current_shard().expect("on a shard");
        let handled = Arc::new(AtomicU64::new(0));
        let mut flooders = Vec::new();
        if on != AskedOn::Idle {
            for _ in 0..4 {
                let handled = handled.clone();
                let flooder = sys
                    .spawn_on(there, move || Flooder { handled: handled.clone() })
                    .expect("spawn");
                let mut msgs: VecDeque<u64> = (0..1000).collect();
                flooder.send_many(&mut msgs).await.expect("room");
                flooders.push(flooder);
            }
        }
        let priority = if on == AskedOn::FloodedNormal { Priority::Normal } else { Priority::High };
        let options =
            SpawnOptions::new(Placement::Shard(there)).schedule(Schedule::new().priority(priority));
        let control = sys.spawn_with_options(options, || Control).expect("spawn");
        let mut latencies = histogram(10_000_000_000);
        let samples = scale.samples / 10;
        for _ in 0..samples / 10 {
            control.ask(|reply| reply).await.expect("answers");
        }
        let (began, start) = (Instant::now(), handled.load(Ordering::Relaxed));
        for _ in 0..samples {
            let sent = Instant::now();
            control.ask(|reply| reply).await.expect("answers");
            latencies.record(sent.elapsed().as_nanos() as u64).expect("in range");
        }
        let flood = per_second(handled.load(Ordering::Relaxed) - start, began.elapsed());
        flooders.iter().for_each(ActorRef::stop);
        control.stop();
        (latencies, flood)
    })
    .expect("block_on")
}
