//! Regression tests for the hangs, lost messages and unbounded growth found in
//! the review of the first runtime (the hardening issue). Each test is named
//! after the bug it pins and failed before its fix.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, within, Counter, CounterMsg};
use whirl::{Actor, ActorRef, AskError, Context, Reply, Runtime, SendError};

fn unpinned(shards: usize) -> Runtime {
    Runtime::builder()
        .shards(shards)
        .pin(false)
        .spin_before_park(Duration::ZERO)
        .build()
        .expect("runtime builds")
}

/// Forwards a countdown along a chain of actors spread over the shards.
struct Hop {
    next: Option<ActorRef<u32>>,
    handled: Arc<AtomicU64>,
}

impl Actor for Hop {
    type Msg = u32;
    fn handle(&mut self, left: u32, _ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        if left > 0 {
            if let Some(next) = self.next {
                // Rings hold 1024 and at most 8 * 40 messages are in flight.
                next.send(left - 1).expect("room in the ring");
            }
        }
    }
}

/// Item 2: a shard popped a message before it cleared its `quiet` flag, so
/// another shard could see every shard quiet while the message's handler was
/// about to forward it, and stop the actors under it.
#[test]
fn drain_never_stops_while_a_popped_message_is_being_handled() {
    within(120, || {
        for round in 0..150 {
            let rt = unpinned(3);
            let sys = rt.system();
            let handled = Arc::new(AtomicU64::new(0));
            // Eight rings of 40 actors, each actor on the shard after its
            // predecessor's, so every hop crosses cores.
            let mut heads = Vec::new();
            for ring in 0..8 {
                let mut next = None;
                for i in (0..40).rev() {
                    let handled = handled.clone();
                    let actor = sys
                        .spawn_on((ring + i) % 3, move || Hop { next, handled: handled.clone() })
                        .unwrap();
                    next = Some(actor);
                }
                heads.push(next.unwrap());
            }
            for head in &heads {
                head.send(39).unwrap();
            }
            rt.shutdown();
            assert_eq!(sys.dead_letters(), 0, "round {round}: a message in flight was dropped");
            assert_eq!(handled.load(Ordering::Relaxed), 8 * 40, "round {round}");
        }
    });
}

/// Item 5: mesh ids were reused, so a ref kept from a dropped runtime reached
/// an unrelated actor of a newer runtime, or indexed past its shards.
#[test]
fn a_ref_of_a_dropped_runtime_reports_closed_and_reaches_nobody() {
    let old: ActorRef<CounterMsg> = {
        let rt = runtime(2);
        let sys = rt.system();
        let a = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
        rt.shutdown();
        a
    };
    let rt = runtime(2);
    let sys = rt.system();
    let fresh = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
    assert!(matches!(old.send(CounterMsg::Add(1)), Err(SendError::Closed(_))));
    let n = rt.block_on(move |_| async move { fresh.ask(CounterMsg::Get).await }).unwrap();
    assert_eq!(n, Ok(0), "the old ref's message reached the new runtime's actor");
    rt.shutdown();
    // Fewer shards than the old ref names.
    let rt = unpinned(1);
    assert!(matches!(old.send(CounterMsg::Add(1)), Err(SendError::Closed(_))));
    old.stop();
    rt.shutdown();
}

/// Sends itself a message for every message it handles: never idle.
struct Spinner;

impl Actor for Spinner {
    type Msg = ();
    fn handle(&mut self, _: (), ctx: &mut Context<Self>) {
        let _ = ctx.myself().send(());
    }
}

/// Two actors that bounce a ball forever.
struct Bouncer {
    peer: Option<ActorRef<Bounce>>,
}

enum Bounce {
    Peer(ActorRef<Bounce>),
    Ball,
}

impl Actor for Bouncer {
    type Msg = Bounce;
    fn handle(&mut self, msg: Bounce, ctx: &mut Context<Self>) {
        match msg {
            Bounce::Peer(peer) => self.peer = Some(peer),
            Bounce::Ball => {
                let _ = self.peer.unwrap_or(ctx.myself()).send(Bounce::Ball);
            }
        }
    }
}

