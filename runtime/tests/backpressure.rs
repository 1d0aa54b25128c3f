//! Backpressure from handlers: `Context::send` keeps a message the receiver
//! has no room for in the sender's outbox and holds the sender back, so a
//! slow last stage slows the whole pipeline down instead of losing
//! messages or piling them up.

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use whirl::{Actor, ActorRef, Context};

/// Mailboxes of 16: the pipeline fills them at once.
const BOUND: u64 = 16;

/// Counts of what each stage handled, and the most the first stage was ever
/// ahead of the last.
#[derive(Default)]
struct Progress {
    first: AtomicU64,
    last: AtomicU64,
    most_ahead: AtomicU64,
}

/// Messages the first stage sends for each it gets: it outruns the rest.
const FAN_OUT: u64 = 4;

/// Sends `fan_out` numbers to the next stage with `ctx.send` for each it
/// gets (`n * fan_out ..`), in order.
struct Forward {
    next: ActorRef<u64>,
    fan_out: u64,
    progress: Option<Arc<Progress>>,
}

impl Actor for Forward {
    type Msg = u64;
    fn handle(&mut self, n: u64, ctx: &mut Context<Self>) {
        for k in n * self.fan_out..(n + 1) * self.fan_out {
            ctx.send(&self.next, k).expect("never Full within a mailbox's worth, never Closed");
        }
        if let Some(progress) = &self.progress {
            progress.first.fetch_add(self.fan_out, Ordering::Relaxed);
        }
    }
}

/// The slow last stage: checks the order, works a little on each number.
struct Slow {
    expected: u64,
    progress: Arc<Progress>,
}

impl Actor for Slow {
    type Msg = u64;
    fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) {
        assert_eq!(n, self.expected, "in order, nothing lost");
        self.expected += 1;
        // Work: the stages before this one are faster.
        let mut x = n;
        for _ in 0..2_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let last = self.progress.last.fetch_add(1, Ordering::Relaxed) + 1;
        let first = self.progress.first.load(Ordering::Relaxed);
        self.progress.most_ahead.fetch_max(first.saturating_sub(last), Ordering::Relaxed);
    }
}

/// Runs `count` numbers through first → middle → slow, with the stages on
/// the given shards, and returns what the last stage saw and the most the
/// first stage got ahead of it.
fn pipeline(shards: [usize; 3], count: u64) -> (u64, u64) {
    let progress = Arc::new(Progress::default());
    let rt = common::builder(2)
        .mailbox_capacity(BOUND as usize)
        .ring_capacity(RING_SLOTS as usize)
        .build()
        .unwrap();
    let p = progress.clone();
    rt.block_on(move |sys| async move {
        let progress = p.clone();
        let slow =
            sys.spawn_on(shards[2], move || Slow { expected: 0, progress: p.clone() }).unwrap();
        let middle = sys
            .spawn_on(shards[1], move || Forward { next: slow, fan_out: 1, progress: None })
            .unwrap();
        let first = sys
            .spawn_on(shards[0], move || Forward {
                next: middle,
                fan_out: FAN_OUT,
                progress: Some(progress.clone()),
            })
            .unwrap();
        for n in 0..count {
            first.send_async(n).await.unwrap();
        }
        sys.shutdown().await;
    })
    .unwrap();
    (progress.last.load(Ordering::Relaxed), progress.most_ahead.load(Ordering::Relaxed))
}

/// Slots of each ring between the shards (4 words each; a message of this
/// size takes 3 words, and entries pack).
const RING_SLOTS: u64 = 64;

/// What may be between the first stage's sends and the last stage: the
/// first's outbox (a fan-out), the middle's mailbox (a bound), its outbox
/// (one), the last stage's mailbox (a bound), a message in each of the two
/// handlers, and the rings between shards (`rings` of them).
fn most_ahead_allowed(rings: u64) -> u64 {
    FAN_OUT + BOUND + 1 + BOUND + 2 + rings * (RING_SLOTS * 4 / 3)
}

/// Runs 5 000 inputs through the pipeline on `shards`: every message
/// reaches the last stage, and the first stage is never further ahead than
/// the bounds allow, with `rings` rings between the stages.
fn pipeline_holds(shards: [usize; 3], rings: u64) {
    let (seen, ahead) = pipeline(shards, 5_000);
    assert_eq!(seen, 5_000 * FAN_OUT, "nothing dropped");
    assert!(ahead <= most_ahead_allowed(rings), "the first stage ran {ahead} ahead");
}

#[test]
fn a_slow_last_stage_slows_the_pipeline_on_one_shard_and_nothing_is_lost() {
    common::within(120, || {
        pipeline_holds([0, 0, 0], 0);
    });
}

#[test]
fn a_slow_last_stage_slows_the_pipeline_across_shards_and_nothing_is_lost() {
    common::within(120, || {
        // first on shard 0, the middle on 1, the slow stage on 0 again: both
        // rings carry the pipeline.
        pipeline_holds([0, 1, 0], 2);
    });
}

