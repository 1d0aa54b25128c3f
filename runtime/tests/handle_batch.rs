//! `Actor::handle_batch`: a turn gets the run of messages next in line for
//! its actor, at most its turn budget, in order, from its run queue or a
//! ring; a failure midway follows the failure rules; nothing allocates.

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::collections::VecDeque;
use std::time::Duration;

use whirl::{
    Actor, Batch, Context, DeadLetterCause, Placement, Reply, Restart, RestartPolicy, Schedule,
    SpawnOptions,
};

const BUDGET: u16 = 16;

/// Takes whole batches; checks the order and records each turn's size.
struct Batcher {
    next: u64,
    /// Numbers taken by this incarnation.
    count: u64,
    turns: Vec<usize>,
    /// Fails (panics) on this number, once per incarnation.
    panic_on: Option<u64>,
    /// Asks to stop after this number.
    stop_after: Option<u64>,
}

enum Msg {
    Num(u64),
    /// Its `next`, `count`, and the sizes of the turns that ended before
    /// this message's.
    Turns(Reply<(u64, u64, Vec<usize>)>),
}

impl Batcher {
    fn new() -> Self {
        let turns = Vec::with_capacity(1 << 16);
        Self { next: 0, count: 0, turns, panic_on: None, stop_after: None }
    }

    fn take(&mut self, n: u64, ctx: &mut Context<Self>) {
        if self.panic_on == Some(n) {
            panic!("batch test: fails on {n}");
        }
        assert!(n >= self.next, "in order, none twice");
        self.next = n + 1;
        self.count += 1;
        if self.stop_after == Some(n) {
            ctx.stop();
        }
    }
}

impl Actor for Batcher {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Num(n) => self.take(n, ctx),
            Msg::Turns(reply) => {
                reply.send((self.next, self.count, std::mem::take(&mut self.turns)))
            }
        }
    }

    fn handle_batch(&mut self, first: Msg, rest: &mut Batch<'_, Msg>, ctx: &mut Context<Self>) {
        let mut size = 0;
        for msg in std::iter::once(first).chain(rest) {
            size += 1;
            self.handle(msg, ctx);
        }
        self.turns.push(size);
    }
}

fn batcher_options(shard: usize) -> SpawnOptions {
    SpawnOptions::new(Placement::Shard(shard)).schedule(Schedule::new().turn_budget(BUDGET))
}

