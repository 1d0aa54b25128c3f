//! Failure and restart in place: reasons, restart types, intensity, backoff
//! and what happens to waiting messages, behind refs that keep working.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, runtime};
use whirl::{
    Actor, ActorRef, AfterPanic, AskError, ChildSpec, Context, DeadLetterCause, MailboxOnRestart,
    Placement, Reply, Restart, RestartPolicy, SendError, StopReason, Strategy, Supervisor, System,
};

/// What the actors of these tests saw, across incarnations.
type Log = Arc<Mutex<Vec<String>>>;

/// Counts `Add`s, fails on request, logs its lifecycle.
struct Worker {
    n: u64,
    log: Log,
    fail_in_started: bool,
}

enum WorkerMsg {
    Add(u64),
    Get(Reply<(u64, u32)>),
    Panic,
    Fail(&'static str),
    Stop,
}

impl Actor for Worker {
    type Msg = WorkerMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.log.lock().unwrap().push(format!("started {}", ctx.incarnation()));
        if self.fail_in_started {
            panic!("cannot start");
        }
    }

    fn handle(&mut self, msg: WorkerMsg, ctx: &mut Context<Self>) {
        match msg {
            WorkerMsg::Add(k) => self.n += k,
            WorkerMsg::Get(reply) => reply.send((self.n, ctx.incarnation())),
            WorkerMsg::Panic => panic!("boom"),
            WorkerMsg::Fail(why) => ctx.fail(why),
            WorkerMsg::Stop => ctx.stop(),
        }
    }

    fn stopped(&mut self, reason: &StopReason, _ctx: &mut Context<Self>) {
        self.log.lock().unwrap().push(format!("stopped: {reason}"));
    }
}

