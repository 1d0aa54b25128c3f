//! whirl's side of the suite: each scenario builds its own runtime, runs on
//! it, and returns its samples.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::future::yield_now;
use hdrhistogram::Histogram;
use whirl::{
    Actor, ActorRef, ChildSpec, Context, Placement, Reply, Restart, RestartPolicy, Runtime,
    Strategy, Supervisor,
};

use super::Scale;
use crate::report::{histogram, Samples};

/// A runtime of two pinned shards. `busy`: shards poll for 10 ms before
/// parking, so they never park between the samples of a scenario; else they
/// park at once.
pub(crate) fn runtime(busy: bool) -> Runtime {
    runtime_of(2, busy)
}

/// As [`runtime`], with `shards` shards.
fn runtime_of(shards: usize, busy: bool) -> Runtime {
    let spin = if busy { Duration::from_millis(10) } else { Duration::ZERO };
    Runtime::builder().shards(shards).spin_before_park(spin).build().expect("runtime")
}

/// Counts what it gets; answers with the count.
pub(crate) struct Sink {
    pub(crate) count: u64,
}

/// Messages of [`Sink`].
pub(crate) enum SinkMsg {
    One,
    Count(Reply<u64>),
}

impl Actor for Sink {
    type Msg = SinkMsg;
    fn handle(&mut self, msg: SinkMsg, _ctx: &mut Context<Self>) {
        match msg {
            SinkMsg::One => self.count += 1,
            SinkMsg::Count(reply) => reply.send(self.count),
        }
    }
}

/// Sends `count` messages from the current task, waiting when full.
pub(crate) async fn stream(to: ActorRef<SinkMsg>, count: u64) {
    for _ in 0..count {
        crate::actors::whirl_actors::send_or_yield(&to, SinkMsg::One).await;
    }
}

/// Same-shard send + handle: messages per second, from a task that sends
/// to an actor on its own shard: a bare actor, then one spawned with a
/// restart policy, then one a supervisor's child.
pub fn same_shard_send(scale: Scale) -> [u64; 3] {
    let targets = [Target::SameShard, Target::SameShardRestartable, Target::SameShardSupervised];
    let mut all = sink_throughputs(scale, &targets).into_iter();
    [(); 3].map(|()| all.next().expect("one per target"))
}

/// Fails on request; its next incarnation tells how long after the failure
/// it handled its first message.
struct Phoenix;

/// Messages of [`Phoenix`].
enum PhoenixMsg {
    /// Fail: by panicking, or with `Context::fail`.
    Fail { panic: bool },
    /// Nanoseconds from the last failure to this message's handling.
    SinceFailure(Reply<u64>),
}

impl Actor for Phoenix {
    type Msg = PhoenixMsg;
    fn handle(&mut self, msg: PhoenixMsg, ctx: &mut Context<Self>) {
        match msg {
            PhoenixMsg::Fail { panic } => {
                crate::restart::failing();
                if panic {
                    crate::restart::panic_quietly();
                }
                ctx.fail("restart benchmark");
            }
            PhoenixMsg::SinceFailure(reply) => reply.send(crate::restart::since_failure()),
        }
    }
}

/// Who restarts the actor of [`restart_latency`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartedBy {
    /// Its own restart policy.
    Policy,
    /// A one-for-one supervisor on its shard.
    SupervisorHere,
    /// A one-for-one supervisor on the other shard: the failure notice and
    /// the resume each cross the ring.
    SupervisorThere,
}

/// Restart latency with zero backoff: from the failure (a panic, or
/// `Context::fail`) to the first message handled by the new incarnation,
/// which lives on the benchmark's shard; nanoseconds.
pub fn restart_latency(scale: Scale, panic: bool, by: RestartedBy) -> Histogram<u64> {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let phoenix: ActorRef<PhoenixMsg> = if by == RestartedBy::Policy {
            let policy = RestartPolicy::new(Restart::Permanent)
                .intensity(u32::MAX, Duration::from_secs(3600));
            sys.spawn_restarting(Placement::Shard(here), policy, || Phoenix).expect("spawn")
        } else {
            let spec = Supervisor::new(Strategy::OneForOne)
                .intensity(u32::MAX, Duration::from_secs(3600))
                .child(ChildSpec::new("phoenix", || Phoenix).on_shard(here));
            let at = if by == RestartedBy::SupervisorHere { here } else { 1 - here };
            let sup = sys.spawn_supervisor(Placement::Shard(at), spec).expect("spawn");
            sup.child("phoenix").await.expect("its child")
        };
        let mut samples = Samples::after_warm_up(scale.samples / 10);
        while samples.wanted() {
            phoenix.send(PhoenixMsg::Fail { panic }).expect("room");
            samples.record(phoenix.ask(PhoenixMsg::SinceFailure).await.expect("restarted"));
        }
        samples.into_histogram()
    })
    .expect("block_on")
}