#[test]
fn a_turn_takes_the_messages_next_in_line_up_to_its_budget_same_shard_and_across() {
    common::within(120, || {
        let rt = common::runtime(2);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            for shard in [here, 1 - here] {
                let to = sys.spawn_with_options(batcher_options(shard), Batcher::new).unwrap();
                // One call: all 100 are queued (same shard) or published
                // together (across) before the actor's first turn.
                let mut msgs: VecDeque<Msg> = (0..100).map(Msg::Num).collect();
                assert_eq!(to.try_send_many(&mut msgs).unwrap(), 100);
                let (next, count, turns) = to.ask(Msg::Turns).await.unwrap();
                assert_eq!((next, count), (100, 100), "all handled, in order");
                assert_eq!(turns, [16; 6], "full turns while messages wait");
                // The last turn held the last 4 numbers and that ask.
                let (_, _, turns) = to.ask(Msg::Turns).await.unwrap();
                assert_eq!(turns, [5], "the last numbers with the ask");
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

#[test]
fn a_panic_midway_keeps_what_was_handled_drops_the_one_in_hand_and_keeps_the_rest() {
    common::quiet_panics("batch test");
    common::within(120, || {
        let rt = common::runtime(2);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            for shard in [here, 1 - here] {
                let before = sys.stats().dead_letters_of(DeadLetterCause::FailedHandling);
                let options =
                    batcher_options(shard).restart(RestartPolicy::new(Restart::Permanent));
                let to = sys
                    .spawn_with_options(options, || Batcher { panic_on: Some(5), ..Batcher::new() })
                    .unwrap();
                let mut msgs: VecDeque<Msg> = (0..40).map(Msg::Num).collect();
                assert_eq!(to.try_send_many(&mut msgs).unwrap(), 40);
                // The new incarnation starts over (`next` 0) and gets 6..40:
                // 0..5 were handled, 5 was in hand, the rest stayed queued.
                let (next, count, _) = to.ask(Msg::Turns).await.unwrap();
                assert_eq!((next, count), (40, 40 - 6));
                let failed = sys.stats().dead_letters_of(DeadLetterCause::FailedHandling) - before;
                assert_eq!(failed, 1, "only the message in hand is a dead letter");
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

#[test]
fn a_stop_asked_midway_ends_the_turn_and_the_rest_are_dead_letters() {
    common::within(120, || {
        let rt = common::runtime(2);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            for shard in [here, 1 - here] {
                let before = sys.stats().dead_letters;
                let to = sys
                    .spawn_with_options(batcher_options(shard), || Batcher {
                        stop_after: Some(9),
                        ..Batcher::new()
                    })
                    .unwrap();
                let mut msgs: VecDeque<Msg> = (0..30).map(Msg::Num).collect();
                assert_eq!(to.try_send_many(&mut msgs).unwrap(), 30);
                common::eventually("the actor stopped", || async {
                    (!to.is_alive()).then_some(())
                })
                .await;
                let dead = common::eventually("the rest counted", || async {
                    let dead = sys.stats().dead_letters - before;
                    (dead >= 20).then_some(dead)
                })
                .await;
                assert_eq!(dead, 20, "10 handled (0..=9), the 20 after the stop are dead letters");
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

/// Sums a block at a time.
struct Summer {
    total: u64,
}

impl Actor for Summer {
    type Msg = u64;
    fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) {
        self.total += n;
    }
    fn handle_batch(&mut self, first: u64, rest: &mut Batch<'_, u64>, _ctx: &mut Context<Self>) {
        self.total += first + rest.sum::<u64>();
    }
}

/// `n` rounds of 256 numbers to each of `targets`, through the reused `msgs`.
async fn rounds(targets: [whirl::ActorRef<u64>; 2], msgs: &mut VecDeque<u64>, n: u32) {
    for _ in 0..n {
        for to in targets {
            msgs.extend(0..256u64);
            to.send_many(msgs).await.unwrap();
        }
    }
}

#[test]
fn handling_batches_allocates_nothing_in_steady_state() {
    common::within(120, || {
        let rt = common::runtime(2);
        let allocations = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().unwrap();
                let options = |shard| {
                    SpawnOptions::new(Placement::Shard(shard))
                        .schedule(Schedule::new().turn_budget(256))
                };
                let local = sys.spawn_with_options(options(here), || Summer { total: 0 }).unwrap();
                let remote =
                    sys.spawn_with_options(options(1 - here), || Summer { total: 0 }).unwrap();
                let mut msgs = VecDeque::with_capacity(256);
                rounds([local, remote], &mut msgs, 20).await; // warm up
                counting::start();
                rounds([local, remote], &mut msgs, 200).await;
                let allocations = counting::stop();
                sys.shutdown().await;
                allocations
            })
            .unwrap();
        assert_eq!(allocations, 0, "allocations on the shard's thread");
    });
}

/// An override that takes nothing of `rest` still handles one message a
/// turn: the rest wait, in order, for the next turns.
#[test]
fn messages_left_in_a_batch_wait_for_the_next_turn() {
    struct FirstOnly(Vec<u64>);
    enum M {
        Num(u64),
        Seen(Reply<Vec<u64>>),
    }
    impl Actor for FirstOnly {
        type Msg = M;
        fn handle(&mut self, msg: M, _: &mut Context<Self>) {
            match msg {
                M::Num(n) => self.0.push(n),
                M::Seen(reply) => reply.send(std::mem::take(&mut self.0)),
            }
        }
        fn handle_batch(&mut self, first: M, rest: &mut Batch<'_, M>, ctx: &mut Context<Self>) {
            // Takes one more than the first at most, leaves the rest.
            self.handle(first, ctx);
            if let Some(second) = rest.next() {
                self.handle(second, ctx);
            }
        }
    }
    let rt = common::runtime(2);
    rt.block_on(|sys| async move {
        let here = sys.current_shard().unwrap();
        for shard in [here, 1 - here] {
            let to = sys.spawn_on(shard, || FirstOnly(Vec::new())).unwrap();
            let mut msgs: VecDeque<M> = (0..50).map(M::Num).collect();
            to.try_send_many(&mut msgs).unwrap();
            let seen = to.ask(M::Seen).timeout(Duration::from_secs(30)).await.unwrap();
            assert_eq!(seen, (0..50).collect::<Vec<_>>());
        }
        sys.shutdown().await;
    })
    .unwrap();
}