/// Item 6: shutdown never ended while actors kept messaging each other on
/// one shard; across shards it stopped at once. Now both run into the
/// shutdown deadline, and the report says so.
#[test]
fn shutdown_of_endless_chatter_ends_at_its_deadline_on_one_shard_and_across() {
    for (a, b) in [(0, 0), (0, 1)] {
        let report = within(60, move || {
            let rt = Runtime::builder()
                .shards(2)
                .spin_before_park(Duration::ZERO)
                .shutdown_timeout(Duration::from_millis(200))
                .build()
                .unwrap();
            let sys = rt.system();
            let spinner = sys.spawn_on(a, || Spinner).unwrap();
            spinner.send(()).unwrap();
            let x = sys.spawn_on(a, || Bouncer { peer: None }).unwrap();
            let y = sys.spawn_on(b, || Bouncer { peer: None }).unwrap();
            x.send(Bounce::Peer(y)).unwrap();
            y.send(Bounce::Peer(x)).unwrap();
            x.send(Bounce::Ball).unwrap();
            rt.shutdown()
        });
        assert!(report.timed_out, "shards {a},{b}: {report:?}");
        assert!(report.cut_short >= 1, "shards {a},{b}: what was cut is counted: {report:?}");
    }
}

/// Item 7: a `block_on` program still waiting on a glommio timer when another
/// thread shut the runtime down never returned.
#[test]
fn block_on_returns_shut_down_when_the_runtime_stops_under_its_program() {
    for sleeper in [false, true] {
        let result = within(60, move || {
            let rt = Arc::new(runtime(2));
            let stopper = {
                let sys = rt.system();
                std::thread::spawn(move || {
                    // Once the program runs (it spawned its actor), stop.
                    while sys.stats().actors == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    futures_lite::future::block_on(sys.shutdown());
                })
            };
            let result = rt.block_on(move |sys| async move {
                let _ = sys.spawn_on(1, || Counter { n: 0 });
                if sleeper {
                    glommio::timer::sleep(Duration::from_secs(3600)).await;
                } else {
                    std::future::pending::<()>().await;
                }
            });
            stopper.join().unwrap();
            result
        });
        assert_eq!(result, Err(whirl::Error::ShutDown), "sleeper: {sleeper}");
    }
}

/// Answers nothing; counts what it handles.
struct Sink {
    handled: Arc<AtomicUsize>,
}

impl Actor for Sink {
    type Msg = Reply<u64>;
    fn handle(&mut self, _reply: Reply<u64>, _ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::SeqCst);
    }
}

/// Item 8: an `Ask` whose question did not fit the mailbox kept it until its
/// first poll; dropped unpolled, the question vanished, counted nowhere.
#[test]
fn a_dropped_ask_never_loses_its_question_silently() {
    let rt = Runtime::builder()
        .shards(1)
        .mailbox_capacity(4)
        .spin_before_park(Duration::ZERO)
        .build()
        .unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let sys = rt.system();
    rt.block_on(move |sys| async move {
        let sink = sys.spawn_on(0, move || Sink { handled: h.clone() }).unwrap();
        // The actor cannot run while this task does: 4 questions fit.
        let asks: Vec<_> = (0..10).map(|_| sink.ask(|reply: Reply<u64>| reply)).collect();
        drop(asks);
        // Let the actor handle what it got.
        assert_eq!(sink.ask(|r| r).timeout(Duration::from_secs(5)).await, Err(AskError::Closed));
    })
    .unwrap();
    rt.shutdown();
    let handled = handled.load(Ordering::SeqCst);
    assert_eq!(handled, 4 + 1);
    // 4 answers nobody waits for (dropped replies are not dead letters:
    // the asks were gone) and 6 questions that were never sent.
    assert_eq!(sys.dead_letters(), 6, "every question that was never sent is counted");
}

/// Records the most messages it ever saw queued on its shard.
struct Gauge {
    sys: whirl::System,
    max_queued: Arc<AtomicUsize>,
}

impl Actor for Gauge {
    type Msg = u64;
    fn handle(&mut self, _: u64, _ctx: &mut Context<Self>) {
        self.max_queued.fetch_max(self.sys.stats().queued, Ordering::Relaxed);
    }
}