/// Where [`sink_throughput`] sends, and how.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// From a task to an actor on the task's shard.
    SameShard,
    /// As `SameShard`, to an actor spawned with a restart policy.
    SameShardRestartable,
    /// As `SameShard`, to the child of a one-for-one supervisor on the
    /// same shard.
    SameShardSupervised,
    /// From a task on shard 0 to an actor on shard 1, each send published
    /// on its own.
    OtherShard,
    /// From an actor on shard 0 to one on shard 1, in bursts published per
    /// pass.
    OtherShardBatched,
    /// From a task on shard 0 to an actor on shard 1, `send_many` with 256
    /// messages a batch (each batch published at once).
    OtherShardSendMany,
}

/// Messages per second into a `Sink`: one run.
pub fn sink_throughput(scale: Scale, target: Target) -> u64 {
    sink_throughputs(scale, &[target])[0]
}

/// As [`sink_throughput`] for several targets, one run each, in one
/// runtime; messages per second per target.
fn sink_throughputs(scale: Scale, targets: &[Target]) -> Vec<u64> {
    let targets = targets.to_vec();
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let mut rates = Vec::with_capacity(targets.len());
        for target in &targets {
            let same_shard = !matches!(
                target,
                Target::OtherShard | Target::OtherShardBatched | Target::OtherShardSendMany
            );
            let sink_shard = if same_shard { here } else { 1 - here };
            let policy = match target {
                Target::SameShardRestartable => RestartPolicy::new(Restart::Transient),
                _ => RestartPolicy::never(),
            };
            let mut supervisor = None;
            let sink = if matches!(target, Target::SameShardSupervised) {
                let spec = Supervisor::new(Strategy::OneForOne)
                    .child(ChildSpec::new("sink", || Sink { count: 0 }).on_shard(here));
                let sup = sys.spawn_supervisor(Placement::Shard(here), spec).expect("spawn");
                let sink = sup.child("sink").await.expect("its child");
                supervisor = Some(sup);
                sink
            } else {
                sys.spawn_restarting(Placement::Shard(sink_shard), policy, || Sink { count: 0 })
                    .expect("spawn")
            };
            let began = Instant::now();
            if matches!(target, Target::OtherShardBatched) {
                let source = sys.spawn_on(here, || BurstSource { done: None }).expect("spawn");
                source.ask(|r| BurstMsg::Start(sink, scale.messages, r)).await.expect("ask");
                source.stop();
            } else if matches!(target, Target::OtherShardSendMany) {
                stream_many(sink, scale.messages).await;
            } else {
                stream(sink, scale.messages).await;
            }
            assert_eq!(sink.ask(SinkMsg::Count).await, Ok(scale.messages));
            rates.push(per_second(scale.messages, began.elapsed()));
            match supervisor {
                Some(sup) => sup.stop(),
                None => sink.stop(),
            }
        }
        rates
    })
    .expect("block_on")
}

/// A ball passed between two actors.
struct Hopper {
    peer: Option<ActorRef<HopMsg>>,
    done: Option<Reply<()>>,
}

/// Messages of [`Hopper`].
enum HopMsg {
    Peer(ActorRef<HopMsg>),
    Start(u64, Reply<()>),
    Ball(u64),
}

impl Actor for Hopper {
    type Msg = HopMsg;
    fn handle(&mut self, msg: HopMsg, _ctx: &mut Context<Self>) {
        let peer = self.peer;
        match msg {
            HopMsg::Peer(p) => self.peer = Some(p),
            HopMsg::Start(hops, done) => {
                self.done = Some(done);
                let _ = peer.expect("peer set").send(HopMsg::Ball(hops));
            }
            HopMsg::Ball(0) => match self.done.take() {
                Some(done) => done.send(()),
                None => {
                    let _ = peer.expect("peer set").send(HopMsg::Ball(0));
                }
            },
            HopMsg::Ball(n) => {
                let _ = peer.expect("peer set").send(HopMsg::Ball(n - 1));
            }
        }
    }
}

/// Same-shard ping-pong: nanoseconds per hop (one send + one handle), each
/// sample the mean over `hops_per_sample` hops.
pub fn same_shard_hops(scale: Scale) -> Histogram<u64> {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let a = sys.spawn_on(here, || Hopper { peer: None, done: None }).expect("spawn");
        let b = sys.spawn_on(here, || Hopper { peer: None, done: None }).expect("spawn");
        a.send(HopMsg::Peer(b)).expect("send");
        b.send(HopMsg::Peer(a)).expect("send");
        let mut hops = Samples::after_warm_up(scale.samples / 10);
        while hops.wanted() {
            let began = Instant::now();
            a.ask(|r| HopMsg::Start(scale.hops_per_sample, r)).await.expect("ask");
            hops.record(began.elapsed().as_nanos() as u64 / scale.hops_per_sample);
        }
        hops.into_histogram()
    })
    .expect("block_on")
}