fn spawn(sys: &System, policy: RestartPolicy, log: &Log) -> ActorRef<WorkerMsg> {
    let here = sys.current_shard().expect("on a shard");
    let log = log.clone();
    sys.spawn_restarting(Placement::Shard(here), policy, move || Worker {
        n: 0,
        log: log.clone(),
        fail_in_started: false,
    })
    .expect("spawn")
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[test]
fn a_panicking_actor_is_restarted_behind_the_same_ref() {
    let log = Log::default();
    let rt = runtime(2);
    let seen = log.clone();
    rt.block_on(move |sys| async move {
        let w = spawn(&sys, RestartPolicy::new(Restart::Transient), &seen);
        w.send(WorkerMsg::Add(5)).unwrap();
        w.send(WorkerMsg::Panic).unwrap();
        w.send(WorkerMsg::Add(2)).unwrap();
        // The new incarnation starts from the factory (n = 0) and gets the
        // messages queued behind the failure.
        assert_eq!(w.ask(WorkerMsg::Get).await, Ok((2, 1)));
        let stats = sys.stats();
        assert_eq!(stats.restarts, 1);
        assert_eq!(stats.dead_letters_of(DeadLetterCause::FailedHandling), 1, "the Panic");
        assert_eq!(stats.actors, 1);
        sys.shutdown().await;
    })
    .unwrap();
    assert_eq!(
        lines(&log),
        ["started 0", "stopped: panicked: boom", "started 1", "stopped: the runtime shut down"]
    );
}

#[test]
fn a_bare_spawn_is_never_restarted() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let here = sys.current_shard().unwrap();
        let log = Log::default();
        let w = sys
            .spawn_on(here, move || Worker { n: 0, log: log.clone(), fail_in_started: false })
            .unwrap();
        w.send(WorkerMsg::Panic).unwrap();
        assert_eq!(w.ask(WorkerMsg::Get).await, Err(AskError::Closed));
        assert!(matches!(w.send(WorkerMsg::Add(1)), Err(SendError::Closed(_))));
        assert_eq!(sys.stats().restarts, 0);
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn restart_types_decide_after_a_normal_stop_and_a_failure() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let log = Log::default();
        // Transient: a failure restarts it, a stop of its own does not.
        let transient = spawn(&sys, RestartPolicy::new(Restart::Transient), &log);
        transient.send(WorkerMsg::Fail("bad input")).unwrap();
        assert_eq!(transient.ask(WorkerMsg::Get).await, Ok((0, 1)));
        transient.send(WorkerMsg::Stop).unwrap();
        assert_eq!(transient.ask(WorkerMsg::Get).await, Err(AskError::Closed));
        // Permanent: restarted after its own stop too.
        let permanent = spawn(&sys, RestartPolicy::new(Restart::Permanent), &log);
        permanent.send(WorkerMsg::Stop).unwrap();
        assert_eq!(permanent.ask(WorkerMsg::Get).await, Ok((0, 1)));
        // A stop asked from outside is for good, whatever the type.
        permanent.stop();
        assert_eq!(permanent.ask(WorkerMsg::Get).await, Err(AskError::Closed));
        // Temporary: never.
        let temporary = spawn(&sys, RestartPolicy::new(Restart::Temporary), &log);
        temporary.send(WorkerMsg::Fail("once")).unwrap();
        assert_eq!(temporary.ask(WorkerMsg::Get).await, Err(AskError::Closed));
        assert_eq!(sys.stats().restarts, 2);
        let log = lines(&log);
        assert!(log.contains(&"stopped: failed: bad input".to_owned()), "{log:?}");
        assert!(log.contains(&"stopped: failed: once".to_owned()), "{log:?}");
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn an_actor_failing_in_started_stops_for_good_once_the_intensity_is_exceeded() {
    let log = Log::default();
    let rt = runtime(2);
    let seen = log.clone();
    rt.block_on(move |sys| async move {
        let here = sys.current_shard().unwrap();
        let policy = RestartPolicy::new(Restart::Permanent).intensity(3, Duration::from_secs(3600));
        let log = seen.clone();
        let w = sys
            .spawn_restarting(Placement::Shard(here), policy, move || Worker {
                n: 0,
                log: log.clone(),
                fail_in_started: true,
            })
            .unwrap();
        // The first start and three restarts fail; the fourth restart would
        // exceed the intensity, so the actor stops for good.
        assert_eq!(w.ask(WorkerMsg::Get).await, Err(AskError::Closed));
        assert_eq!(sys.stats().restarts, 3);
        assert_eq!(sys.stats().actors, 0);
        sys.shutdown().await;
    })
    .unwrap();
    let log = lines(&log);
    assert_eq!(log.iter().filter(|l| l.starts_with("started")).count(), 4, "{log:?}");
    assert_eq!(log.last().unwrap(), "stopped: failed too often (restart intensity exceeded)");
}

#[test]
fn waiting_messages_go_to_the_new_incarnation_or_are_dropped_as_the_policy_says() {
    for mailbox in [MailboxOnRestart::Keep, MailboxOnRestart::Drop] {
        let rt = runtime(2);
        rt.block_on(move |sys| async move {
            let log = Log::default();
            let policy = RestartPolicy::new(Restart::Transient).mailbox(mailbox);
            let w = spawn(&sys, policy, &log);
            w.send(WorkerMsg::Panic).unwrap();
            for _ in 0..10 {
                w.send(WorkerMsg::Add(1)).unwrap();
            }
            // Everything below was queued before the failure was handled,
            // the first question included.
            let first = w.ask(WorkerMsg::Get).await;
            let dropped = sys.stats().dead_letters_of(DeadLetterCause::DroppedOnRestart);
            match mailbox {
                MailboxOnRestart::Keep => assert_eq!((first, dropped), (Ok((10, 1)), 0)),
                MailboxOnRestart::Drop => {
                    assert_eq!((first, dropped), (Err(AskError::Closed), 11));
                    assert_eq!(w.ask(WorkerMsg::Get).await, Ok((0, 1)), "later ones arrive");
                }
            }
            sys.shutdown().await;
        })
        .unwrap();
    }
}

#[test]
fn messages_sent_during_a_backoff_wait_for_the_new_incarnation() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let log = Log::default();
        let ms = Duration::from_millis;
        let policy = RestartPolicy::new(Restart::Transient).backoff(ms(20), ms(20));
        let w = spawn(&sys, policy, &log);
        w.send(WorkerMsg::Panic).unwrap();
        // Let the failure happen; the restart waits 10–20 ms.
        futures_lite::future::yield_now().await;
        for _ in 0..5 {
            w.send_async(WorkerMsg::Add(1)).await.unwrap();
        }
        assert_eq!(w.ask(WorkerMsg::Get).await, Ok((5, 1)));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn an_ask_to_an_actor_that_fails_while_answering_completes_with_an_error() {
    struct Flaky;
    impl Actor for Flaky {
        type Msg = Reply<u32>;
        fn handle(&mut self, _reply: Reply<u32>, _ctx: &mut Context<Self>) {
            panic!("failed before answering");
        }
    }
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let policy =
                RestartPolicy::new(Restart::Permanent).intensity(10, Duration::from_secs(60));
            let f = sys.spawn_restarting(Placement::Shard(shard), policy, || Flaky).unwrap();
            assert_eq!(f.ask(|reply| reply).await, Err(AskError::Failed));
            // Still there, behind the same ref, for the next question.
            assert_eq!(f.ask(|reply| reply).await, Err(AskError::Failed));
        }
        assert_eq!(sys.stats().restarts, 4);
        sys.shutdown().await;
    })
    .unwrap();
}