/// Item 9: messages from threads outside the runtime were delivered past the
/// mailbox bound, up to 256 per pass, so a sender retrying on `Full` grew the
/// mailbox without limit.
#[test]
fn messages_from_outside_the_runtime_respect_the_mailbox_bound() {
    within(120, || {
        let rt = Runtime::builder()
            .shards(1)
            .mailbox_capacity(4)
            .turn_budget(1)
            .spin_before_park(Duration::ZERO)
            .build()
            .unwrap();
        let sys = rt.system();
        let max_queued = Arc::new(AtomicUsize::new(0));
        let m = max_queued.clone();
        let s = sys.clone();
        let gauge =
            sys.spawn_on(0, move || Gauge { sys: s.clone(), max_queued: m.clone() }).unwrap();
        for i in 0..20_000u64 {
            let mut msg = i;
            while let Err(SendError::Full(back)) = gauge.send(msg) {
                msg = back;
                std::thread::yield_now();
            }
        }
        rt.shutdown();
        let max = max_queued.load(Ordering::Relaxed);
        assert!(max <= 4, "the mailbox held {max} messages, its bound is 4");
    });
}

/// Item 10: slots of actors spawned from outside the shard were never reused,
/// so every such spawn grew the shard's slot table for good.
#[test]
fn slots_of_actors_spawned_from_outside_are_reused() {
    within(300, || {
        let rt = runtime(1);
        let sys = rt.system();
        let spawns = if cfg!(debug_assertions) { 1_000_000 } else { 10_000_000 };
        for _ in 0..spawns {
            let a = loop {
                match sys.spawn_on(0, || Counter { n: 0 }) {
                    Ok(a) => break a,
                    Err(whirl::SpawnError::Busy) => std::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            };
            a.stop();
        }
        let slots = sys.stats().slots;
        rt.shutdown();
        assert!(slots < 20_000, "{spawns} spawn-stop cycles left {slots} slots");
    });
}

/// Item 12: an absurd configuration was built (for 20 s, with a 15 GB peak)
/// or reported as a glommio failure; now it is refused with the reason.
#[test]
fn absurd_configurations_are_refused_with_the_reason() {
    let err =
        within(30, || Runtime::builder().shards(1000).pin(false).build().map(|_| ()).unwrap_err());
    let text = err.to_string();
    assert!(text.contains("ring") && text.contains("GiB"), "{text}");
    let err = Runtime::builder().shards(2).ring_capacity(1 << 40).build().unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("glommio") && text.contains("ring_capacity"), "{text}");
}

/// A reply whose drop asks an actor of the same shard.
struct AsksOnDrop(Option<ActorRef<CounterMsg>>);

impl Drop for AsksOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            drop(c.ask(CounterMsg::Get));
        }
    }
}

/// Answers with a value that asks `counter` when dropped.
struct DropTrap {
    counter: ActorRef<CounterMsg>,
}

impl Actor for DropTrap {
    type Msg = Reply<AsksOnDrop>;
    fn handle(&mut self, reply: Reply<AsksOnDrop>, _ctx: &mut Context<Self>) {
        reply.send(AsksOnDrop(Some(self.counter)));
    }
}

/// Item 14: user `Drop` code ran while the shard's reply table was borrowed,
/// so an answer whose drop asked something panicked with `BorrowMutError`.
#[test]
fn an_answer_dropped_unread_may_run_code_that_asks() {
    let rt = runtime(1);
    rt.block_on(|sys| async move {
        let counter = sys.spawn_on(0, || Counter { n: 1 }).unwrap();
        let trap = sys.spawn_on(0, move || DropTrap { counter }).unwrap();
        let ask = trap.ask(|r| r);
        // Let the actor answer, then drop the ask with its answer unread.
        for _ in 0..10 {
            futures_lite::future::yield_now().await;
        }
        drop(ask);
        assert_eq!(counter.ask(CounterMsg::Get).await, Ok(1));
    })
    .unwrap();
    rt.shutdown();
}

