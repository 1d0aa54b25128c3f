//! Backpressure from handlers (`Context::send`): what it costs when nothing
//! is full, and how close a pipeline held back by a slow last stage runs to
//! that stage's own speed.

use std::time::Instant;

use whirl::{Actor, ActorRef, Context, Reply};

use super::whirl_runtime::{per_second, runtime};
use super::Scale;

/// Messages a source sends per handler call.
const BURST: u64 = 256;

/// Work per message in the slow stage (multiply-adds).
const SLOW_WORK: u64 = 400;

/// Messages the first pipeline stage sends per message it gets.
const FAN_OUT: u64 = 4;

/// Counts what it gets; optionally works on each.
struct Counter {
    count: u64,
    work: u64,
}

enum CounterMsg {
    One(u64),
    Count(Reply<u64>),
}

impl Actor for Counter {
    type Msg = CounterMsg;
    fn handle(&mut self, msg: CounterMsg, _ctx: &mut Context<Self>) {
        match msg {
            CounterMsg::One(n) => {
                let mut x = n;
                for _ in 0..self.work {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
                self.count += 1;
            }
            CounterMsg::Count(reply) => reply.send(self.count),
        }
    }
}

/// Sends `BURST` messages per call to a counter from its handler, with
/// `ActorRef::send` or `Context::send`, then asks itself for more.
struct Source {
    to: ActorRef<CounterMsg>,
    left: u64,
    outbox: bool,
}

impl Actor for Source {
    type Msg = ();
    fn handle(&mut self, (): (), ctx: &mut Context<Self>) {
        for _ in 0..BURST.min(self.left) {
            let sent = if self.outbox {
                ctx.send(&self.to, CounterMsg::One(1))
            } else {
                self.to.send(CounterMsg::One(1))
            };
            sent.unwrap_or_else(|_| panic!("the counter keeps up with one burst"));
            self.left -= 1;
        }
        if self.left > 0 {
            ctx.myself().send(()).expect("room for one");
        }
    }
}

/// Forwards `fan_out` numbers for each it gets, with `Context::send`.
struct Forward {
    next: ActorRef<CounterMsg>,
    fan_out: u64,
}

impl Actor for Forward {
    type Msg = CounterMsg;
    fn handle(&mut self, msg: CounterMsg, ctx: &mut Context<Self>) {
        let CounterMsg::One(n) = msg else { return };
        for k in 0..self.fan_out {
            ctx.send(&self.next, CounterMsg::One(n + k)).expect("held back, never refused");
        }
    }
}

/// Waits until `counter` has counted `count`.
async fn counted(counter: ActorRef<CounterMsg>, count: u64) {
    while counter.ask(CounterMsg::Count).await.expect("counter runs") < count {}
}

/// Messages per second from a handler to an actor on its shard, nothing
/// full: with `ActorRef::send`, then with `Context::send`; one run each.
pub fn handler_sends(scale: Scale) -> [u64; 2] {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let mut rates = [0; 2];
        for (outbox, rate) in [false, true].into_iter().zip(&mut rates) {
            let counter = sys.spawn_on(here, || Counter { count: 0, work: 0 }).expect("spawn");
            let began = Instant::now();
            let left = scale.messages;
            let source =
                sys.spawn_on(here, move || Source { to: counter, left, outbox }).expect("spawn");
            source.send(()).expect("room");
            counted(counter, scale.messages).await;
            *rate = per_second(scale.messages, began.elapsed());
            source.stop();
            counter.stop();
        }
        rates
    })
    .expect("block_on")
}

/// A slow stage on its own (a task feeds it), then the pipeline source →
/// first (fan-out 4, `Context::send`) → middle (`Context::send`) → the slow
/// stage, held back by it; messages per second at the slow stage, one run
/// each. `across`: the middle stage on the other shard.
pub fn slow_pipeline(scale: Scale, across: bool) -> [u64; 2] {
    let rt = runtime(true);
    let messages = scale.messages / 4;
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let mut rates = [0; 2];
        for (piped, rate) in [false, true].into_iter().zip(&mut rates) {
            let slow = || Counter { count: 0, work: SLOW_WORK };
            let last = sys.spawn_on(here, slow).expect("spawn");
            let feed = if piped {
                let at = if across { 1 - here } else { here };
                let middle =
                    sys.spawn_on(at, move || Forward { next: last, fan_out: 1 }).expect("spawn");
                let first = sys
                    .spawn_on(here, move || Forward { next: middle, fan_out: FAN_OUT })
                    .expect("spawn");
                Some((first, middle))
            } else {
                None
            };
            let began = Instant::now();
            match feed {
                Some((first, _)) => {
                    for n in 0..messages / FAN_OUT {
                        first.send_async(CounterMsg::One(n)).await.expect("runs");
                    }
                }
                None => {
                    for n in 0..messages {
                        last.send_async(CounterMsg::One(n)).await.expect("runs");
                    }
                }
            }
            counted(last, messages).await;
            *rate = per_second(messages, began.elapsed());
            if let Some((first, middle)) = feed {
                first.stop();
                middle.stop();
            }
            last.stop();
        }
        rates
    })
    .expect("block_on")
}