/// Handles numbers, panicking on some of them; counts what it handled.
struct Fragile {
    handled: Arc<std::sync::atomic::AtomicU64>,
}

impl Actor for Fragile {
    type Msg = u64;
    fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) {
        // About one message in 45 fails.
        if n % 97 == 0 || n % 89 == 0 {
            panic!("unlucky {n}");
        }
        self.handled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Conservation: every message sent to actors that fail at random, on both
/// shards and from both shards, is handled or counted as a dead letter,
/// exactly, under both mailbox policies.
#[test]
fn every_message_to_failing_actors_is_handled_or_a_dead_letter() {
    conservation(false, Duration::ZERO);
}

/// The same, with the actors children of a one-for-one supervisor on the
/// other shard: failure notices and resumes travel between the shards.
#[test]
fn every_message_to_failing_supervised_children_is_handled_or_a_dead_letter() {
    conservation(true, Duration::ZERO);
}

/// The same, with a backoff before each restart and small mailboxes: the
/// messages from the other shard often find their actor restarting at its
/// bound, and wait in their ring (with the supervisor's resumes travelling
/// the same rings).
#[test]
fn with_a_backoff_and_small_mailboxes_every_message_is_still_handled_or_a_dead_letter() {
    conservation(false, Duration::from_micros(100));
    conservation(true, Duration::from_micros(100));
}

/// Sends to four `Fragile` actors from both shards and checks handled +
/// dead letters == sent, for each mailbox policy. A zero `backoff` keeps
/// the defaults (1 M messages); otherwise 200 k, into mailboxes of 64.
fn conservation(supervised: bool, backoff: Duration) {
    common::quiet_panics("unlucky");
    for mailbox in [MailboxOnRestart::Keep, MailboxOnRestart::Drop] {
        // From both shards to actors on both.
        let per_sender: u64 = if backoff.is_zero() { 500_000 } else { 100_000 };
        let handled = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = handled.clone();
        let rt = if backoff.is_zero() {
            runtime(2)
        } else {
            common::builder(2).mailbox_capacity(64).build().unwrap()
        };
        let (sent, dead) = rt
            .block_on(move |sys| async move {
                let policy = RestartPolicy::new(Restart::Transient)
                    .intensity(u32::MAX, Duration::from_secs(1))
                    .backoff(backoff, backoff * 2)
                    .mailbox(mailbox);
                let factory = move || {
                    let handled = counted.clone();
                    move || Fragile { handled: handled.clone() }
                };
                let actors: Vec<ActorRef<u64>> = if supervised {
                    let mut spec = Supervisor::new(Strategy::OneForOne)
                        .intensity(u32::MAX, Duration::from_secs(1))
                        .backoff(backoff, backoff * 2);
                    for i in 0..4 {
                        let child = ChildSpec::new(format!("fragile {i}"), factory())
                            .restart(Restart::Transient)
                            .mailbox(mailbox)
                            .on_shard(i % 2);
                        spec = spec.child(child);
                    }
                    let here = sys.current_shard().unwrap();
                    let sup = sys.spawn_supervisor(Placement::Shard(1 - here), spec).unwrap();
                    let mut actors = Vec::new();
                    for i in 0..4 {
                        actors.push(sup.child::<u64>(&format!("fragile {i}")).await.unwrap());
                    }
                    actors
                } else {
                    (0..4)
                        .map(|i| {
                            sys.spawn_restarting(Placement::Shard(i % 2), policy, factory())
                                .unwrap()
                        })
                        .collect()
                };
                // One sender on each shard: this task, and an actor's task.
                let here = sys.current_shard().unwrap();
                let (done_tx, done_rx) = std::sync::mpsc::channel::<u64>();
                struct Sender;
                enum SenderMsg {
                    Go(Vec<ActorRef<u64>>, u64, std::sync::mpsc::Sender<u64>),
                    Done,
                }
                impl Actor for Sender {
                    type Msg = SenderMsg;
                    fn handle(&mut self, msg: SenderMsg, ctx: &mut Context<Self>) {
                        let SenderMsg::Go(actors, count, done) = msg else { return };
                        let sends = async move {
                            for n in 0..count {
                                let to = actors[(n % 4) as usize];
                                to.send_async(n).await.expect("restarting actors stay open");
                            }
                            done.send(count).unwrap();
                        };
                        ctx.pipe(sends, |()| SenderMsg::Done);
                    }
                }
                let other = sys.spawn_on(1 - here, || Sender).unwrap();
                other.send(SenderMsg::Go(actors.clone(), per_sender, done_tx)).unwrap();
                for n in 0..per_sender {
                    actors[(n % 4) as usize].send_async(n).await.unwrap();
                }
                let mut sent = per_sender;
                loop {
                    match done_rx.try_recv() {
                        Ok(count) => {
                            sent += count;
                            break;
                        }
                        Err(_) => futures_lite::future::yield_now().await,
                    }
                }
                let report = sys.shutdown().await;
                assert!(!report.timed_out);
                (sent, report.dead_letters)
            })
            .unwrap();
        let handled = handled.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "{mailbox:?}, supervised {supervised}, backoff {backoff:?}: \
             sent {sent} handled {handled} dead {dead}"
        );
        assert!(dead > 0 && handled > 0);
        assert_eq!(handled + dead, sent, "{mailbox:?}: handled {handled} + dead {dead}");
    }
}