/// Item 15: `register` after the runtime was gone said `Ok`.
#[test]
fn registering_with_a_stopped_runtime_fails() {
    let rt = runtime(1);
    let sys = rt.system();
    let c = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
    rt.shutdown();
    assert!(sys.register("late", c).is_err());
}

/// Item 15: every kind of "full" said "mailbox full", also a full ring.
#[test]
fn a_full_ring_is_not_reported_as_a_full_mailbox() {
    let rt = Runtime::builder()
        .shards(2)
        .ring_capacity(16)
        .spin_before_park(Duration::ZERO)
        .build()
        .unwrap();
    rt.block_on(|sys| async move {
        let c = sys.spawn_on(1, || Counter { n: 0 }).unwrap();
        let mut full = None;
        for _ in 0..1_000_000 {
            if let Err(e) = c.send(CounterMsg::Add(1)) {
                full = Some(e.to_string());
                break;
            }
        }
        let text = full.expect("a ring of 2 fills");
        assert!(!text.contains("mailbox full"), "{text}");
        sys.shutdown().await;
    })
    .unwrap();
}

/// Panics in places no handler's `catch_unwind` covers.
struct Fragile {
    how: u8,
}

/// A message whose drop panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("a message's drop panicked");
        }
    }
}

impl Actor for Fragile {
    type Msg = Option<Bomb>;
    fn started(&mut self, ctx: &mut Context<Self>) {
        match self.how {
            0 => {
                ctx.pipe(async { panic!("the piped future panicked") }, |()| None);
            }
            1 => {
                ctx.pipe(async {}, |()| -> Option<Bomb> { panic!("the pipe's map panicked") });
            }
            2 => {
                ctx.send_interval(Duration::from_millis(1), || {
                    panic!("the interval's maker panicked")
                });
            }
            _ => {}
        }
    }
    fn handle(&mut self, msg: Option<Bomb>, ctx: &mut Context<Self>) {
        // The first message stops the actor: the ones queued behind it are
        // dead letters, and dropping them panics.
        std::mem::forget(msg);
        ctx.stop();
    }
}