#[test]
fn a_pipeline_that_crosses_the_shards_both_ways_does_not_deadlock_on_its_rings() {
    common::within(60, || {
        // The program (on shard 0) feeds the first stage on shard 1, whose
        // middle stage on shard 0 feeds the slow one on shard 1: the ring
        // 0 -> 1 carries both the first stage's input and the slow stage's.
        // Held-back actors must not stop a ring that others need to drain.
        pipeline_holds([1, 0, 1], 2);
    });
}

/// Counts what the last stage handled, for the allocation test.
struct Sink {
    seen: Arc<AtomicU64>,
}

impl Actor for Sink {
    type Msg = u64;
    fn handle(&mut self, _n: u64, _ctx: &mut Context<Self>) {
        let mut x = 1u64;
        for _ in 0..500 {
            x = std::hint::black_box(x.wrapping_mul(3));
        }
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn holding_an_actor_back_allocates_nothing_in_steady_state() {
    common::within(120, holding_back_allocations);
}

fn holding_back_allocations() {
    let rt = common::builder(1).mailbox_capacity(BOUND as usize).build().unwrap();
    let allocations = rt
        .block_on(|sys| async move {
            let seen = Arc::new(AtomicU64::new(0));
            let counted = seen.clone();
            let sink = sys.spawn_on(0, move || Sink { seen: counted.clone() }).unwrap();
            let middle = sys
                .spawn_on(0, move || Forward { next: sink, fan_out: 1, progress: None })
                .unwrap();
            let first = sys
                .spawn_on(0, move || Forward { next: middle, fan_out: FAN_OUT, progress: None })
                .unwrap();
            let sent = Rc::new(std::cell::Cell::new(0u64));
            let run = |n: u64| {
                let (seen, sent) = (seen.clone(), sent.clone());
                async move {
                    for _ in 0..n {
                        first.send_async(sent.get()).await.unwrap();
                        sent.set(sent.get() + 1);
                    }
                    while seen.load(Ordering::Relaxed) < sent.get() * FAN_OUT {
                        futures_lite::future::yield_now().await;
                    }
                }
            };
            // Warm up: every queue, outbox and inbox reaches its size.
            run(5_000).await;
            counting::start();
            run(20_000).await;
            let allocations = counting::stop();
            sys.shutdown().await;
            allocations
        })
        .unwrap();
    assert_eq!(allocations, 0, "allocations on the shard's thread in steady state");
}

/// Checks that each sender's messages come in order and counts them.
struct Collector {
    next: std::collections::HashMap<u64, u64>,
    seen: Arc<AtomicU64>,
}

impl Actor for Collector {
    type Msg = (u64, u64);
    fn handle(&mut self, (sender, k): (u64, u64), _ctx: &mut Context<Self>) {
        let next = self.next.entry(sender).or_insert(0);
        assert_eq!(k, *next, "sender {sender}'s messages in order");
        *next += 2;
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

/// Messages each fan-in sender sends, alternating between two collectors.
const PER_SENDER: u64 = 6;

/// On its cue, sends its messages to two collectors in turn; every seventh
/// stops itself right after, while its messages still wait in its outbox.
struct FanInSender {
    id: u64,
    to: [ActorRef<(u64, u64)>; 2],
}

impl Actor for FanInSender {
    type Msg = ();
    fn handle(&mut self, (): (), ctx: &mut Context<Self>) {
        for k in 0..PER_SENDER {
            let to = &self.to[(k % 2) as usize];
            ctx.send(to, (self.id, k - k % 2)).expect("within a mailbox's worth");
        }
        if self.id % 7 == 0 {
            ctx.stop();
        }
    }
}

#[test]
fn thousands_of_senders_held_back_by_two_actors_deliver_everything_in_order() {
    common::within(120, || {
        let rt = common::builder(1).mailbox_capacity(BOUND as usize).build().unwrap();
        rt.block_on(|sys| async move {
            const SENDERS: u64 = 3_000;
            let seen = Arc::new(AtomicU64::new(0));
            let collector = |seen: Arc<AtomicU64>| {
                sys.spawn_on(0, move || Collector { next: Default::default(), seen: seen.clone() })
                    .unwrap()
            };
            let to = [collector(seen.clone()), collector(seen.clone())];
            for id in 0..SENDERS {
                let sender = sys.spawn_on(0, move || FanInSender { id, to }).unwrap();
                sender.send_async(()).await.unwrap();
            }
            while seen.load(Ordering::Relaxed) < SENDERS * PER_SENDER {
                futures_lite::future::yield_now().await;
            }
            assert_eq!(seen.load(Ordering::Relaxed), SENDERS * PER_SENDER, "nothing more");
            sys.shutdown().await;
        })
        .unwrap();
    });
}