#[test]
fn a_kept_value_survives_restarts() {
    /// Counts its own failures across incarnations.
    struct Tally {
        failures: u32,
    }
    enum TallyMsg {
        Fail,
        Failures(Reply<u32>),
    }
    impl Actor for Tally {
        type Msg = TallyMsg;
        fn started(&mut self, ctx: &mut Context<Self>) {
            self.failures = ctx.take_kept::<u32>().unwrap_or(0);
        }
        fn handle(&mut self, msg: TallyMsg, ctx: &mut Context<Self>) {
            match msg {
                TallyMsg::Fail => ctx.fail("on purpose"),
                TallyMsg::Failures(reply) => reply.send(self.failures),
            }
        }
        fn stopped(&mut self, reason: &StopReason, ctx: &mut Context<Self>) {
            if reason.is_failure() {
                ctx.keep(self.failures + 1);
            }
        }
    }
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let policy = RestartPolicy::new(Restart::Transient);
        let t =
            sys.spawn_restarting(Placement::Shard(1), policy, || Tally { failures: 0 }).unwrap();
        for _ in 0..3 {
            t.send(TallyMsg::Fail).unwrap();
        }
        assert_eq!(t.ask(TallyMsg::Failures).await, Ok(3));
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn an_actor_that_always_stops_in_started_restarts_without_recursing() {
    /// Permanent, and stops itself as soon as it starts.
    struct Quitter;
    impl Actor for Quitter {
        type Msg = Reply<()>;
        fn started(&mut self, ctx: &mut Context<Self>) {
            ctx.stop();
        }
        fn handle(&mut self, reply: Reply<()>, _ctx: &mut Context<Self>) {
            reply.send(());
        }
    }
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        // Each restart's `started` ends the incarnation again: 20 000
        // restarts, one after another through the run queue (they used to
        // nest, one stack frame chain per restart, until the stack ran out).
        let policy =
            RestartPolicy::new(Restart::Permanent).intensity(20_000, Duration::from_secs(3600));
        let q = sys.spawn_restarting(Placement::Shard(1), policy, || Quitter).unwrap();
        assert_eq!(q.ask(|reply| reply).await, Err(AskError::Closed));
        assert_eq!(sys.stats().restarts, 20_000);
        sys.shutdown().await;
    })
    .unwrap();
}

/// Records `(sender, sequence)` pairs across incarnations; fails on every
/// 50th sequence number.
struct Sequencer {
    seen: Arc<Mutex<Vec<(u8, u32)>>>,
}