/// Item 3: a panic outside a handler (a piped future or its map, an
/// interval's maker, a message's drop) took its shard down, and shutdown then
/// waited for that shard forever.
#[test]
fn panics_outside_handlers_fail_one_actor_and_never_a_shard() {
    within(60, || {
        let rt = runtime(2);
        rt.block_on(|sys| async move {
            let counter = sys.spawn_on(1, || Counter { n: 5 }).unwrap();
            for how in 0..4 {
                let fragile = sys.spawn_on(1, move || Fragile { how }).unwrap();
                if how == 3 {
                    for _ in 0..3 {
                        fragile.send(Some(Bomb)).unwrap_or_else(std::mem::forget);
                    }
                }
                glommio::timer::sleep(Duration::from_millis(5)).await;
                assert_eq!(counter.ask(CounterMsg::Get).await, Ok(5), "case {how}");
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

/// Item 4: once its shard had exited, a full injection queue made a foreign
/// `stop()` or `Reply::send` spin forever.
#[test]
fn stops_and_replies_from_outside_after_shutdown_return_at_once() {
    let rt = Runtime::builder()
        .shards(2)
        .injector_capacity(1)
        .spin_before_park(Duration::ZERO)
        .build()
        .unwrap();
    // The runtime's shared state outlives it while a handle is kept.
    let _sys = rt.system();
    let (tx, held) = std::sync::mpsc::channel::<Reply<u64>>();
    let a = rt
        .block_on(move |sys| async move {
            struct Keeper(std::sync::mpsc::Sender<Reply<u64>>);
            impl Actor for Keeper {
                type Msg = Reply<u64>;
                fn handle(&mut self, reply: Reply<u64>, _: &mut Context<Self>) {
                    self.0.send(reply).unwrap();
                }
            }
            let keeper = sys.spawn_on(1, move || Keeper(tx.clone())).unwrap();
            for _ in 0..3 {
                let asked = keeper.ask(|r| r).timeout(Duration::from_millis(1)).await;
                assert_eq!(asked, Err(AskError::Timeout));
            }
            keeper
        })
        .unwrap();
    rt.shutdown();
    within(30, move || {
        for _ in 0..3 {
            a.stop();
        }
        for reply in held.try_iter() {
            reply.send(1);
        }
    });
}

/// Blocks its shard's thread in `handle` until the test lets it go.
struct Blocker {
    release: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl Actor for Blocker {
    type Msg = ();
    fn handle(&mut self, (): (), _ctx: &mut Context<Self>) {
        let _ = self.release.lock().unwrap().recv();
    }
}

/// A program's send during the drain makes
/// its quiet shard busy again; when the send came to nothing (the actor had
/// stopped) the shard stayed busy, unseen, and the drain ran to its deadline.
#[test]
fn a_send_that_comes_to_nothing_during_the_drain_does_not_hold_it_to_its_deadline() {
    let timed_out = within(60, || {
        let rt = unpinned(2);
        let (release, released) = std::sync::mpsc::channel();
        let released = Arc::new(std::sync::Mutex::new(released));
        let timed_out = rt
            .block_on(move |sys| async move {
                let blocker =
                    sys.spawn_on(1, move || Blocker { release: released.clone() }).unwrap();
                let gone = sys.spawn_on(0, || Counter { n: 0 }).unwrap();
                gone.stop();
                while gone.send(CounterMsg::Add(1)).is_ok() {
                    glommio::yield_if_needed().await;
                }
                // Shard 1 stays busy in the handler, so the drain stays open
                // while shard 0 goes quiet.
                blocker.send(()).unwrap();
                let shutdown = sys.shutdown_timeout(Duration::from_secs(10));
                glommio::timer::sleep(Duration::from_millis(50)).await;
                assert!(matches!(gone.send(CounterMsg::Add(1)), Err(SendError::Closed(_))));
                release.send(()).unwrap();
                shutdown.await.timed_out
            })
            .unwrap();
        drop(rt);
        timed_out
    });
    assert!(!timed_out, "the drain ended by itself");
}

/// A program that polled a `Shutdown` once
/// and then waited on something else kept its shard running after every
/// actor had stopped, for ever.
#[test]
fn a_shutdown_polled_once_and_then_left_does_not_keep_the_runtime_alive() {
    let result = within(60, || {
        let rt = unpinned(1);
        rt.block_on(|sys| async move {
            let mut shutdown = sys.shutdown_timeout(Duration::from_secs(10));
            assert!(futures_lite::future::poll_once(&mut shutdown).await.is_none());
            std::future::pending::<()>().await;
        })
    });
    assert_eq!(result, Err(whirl::Error::ShutDown));
}

/// A replaced waker was dropped while the
/// lock of the shutdown waiters was held, so a waker whose drop came back to
/// that lock (here: it owns another `Shutdown`) deadlocked.
#[test]
fn a_waker_whose_drop_comes_back_to_the_shutdown_does_not_deadlock() {
    struct OwnsAShutdown(#[allow(dead_code)] whirl::Shutdown);
    impl std::task::Wake for OwnsAShutdown {
        fn wake(self: Arc<Self>) {}
    }
    let rt = unpinned(1);
    let sys = rt.system();
    let (release, released) = std::sync::mpsc::channel();
    let released = Arc::new(std::sync::Mutex::new(released));
    // Keeps the drain open while the test polls.
    let blocker = sys.spawn_on(0, move || Blocker { release: released.clone() }).unwrap();
    blocker.send(()).unwrap();
    let mut first = sys.shutdown();
    let owner = std::task::Waker::from(Arc::new(OwnsAShutdown(sys.shutdown())));
    within(30, move || {
        let poll = |future: &mut whirl::Shutdown, waker: &std::task::Waker| {
            let mut cx = std::task::Context::from_waker(waker);
            std::future::Future::poll(std::pin::Pin::new(future), &mut cx).is_ready()
        };
        assert!(!poll(&mut first, &owner));
        drop(owner);
        // Replacing the registered waker drops the last `OwnsAShutdown`.
        assert!(!poll(&mut first, std::task::Waker::noop()));
    });
    release.send(()).unwrap();
    drop(rt);
}
