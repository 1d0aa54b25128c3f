//! Per-actor arenas: reset (not freed) on restart, budgets that fail one
//! actor only, and warm restarts that allocate nothing for the arena.

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::time::Duration;

use common::{builder, runtime, Counter, CounterMsg};
use whirl::{
    Actor, ChildSpec, Context, Placement, Reply, Restart, RestartPolicy, StopReason, Strategy,
    Supervisor,
};

/// What an arena looked like in one incarnation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ArenaView {
    incarnation: u32,
    /// Bytes the arena holds from the system (its chunks).
    capacity: usize,
    /// Bytes handed out since the last reset.
    in_use: usize,
}

struct User;

enum Msg {
    /// Allocates this many bytes in the arena, 1 KiB at a time.
    Fill(usize),
    Look(Reply<ArenaView>),
    Fail,
    /// Frees what the arena holds.
    Reset,
    /// Starts or ends counting this thread's allocations; `End` answers
    /// with the count.
    Start,
    End(Reply<u64>),
}

impl Actor for User {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Fill(bytes) => {
                for _ in 0..bytes / 1024 {
                    ctx.arena().alloc([0u8; 1024]);
                }
            }
            Msg::Look(reply) => {
                let arena = ctx.arena();
                let capacity = arena.allocated_bytes();
                // One chunk after a reset: what is used is what is not left.
                let in_use = capacity - arena.chunk_capacity();
                reply.send(ArenaView { incarnation: ctx.incarnation(), capacity, in_use });
            }
            Msg::Fail => ctx.fail("on purpose"),
            Msg::Reset => ctx.reset_arena(),
            Msg::Start => counting::start(),
            Msg::End(reply) => reply.send(counting::stop()),
        }
    }
}

fn restarting(window: u32) -> RestartPolicy {
    RestartPolicy::new(Restart::Permanent).intensity(window, Duration::from_secs(3600))
}

#[test]
fn an_arena_is_reset_not_freed_when_its_actor_restarts() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let here = Placement::Shard(sys.current_shard().unwrap());
        let user = sys.spawn_restarting(here, restarting(10), || User).unwrap();
        user.send(Msg::Fill(4096)).unwrap();
        let before = user.ask(Msg::Look).await.unwrap();
        assert!(before.in_use >= 4096, "{before:?}");
        user.send(Msg::Fail).unwrap();
        let after = user.ask(Msg::Look).await.unwrap();
        assert_eq!(after.incarnation, 1);
        assert_eq!(after.in_use, 0, "reset: nothing in use");
        // Chunks grow by doubling; the reset keeps the largest, at least half.
        assert!(after.capacity >= before.capacity / 2, "its largest chunk kept: {after:?}");
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn a_warm_restart_allocates_nothing_for_the_arena() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let here = Placement::Shard(sys.current_shard().unwrap());
        let user = sys.spawn_restarting(here, restarting(1_000), || User).unwrap();
        // Warm up: the arena's chunk and the restart bookkeeping grow once.
        for _ in 0..40 {
            user.send_async(Msg::Fill(16 * 1024)).await.unwrap();
            user.send_async(Msg::Fail).await.unwrap();
        }
        // A restart and 16 KiB of arena use, against a restart alone: the
        // arena adds no allocation (its kept chunk takes it all).
        let mut counts = [0u64; 2];
        for (fill, count) in [16 * 1024, 0].into_iter().zip(&mut counts) {
            // Queued together, so the shard does not park in between.
            user.send(Msg::Start).unwrap();
            user.send(Msg::Fail).unwrap();
            user.send(Msg::Fill(fill)).unwrap();
            *count = user.ask(Msg::End).await.unwrap();
        }
        assert_eq!(counts[0], counts[1], "restart + arena use vs restart alone");
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn a_budget_exceeded_fails_that_actor_only() {
    let rt = builder(2).arena_budget(64 * 1024).build().unwrap();
    rt.block_on(|sys| async move {
        let tree = Supervisor::new(Strategy::OneForOne)
            .child(ChildSpec::new("small", || User).arena_budget(8 * 1024))
            .child(ChildSpec::new("default", || User));
        let sup = sys.spawn_supervisor(Placement::Shard(0), tree).unwrap();
        let small = sup.child::<Msg>("small").await.unwrap();
        let default = sup.child::<Msg>("default").await.unwrap();
        let neighbour = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        neighbour.send(CounterMsg::Add(5)).unwrap();
        // The runtime's default budget holds 32 KiB; the child's own does not.
        default.send(Msg::Fill(32 * 1024)).unwrap();
        small.send(Msg::Fill(32 * 1024)).unwrap();
        assert_eq!(small.ask(Msg::Look).await.unwrap().incarnation, 1, "restarted");
        assert_eq!(default.ask(Msg::Look).await.unwrap().incarnation, 0);
        assert_eq!(neighbour.ask(CounterMsg::Get).await, Ok(5), "neighbour untouched");
        let info = sup.children().await.unwrap();
        assert_eq!(info.iter().map(|c| c.restarts).collect::<Vec<_>>(), [1, 0]);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn resetting_the_arena_after_each_message_keeps_the_actor_within_its_budget() {
    let rt = builder(1).arena_budget(8 * 1024).build().unwrap();
    rt.block_on(|sys| async move {
        let user = sys.spawn_restarting(Placement::Shard(0), restarting(100), || User).unwrap();
        for _ in 0..10 {
            user.send(Msg::Fill(2 * 1024)).unwrap();
            user.send(Msg::Reset).unwrap();
        }
        let view = user.ask(Msg::Look).await.unwrap();
        assert_eq!(view.incarnation, 0, "20 KiB over its life, 2 KiB at a time");
        assert_eq!(view.in_use, 0, "nothing left after the last reset");
        // Without the resets the same work goes over the budget.
        for _ in 0..10 {
            user.send(Msg::Fill(2 * 1024)).unwrap();
        }
        assert!(user.ask(Msg::Look).await.unwrap().incarnation >= 1, "over budget, restarted");
        sys.shutdown().await;
    })
    .unwrap();
}

/// Reports the reason its last incarnation ended with.
struct Reporter {
    last: Option<StopReason>,
}

enum ReporterMsg {
    Fill,
    Last(Reply<Option<StopReason>>),
}

impl Actor for Reporter {
    type Msg = ReporterMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.last = ctx.take_kept();
    }
    fn handle(&mut self, msg: ReporterMsg, ctx: &mut Context<Self>) {
        match msg {
            ReporterMsg::Fill => {
                ctx.arena().alloc([0u8; 4096]);
                ctx.arena().alloc([0u8; 4096]);
            }
            ReporterMsg::Last(reply) => reply.send(self.last.clone()),
        }
    }
    fn stopped(&mut self, reason: &StopReason, ctx: &mut Context<Self>) {
        ctx.keep(reason.clone());
    }
}

#[test]
fn the_reason_says_the_budget_was_exceeded() {
    let rt = builder(1).arena_budget(4096).build().unwrap();
    rt.block_on(|sys| async move {
        let r = sys
            .spawn_restarting(Placement::Shard(0), restarting(5), || Reporter { last: None })
            .unwrap();
        r.send(ReporterMsg::Fill).unwrap();
        assert_eq!(r.ask(ReporterMsg::Last).await, Ok(Some(StopReason::ArenaBudget(4096))));
        sys.shutdown().await;
    })
    .unwrap();
}