impl Actor for Sequencer {
    type Msg = (u8, u32);
    fn handle(&mut self, (sender, n): (u8, u32), _: &mut Context<Self>) {
        if n % 50 == 49 {
            panic!("every 50th fails");
        }
        self.seen.lock().unwrap().push((sender, n));
    }
}

#[test]
fn each_senders_order_holds_across_restarts_with_a_backoff() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        let policy = RestartPolicy::new(Restart::Permanent)
            .intensity(u32::MAX, Duration::from_secs(3600))
            .backoff(Duration::from_micros(50), Duration::from_micros(200));
        let actor = sys
            .spawn_restarting(Placement::Shard(0), policy, move || Sequencer {
                seen: record.clone(),
            })
            .unwrap();
        // One sender on the actor's shard, one on the other.
        let relay = sys.spawn_on(1, move || Relay { to: actor }).unwrap();
        let other = relay.ask(RelayMsg::Go);
        for n in 0..2_000 {
            actor.send_async((0, n)).await.unwrap();
        }
        assert_eq!(other.await, Ok(()));
        // The shutdown drain waits for the restarts still under way, so
        // every message held for them is handled.
        sys.shutdown().await;
    })
    .unwrap();
    let seen = seen.lock().unwrap();
    for sender in [0, 1] {
        let order: Vec<u32> = seen.iter().filter(|(s, _)| *s == sender).map(|&(_, n)| n).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "sender {sender} out of order: {order:?}");
        assert_eq!(order.len(), 2_000 - 40, "sender {sender}: every message but the failing ones");
    }
}

/// Sends `(1, 0..2000)` to `to` from its shard when asked, then answers.
struct Relay {
    to: ActorRef<(u8, u32)>,
}

enum RelayMsg {
    Go(Reply<()>),
    Done,
}

impl Actor for Relay {
    type Msg = RelayMsg;
    fn handle(&mut self, msg: RelayMsg, ctx: &mut Context<Self>) {
        let RelayMsg::Go(reply) = msg else { return };
        let to = self.to;
        let sends = async move {
            for n in 0..2_000 {
                to.send_async((1, n)).await.unwrap();
            }
        };
        ctx.pipe(sends, move |()| {
            reply.send(());
            RelayMsg::Done
        });
    }
}

/// Resumes after a panic unless the panic says "fatal"; its hook panics on
/// "hook".
struct Resilient {
    n: u64,
    panics: Vec<String>,
}

enum ResilientMsg {
    Add(u64),
    Panic(&'static str),
    PanicInTask(&'static str),
    Get(Reply<(u64, u32, Vec<String>)>),
}

impl Actor for Resilient {
    type Msg = ResilientMsg;
    fn handle(&mut self, msg: ResilientMsg, ctx: &mut Context<Self>) {
        match msg {
            ResilientMsg::Add(k) => self.n += k,
            ResilientMsg::Panic(why) => {
                self.n += 100; // a half-done change the hook repairs
                panic!("{why}")
            }
            ResilientMsg::PanicInTask(why) => {
                ctx.pipe(async move { panic!("{why}") }, |()| ResilientMsg::Add(1000));
            }
            ResilientMsg::Get(reply) => {
                reply.send((self.n, ctx.incarnation(), self.panics.clone()))
            }
        }
    }

    fn panicked(&mut self, message: &str, _ctx: &mut Context<Self>) -> AfterPanic {
        self.panics.push(message.to_owned());
        assert!(message != "hook", "the hook itself fails");
        if message == "fatal" {
            return AfterPanic::Fail;
        }
        if message != "task" {
            self.n -= 100; // the repair
        }
        AfterPanic::Resume
    }
}

#[test]
fn an_actor_that_resumes_after_a_panic_keeps_its_state_and_is_not_restarted() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let policy = RestartPolicy::new(Restart::Transient);
        let spawn_resilient = || {
            sys.spawn_restarting(Placement::Shard(1), policy, || Resilient { n: 0, panics: vec![] })
                .unwrap()
        };
        let r = spawn_resilient();
        r.send(ResilientMsg::Add(1)).unwrap();
        r.send(ResilientMsg::Panic("oops")).unwrap();
        r.send(ResilientMsg::Add(2)).unwrap();
        r.send(ResilientMsg::PanicInTask("task")).unwrap();
        let (n, incarnation, panics) = eventually("the task panicked", || async {
            let got = r.ask(ResilientMsg::Get).await.unwrap();
            (got.2.len() == 2).then_some(got)
        })
        .await;
        assert_eq!((n, incarnation), (3, 0), "state kept, no restart");
        assert_eq!(panics, ["oops", "task"]);
        let stats = sys.stats();
        assert_eq!(stats.restarts, 0);
        assert_eq!(
            stats.dead_letters_of(DeadLetterCause::FailedHandling),
            1,
            "the message in hand"
        );
        // A hook that answers `Fail`, or panics, fails the actor as before.
        r.send(ResilientMsg::Panic("fatal")).unwrap();
        assert_eq!(r.ask(ResilientMsg::Get).await.map(|g| (g.0, g.1)), Ok((0, 1)));
        r.send(ResilientMsg::Panic("hook")).unwrap();
        assert_eq!(r.ask(ResilientMsg::Get).await.map(|g| (g.0, g.1)), Ok((0, 2)));
        assert_eq!(sys.stats().restarts, 2);
        sys.shutdown().await;
    })
    .unwrap();
}