/// Times round trips to a [`Ponger`] from inside an actor.
struct Pinger {
    peer: Option<ActorRef<PongMsg>>,
    samples: Histogram<u64>,
    /// Round trips still to make, warm-up included.
    left: u64,
    /// Round trips to record (the last `count` of them).
    count: u64,
    sent_at: Instant,
    done: Option<Reply<Histogram<u64>>>,
}

/// Messages of [`Pinger`].
enum PingMsg {
    Start(ActorRef<PongMsg>, u64, Reply<Histogram<u64>>),
    Pong,
}

impl Actor for Pinger {
    type Msg = PingMsg;
    fn handle(&mut self, msg: PingMsg, ctx: &mut Context<Self>) {
        match msg {
            PingMsg::Start(peer, count, done) => {
                self.peer = Some(peer);
                self.count = count;
                self.left = count + count / 10;
                self.done = Some(done);
            }
            PingMsg::Pong => {
                let ns = self.sent_at.elapsed().as_nanos() as u64;
                self.left -= 1;
                if self.left < self.count {
                    self.samples.record(ns.max(1)).expect("in range");
                }
                if self.left == 0 {
                    let samples = std::mem::replace(&mut self.samples, histogram(60_000_000_000));
                    self.done.take().expect("started").send(samples);
                    return;
                }
            }
        }
        self.sent_at = Instant::now();
        let _ = self.peer.expect("started").send(PongMsg::Ping(ctx.myself()));
    }
}

impl Pinger {
    fn new() -> Self {
        Self {
            peer: None,
            samples: histogram(60_000_000_000),
            left: 0,
            count: 0,
            sent_at: Instant::now(),
            done: None,
        }
    }
}

/// Answers pings.
struct Ponger;

/// Messages of [`Ponger`].
enum PongMsg {
    Ping(ActorRef<PingMsg>),
}

impl Actor for Ponger {
    type Msg = PongMsg;
    fn handle(&mut self, msg: PongMsg, _ctx: &mut Context<Self>) {
        let PongMsg::Ping(back) = msg;
        let _ = back.send(PingMsg::Pong);
    }
}

/// Cross-shard round trip between two actors, both shards polling (busy):
/// nanoseconds per round trip.
pub fn cross_shard_round_trip(scale: Scale) -> Histogram<u64> {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let pinger = sys.spawn_on(0, Pinger::new).expect("spawn");
        let ponger = sys.spawn_on(1, || Ponger).expect("spawn");
        pinger.ask(|r| PingMsg::Start(ponger, scale.samples, r)).await.expect("ask")
    })
    .expect("block_on")
}

/// Receives time stamps and records how long each took to arrive.
struct StampSink {
    samples: Histogram<u64>,
    want: u64,
    done: Option<Reply<Histogram<u64>>>,
    /// When the last stamp was handled, for the stamper to wait `gap` after.
    handled: Arc<Mutex<Option<Instant>>>,
}

/// Messages of [`StampSink`].
enum StampMsg {
    Collect(u64, Reply<Histogram<u64>>),
    Stamp(Instant),
}

impl Actor for StampSink {
    type Msg = StampMsg;
    fn handle(&mut self, msg: StampMsg, _ctx: &mut Context<Self>) {
        match msg {
            StampMsg::Collect(want, done) => {
                self.want = want;
                self.done = Some(done);
            }
            StampMsg::Stamp(sent) => {
                let collecting = self.done.is_some();
                if collecting {
                    let took = sent.elapsed().as_nanos() as u64;
                    self.samples.record(took.max(1)).expect("in range");
                }
                // Handled (or dropped, before `Collect`): the stamper waits
                // `gap` from now.
                *self.handled.lock().expect("handled") = Some(Instant::now());
                if !collecting {
                    return;
                }
                if self.samples.len() == self.want {
                    let samples = std::mem::replace(&mut self.samples, histogram(60_000_000_000));
                    self.done.take().expect("collecting").send(samples);
                }
            }
        }
    }
}

/// Sends a time stamp `gap` after the sink handled the previous one, so the
/// receiving shard has parked that long (as the peers' wakers do).
struct Stamper {
    to: ActorRef<StampMsg>,
    gap: Duration,
    /// When the sink handled the last stamp; `None` while one is on its way.
    handled: Arc<Mutex<Option<Instant>>>,
}

