//! Pipelines a user writes, built as a user builds them: `cargo build
//! --release` in a crate of one's own. Each check counts exactly what it
//! sent and what arrived, in order, and needs a shutdown that returns; a
//! watchdog fails the run if anything hangs.
//!
//! Run: `cargo run --release -- [messages per size]`

use std::process::exit;
use std::sync::mpsc;
use std::time::Duration;

use whirl::{Actor, ActorRef, Context, Reply, Runtime};

/// The longest a check may take on a loaded 2-core machine.
const WATCHDOG: Duration = Duration::from_secs(300);

fn main() {
    let messages: u64 = std::env::args().nth(1).map_or(1_000_000, |n| n.parse().expect("a count"));
    let (done, finished) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if finished.recv_timeout(WATCHDOG).is_err() {
            eprintln!("FAIL: still running after {WATCHDOG:?}: a shard hangs");
            exit(2);
        }
    });
    relay_then_shutdown();
    // Sizes from one word to past the inline limit (256 bytes: boxed).
    pipeline::<1>(messages);
    pipeline::<2>(messages);
    pipeline::<3>(messages);
    pipeline::<4>(messages);
    pipeline::<5>(messages);
    pipeline::<6>(messages);
    pipeline::<8>(messages);
    pipeline::<13>(messages);
    pipeline::<32>(messages / 4);
    pipeline::<33>(messages / 4);
    done.send(()).unwrap();
    println!("all checks passed");
}

/// Fails the run with a message.
fn fail(what: String) -> ! {
    eprintln!("FAIL: {what}");
    exit(1);
}

// --- 1. A relay on shard 1, fed from a plain thread ---------------------

enum SinkMsg {
    Add([u64; 3]),
    Get(Reply<(u64, u64)>),
}

struct Sink {
    sum: u64,
    count: u64,
}

impl Actor for Sink {
    type Msg = SinkMsg;
    fn handle(&mut self, msg: SinkMsg, _: &mut Context<Self>) {
        match msg {
            SinkMsg::Add(n) => {
                self.sum += n[0];
                self.count += 1;
            }
            SinkMsg::Get(reply) => reply.send((self.count, self.sum)),
        }
    }
}

/// Passes numbers on as `[u64; 3]`, and the question behind them.
struct Relay(ActorRef<SinkMsg>);

enum RelayMsg {
    N(u64),
    Get(Reply<(u64, u64)>),
}

impl Actor for Relay {
    type Msg = RelayMsg;
    fn handle(&mut self, msg: RelayMsg, ctx: &mut Context<Self>) {
        let msg = match msg {
            RelayMsg::N(n) => SinkMsg::Add([n; 3]),
            RelayMsg::Get(reply) => SinkMsg::Get(reply),
        };
        ctx.send(&self.0, msg).unwrap_or_else(|_| fail("relay: the sink stopped".into()));
    }
}

fn relay_then_shutdown() {
    const SENT: u64 = 1000;
    let rt = Runtime::builder().shards(2).build().expect("a runtime");
    let sys = rt.system();
    let sink = sys.spawn_on(1, || Sink { sum: 0, count: 0 }).expect("spawn sink");
    let relay = sys.spawn_on(1, move || Relay(sink)).expect("spawn relay");
    for i in 0..SENT {
        relay.send_blocking(RelayMsg::N(i)).expect("the relay runs");
    }
    // The question follows the numbers through the relay, in order.
    let want = (SENT, SENT * (SENT - 1) / 2);
    let got = relay.ask_blocking(RelayMsg::Get, Duration::from_secs(60));
    let got = got.unwrap_or_else(|e| fail(format!("relay: {e:?}")));
    if got != want {
        fail(format!("relay: the sink saw (count, sum) {got:?}, want {want:?}"));
    }
    let report = rt.shutdown();
    if report.dead_letters != 0 || report.timed_out {
        fail(format!("relay: shutdown reported {report:?}"));
    }
    println!("relay: {SENT} messages through, shutdown returned");
}

// --- 2. program -> source (shard 0) -> middle (shard 1) -> sink (shard 0) --

/// A message of `W` words: its sequence number, then filler that checks it.
struct Item<const W: usize>([u64; W]);

impl<const W: usize> Item<W> {
    fn new(seq: u64) -> Self {
        let mut words = [0; W];
        for (i, w) in words.iter_mut().enumerate() {
            *w = seq.wrapping_mul(31).wrapping_add(i as u64);
        }
        Self(words)
    }

    fn seq(&self) -> u64 {
        self.0[0] / 31
    }

    fn is_intact(&self) -> bool {
        self.0 == Self::new(self.seq()).0
    }
}

enum Stage<const W: usize> {
    Item(Item<W>),
    /// Everything sent before it has passed; the sink answers its counts.
    End(Reply<Tally>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Tally {
    handled: u64,
    out_of_order: u64,
    damaged: u64,
}

struct Forward<const W: usize>(ActorRef<Stage<W>>);

impl<const W: usize> Actor for Forward<W> {
    type Msg = Stage<W>;
    fn handle(&mut self, msg: Stage<W>, ctx: &mut Context<Self>) {
        ctx.send(&self.0, msg).unwrap_or_else(|_| fail("a stage stopped".into()));
    }
}

struct Last<const W: usize> {
    next: u64,
    tally: Tally,
}

impl<const W: usize> Actor for Last<W> {
    type Msg = Stage<W>;
    fn handle(&mut self, msg: Stage<W>, _: &mut Context<Self>) {
        match msg {
            Stage::Item(item) => {
                self.tally.handled += 1;
                if !item.is_intact() {
                    self.tally.damaged += 1;
                } else if item.seq() != self.next {
                    self.tally.out_of_order += 1;
                }
                self.next = item.seq() + 1;
            }
            Stage::End(reply) => reply.send(self.tally),
        }
    }
}

fn pipeline<const W: usize>(messages: u64) {
    let bytes = std::mem::size_of::<Stage<W>>();
    let rt = Runtime::builder().shards(2).build().expect("a runtime");
    let tally = rt
        .block_on(move |sys| async move {
            let sink = sys.spawn_on(0, || Last::<W> { next: 0, tally: Tally::default() }).unwrap();
            let middle = sys.spawn_on(1, move || Forward(sink)).unwrap();
            let source = sys.spawn_on(0, move || Forward(middle)).unwrap();
            for seq in 0..messages {
                source.send_async(Stage::Item(Item::new(seq))).await.unwrap();
            }
            let tally = source.ask(Stage::End).timeout(Duration::from_secs(60)).await;
            tally.unwrap_or_else(|e| fail(format!("pipeline of {bytes} bytes: {e:?}")))
        })
        .expect("the program runs");
    let report = rt.shutdown();
    let want = Tally { handled: messages, out_of_order: 0, damaged: 0 };
    if tally != want || report.dead_letters != 0 || report.timed_out {
        fail(format!("pipeline of {bytes}-byte messages: {tally:?}, want {want:?}; {report:?}"));
    }
    println!("pipeline of {bytes}-byte messages: {messages} in order, shutdown returned");
}
