//! What a handler can do: its own ref, spawn, stop itself, timers, pipes.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, Counter, CounterMsg};
use whirl::{Actor, ActorRef, Context, Reply, TimerHandle};

/// Exercises the context from inside handlers.
struct Worker {
    /// Who waits for the next event, and what it was.
    waiting: Option<Reply<&'static str>>,
    events: Vec<&'static str>,
    ticks: u32,
    interval: Option<TimerHandle>,
    /// Set when a piped job's future is dropped (cancelled).
    pipe_dropped: Arc<AtomicBool>,
}

enum WorkerMsg {
    Next(Reply<&'static str>),
    Event(&'static str),
    StartTimers,
    StartInterval,
    Tick,
    PipeSleep,
    PipeForever(Reply<()>),
    SpawnChild(usize, Reply<(ActorRef<CounterMsg>, usize)>),
    WhoAmI(Reply<(ActorRef<WorkerMsg>, usize, usize)>),
    PipeDropped(Reply<bool>),
    StopMe,
}

impl Worker {
    fn new() -> Self {
        Self::with_flag(Arc::new(AtomicBool::new(false)))
    }

    fn with_flag(pipe_dropped: Arc<AtomicBool>) -> Self {
        Self { waiting: None, events: Vec::new(), ticks: 0, interval: None, pipe_dropped }
    }

    fn event(&mut self, what: &'static str) {
        self.events.push(what);
        self.flush();
    }

    fn flush(&mut self) {
        if !self.events.is_empty() {
            if let Some(reply) = self.waiting.take() {
                reply.send(self.events.remove(0));
            }
        }
    }
}

/// Drops are observed through a flag.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Actor for Worker {
    type Msg = WorkerMsg;

    fn handle(&mut self, msg: WorkerMsg, ctx: &mut Context<Self>) {
        match msg {
            WorkerMsg::Next(reply) => {
                self.waiting = Some(reply);
                self.flush();
            }
            WorkerMsg::Event(what) => self.event(what),
            WorkerMsg::StartTimers => {
                // The 1 ms timer is cancelled; the 20 ms one would fire after
                // it, so seeing "late" first proves "cancelled" never fired.
                let cancelled =
                    ctx.send_after(Duration::from_millis(1), WorkerMsg::Event("cancelled"));
                assert!(cancelled.is_active());
                cancelled.cancel();
                ctx.send_after(Duration::from_millis(20), WorkerMsg::Event("late"));
            }
            WorkerMsg::StartInterval => {
                self.interval =
                    Some(ctx.send_interval(Duration::from_millis(1), || WorkerMsg::Tick));
            }
            WorkerMsg::Tick => {
                self.ticks += 1;
                if self.ticks == 3 {
                    self.interval.take().unwrap().cancel();
                    // After cancelling, no tick may come before this one.
                    ctx.send_after(Duration::from_millis(10), WorkerMsg::Event("three ticks"));
                }
                assert!(self.ticks <= 3, "a cancelled interval kept ticking");
            }
            WorkerMsg::PipeSleep => {
                ctx.pipe(glommio::timer::sleep(Duration::from_millis(2)), |()| {
                    WorkerMsg::Event("slept")
                });
            }
            WorkerMsg::PipeForever(started) => {
                let flag = DropFlag(self.pipe_dropped.clone());
                ctx.pipe(
                    async move {
                        let _flag = flag;
                        futures_lite::future::pending::<()>().await;
                    },
                    |()| WorkerMsg::Event("impossible"),
                );
                started.send(());
            }
            WorkerMsg::PipeDropped(reply) => reply.send(self.pipe_dropped.load(Ordering::SeqCst)),
            WorkerMsg::SpawnChild(shard, reply) => {
                let child = if shard == ctx.shard_id() {
                    ctx.spawn(|| Counter { n: 10 }).unwrap()
                } else {
                    ctx.spawn_on(shard, || Counter { n: 10 }).unwrap()
                };
                child.send(CounterMsg::Add(1)).unwrap();
                reply.send((child, child.shard()));
            }
            WorkerMsg::WhoAmI(reply) => {
                reply.send((ctx.myself(), ctx.shard_id(), ctx.shard_count()))
            }
            WorkerMsg::StopMe => ctx.stop(),
        }
    }
}

#[test]
fn own_ref_and_shard() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let w = sys.spawn_on(1, Worker::new).unwrap();
        let (me, shard, shards) = w.ask(WorkerMsg::WhoAmI).await.unwrap();
        assert_eq!((me, shard, shards), (w, 1, 2));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn spawn_here_and_on_another_shard_from_a_handler() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let w = sys.spawn_on(0, Worker::new).unwrap();
        for shard in 0..2 {
            let (child, on) = w.ask(|r| WorkerMsg::SpawnChild(shard, r)).await.unwrap();
            assert_eq!(on, shard);
            assert_eq!(child.ask(CounterMsg::Get).await, Ok(11));
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn timers_fire_and_cancelled_timers_do_not() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let w = sys.spawn_on(1, Worker::new).unwrap();
        w.send(WorkerMsg::StartTimers).unwrap();
        assert_eq!(w.ask(WorkerMsg::Next).await, Ok("late"));
        w.send(WorkerMsg::StartInterval).unwrap();
        assert_eq!(w.ask(WorkerMsg::Next).await, Ok("three ticks"));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn piped_futures_deliver_their_result_as_a_message() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let w = sys.spawn_on(shard, Worker::new).unwrap();
            w.send(WorkerMsg::PipeSleep).unwrap();
            assert_eq!(w.ask(WorkerMsg::Next).await, Ok("slept"));
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn piped_jobs_are_cancelled_when_the_actor_stops() {
    let rt = runtime(1);
    rt.block_on(|sys| async move {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = dropped.clone();
        let w = sys.spawn_on(0, move || Worker::with_flag(flag.clone())).unwrap();
        w.ask(WorkerMsg::PipeForever).await.unwrap();
        assert_eq!(w.ask(WorkerMsg::PipeDropped).await, Ok(false), "the job is running");
        w.send(WorkerMsg::StopMe).unwrap();
        assert!(w.ask(WorkerMsg::PipeDropped).await.is_err(), "the actor is stopped");
        // The executor drops the cancelled job's future on one of its next
        // turns; each yield gives it one.
        for _ in 0..10_000 {
            if dropped.load(Ordering::SeqCst) {
                break;
            }
            futures_lite::future::yield_now().await;
        }
        assert!(dropped.load(Ordering::SeqCst), "the piped job was cancelled");
        sys.shutdown().await;
    })
    .unwrap();
}

/// Uses `ctx.system()` from a handler: looks up a name, spawns on the other
/// shard, reads the stats.
struct Operator;

struct Report {
    shard: usize,
    found: bool,
    spawned_on: usize,
    actors: usize,
}

impl Actor for Operator {
    type Msg = Reply<Report>;
    fn handle(&mut self, reply: Reply<Report>, ctx: &mut Context<Self>) {
        let sys = ctx.system();
        let found = sys.lookup::<CounterMsg>("counter").is_ok();
        let here = sys.current_shard().expect("a handler runs on a shard");
        let other = (here + 1) % sys.shards();
        let spawned = sys
            .spawn_with(whirl::Placement::Shard(other), || Counter { n: 0 })
            .expect("spawned from a handler");
        reply.send(Report {
            shard: here,
            found,
            spawned_on: spawned.shard(),
            actors: sys.stats().actors,
        });
    }
}

#[test]
fn a_handler_reaches_the_system_from_every_shard() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let counter = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
        sys.register("counter", counter).unwrap();
        for shard in 0..sys.shards() {
            let operator = sys.spawn_on(shard, || Operator).unwrap();
            let report = operator.ask(|reply| reply).await.unwrap();
            assert_eq!(report.shard, shard);
            assert!(report.found, "the name registered outside is seen from shard {shard}");
            assert_eq!(report.spawned_on, (shard + 1) % 2);
            assert!(report.actors >= 2 + shard, "stats counted from the handler");
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn the_time_module_sleeps_and_ticks_on_a_shard() {
    let rt = runtime(1);
    rt.block_on(|_sys| async move {
        let began = std::time::Instant::now();
        whirl::time::sleep(Duration::from_millis(2)).await;
        assert!(began.elapsed() >= Duration::from_millis(2), "slept at least as asked");
        let mut every = whirl::time::interval(Duration::from_millis(1));
        let first = every.tick().await;
        let second = every.tick().await;
        assert!(second >= first + every.period(), "ticks one period apart or more");
        whirl::time::Timer::new(Duration::from_millis(1)).await;
        // glommio is re-exported in whirl's version, for I/O in tasks.
        let local = whirl::glommio::executor().id();
        assert!(local > 0);
    })
    .unwrap();
}