impl Actor for Stamper {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.send_interval((self.gap / 4).max(Duration::from_micros(1)), || ());
    }
    fn handle(&mut self, _tick: (), _ctx: &mut Context<Self>) {
        let mut handled = self.handled.lock().expect("handled");
        if handled.is_some_and(|at| at.elapsed() >= self.gap) {
            *handled = None;
            let _ = self.to.send(StampMsg::Stamp(Instant::now()));
        }
    }
}

/// Waking a parked shard: one-way nanoseconds from the send on shard 0 to
/// the handler on shard 1, which parked (spin 0) since it handled the
/// previous message at least `gap` earlier.
pub fn wake_parked(scale: Scale, gap: Duration) -> Histogram<u64> {
    let rt = runtime(false);
    rt.block_on(move |sys| async move {
        // As if a stamp was handled now: the first one waits `gap` too.
        let handled = Arc::new(Mutex::new(Some(Instant::now())));
        let seen = handled.clone();
        let sink = sys
            .spawn_on(1, move || StampSink {
                samples: histogram(60_000_000_000),
                want: 0,
                done: None,
                handled: seen.clone(),
            })
            .expect("spawn");
        let collected = sink.ask(|r| StampMsg::Collect(scale.wake_samples, r));
        let stamper = sys
            .spawn_on(0, move || Stamper { to: sink, gap, handled: handled.clone() })
            .expect("spawn");
        let samples = collected.await.expect("ask");
        stamper.stop();
        samples
    })
    .expect("block_on")
}

/// Sends bursts from inside a handler: every send of a pass is published
/// with the pass, once per ring.
struct BurstSource {
    done: Option<Reply<()>>,
}

/// Messages of [`BurstSource`].
enum BurstMsg {
    Start(ActorRef<SinkMsg>, u64, Reply<()>),
    More(ActorRef<SinkMsg>, u64),
}

impl Actor for BurstSource {
    type Msg = BurstMsg;
    fn handle(&mut self, msg: BurstMsg, ctx: &mut Context<Self>) {
        let (to, mut left) = match msg {
            BurstMsg::Start(to, count, done) => {
                self.done = Some(done);
                (to, count)
            }
            BurstMsg::More(to, left) => (to, left),
        };
        while left > 0 {
            if to.send(SinkMsg::One).is_err() {
                break; // ring full: continue after this pass publishes
            }
            left -= 1;
        }
        if left > 0 {
            let _ = ctx.myself().send(BurstMsg::More(to, left));
        } else {
            self.done.take().expect("started").send(());
        }
    }
}

/// Sends `count` messages to `to` with `send_many`, 256 at a time, through
/// one reused queue.
async fn stream_many(to: ActorRef<SinkMsg>, count: u64) {
    let mut batch = std::collections::VecDeque::with_capacity(256);
    let mut left = count;
    while left > 0 {
        let n = left.min(256);
        batch.extend((0..n).map(|_| SinkMsg::One));
        to.send_many(&mut batch).await.expect("sink runs");
        left -= n;
    }
}

/// Ask round trip from a task to an actor on its shard (of a 1-shard
/// runtime) or on the other shard of two: nanoseconds.
pub fn ask_round_trip(scale: Scale, cross_shard: bool) -> Histogram<u64> {
    let rt = runtime_of(if cross_shard { 2 } else { 1 }, true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let to = if cross_shard { 1 - here } else { here };
        let sink = sys.spawn_on(to, || Sink { count: 0 }).expect("spawn");
        let mut samples = Samples::after_warm_up(scale.samples);
        while samples.wanted() {
            let began = Instant::now();
            sink.ask(SinkMsg::Count).await.expect("ask");
            samples.record(began.elapsed().as_nanos() as u64);
        }
        samples.into_histogram()
    })
    .expect("block_on")
}

/// An actor with no state that ignores its messages.
struct Idle;

impl Actor for Idle {
    type Msg = ();
    fn handle(&mut self, _msg: (), _ctx: &mut Context<Self>) {}
}

/// Spawn rate on one shard: the median of 10 samples of
/// `spawns_per_sample` actors each (stopped between samples), actors per
/// second.
pub fn spawn_rate(scale: Scale) -> u64 {
    let rt = runtime(true);
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().expect("on a shard");
        let mut rates = histogram(100_000_000_000);
        for _ in 0..10 {
            let mut refs = Vec::with_capacity(scale.spawns_per_sample as usize);
            let began = Instant::now();
            for _ in 0..scale.spawns_per_sample {
                refs.push(sys.spawn_on(here, || Idle).expect("spawn"));
            }
            rates.record(per_second(scale.spawns_per_sample, began.elapsed())).expect("in range");
            for r in refs {
                r.stop();
            }
            // Let the stops be processed before the next sample.
            yield_now().await;
        }
        rates.value_at_quantile(0.5)
    })
    .expect("block_on")
}

/// `count` done in `elapsed`, per second.
pub(crate) fn per_second(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64()) as u64
}