/// Fails on its first message; its next incarnation comes only after an
/// hour's backoff, so for the whole test it is restarting.
struct Gate;

impl Actor for Gate {
    type Msg = u32;
    fn handle(&mut self, n: u32, ctx: &mut Context<Self>) {
        if n == 0 {
            ctx.fail("gate closes");
        }
    }
}

/// On another shard than `to`: sends it the next numbers with `send`
/// until the ring between the shards is full; answers how many it took.
struct Filler {
    to: ActorRef<u32>,
    next: u32,
}

impl Actor for Filler {
    type Msg = Reply<u32>;
    fn handle(&mut self, reply: Reply<u32>, _ctx: &mut Context<Self>) {
        let mut took = 0;
        loop {
            match self.to.send(self.next) {
                Ok(()) => {
                    self.next += 1;
                    took += 1;
                }
                Err(SendError::Full(_)) => break,
                Err(SendError::Closed(_)) => panic!("the gate is restarting, not closed"),
            }
        }
        reply.send(took);
    }
}

#[test]
fn messages_from_another_shard_wait_in_their_ring_while_a_restarting_actor_is_at_its_bound() {
    common::within(120, || {
        const BOUND: u32 = 8;
        let rt =
            common::builder(2).mailbox_capacity(BOUND as usize).ring_capacity(64).build().unwrap();
        let sys = rt.system();
        let (gate, filler, probe) = rt
            .block_on(|sys| async move {
                let hour = Duration::from_secs(3600);
                let policy = RestartPolicy::new(Restart::Permanent).backoff(hour, hour);
                let gate = sys.spawn_restarting(Placement::Shard(1), policy, || Gate).unwrap();
                let filler = sys.spawn_on(0, move || Filler { to: gate, next: 0 }).unwrap();
                let probe = sys.spawn_on(1, || common::Counter { n: 0 }).unwrap();
                (gate, filler, probe)
            })
            .unwrap();
        let ask = Duration::from_secs(30);
        let mut took = Vec::new();
        for _ in 0..5 {
            took.push(filler.ask_blocking(|r| r, ask).unwrap());
            // A pass of the gate's shard: it has looked at the ring since.
            probe.ask_blocking(common::CounterMsg::Get, ask).unwrap();
        }
        // The fills filled the ring. Of what it held, the gate's shard took
        // the failing message and a mailbox's worth to hold for the next
        // incarnation, and left the rest in the ring: the sender on shard 0
        // felt the backpressure. (Without it, each fill took a ring's worth.)
        const RING_ENTRIES: u32 = 64 * 4 / 3; // 64 slots of 4 words; 3 per entry
        let sent: u32 = took.iter().sum();
        assert!(sent <= RING_ENTRIES + BOUND + 1, "held past the bound: fills took {took:?}");
        // Stopped for good during its backoff: what it held and what waited
        // in the ring are dead letters; nothing is lost.
        gate.stop();
        rt.shutdown();
        let stats = sys.stats();
        assert!(!gate.is_alive());
        assert_eq!(stats.dead_letters, u64::from(sent));
    });
}
