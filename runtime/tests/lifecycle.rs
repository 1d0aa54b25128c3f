//! Lifecycle hooks, stopping, and failures that stay inside one actor.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{runtime, Counter, CounterMsg};
use whirl::{Actor, AskError, Context, Reply};

/// Records its hooks in shared counters.
struct Hooked {
    started: Arc<AtomicUsize>,
    stopped: Arc<AtomicUsize>,
    handled: u64,
}

enum HookedMsg {
    Work,
    Count(Reply<u64>),
    Panic,
}

impl Actor for Hooked {
    type Msg = HookedMsg;
    fn started(&mut self, _ctx: &mut Context<Self>) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }
    fn handle(&mut self, msg: HookedMsg, _ctx: &mut Context<Self>) {
        match msg {
            HookedMsg::Work => self.handled += 1,
            HookedMsg::Count(reply) => reply.send(self.handled),
            HookedMsg::Panic => panic!("this actor fails (on purpose, in a test)"),
        }
    }
    fn stopped(&mut self, _reason: &whirl::StopReason, _ctx: &mut Context<Self>) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
    }
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

/// A factory for [`Hooked`] actors that count into `started` and `stopped`.
fn hooked(
    started: &Arc<AtomicUsize>,
    stopped: &Arc<AtomicUsize>,
) -> impl Fn() -> Hooked + Send + 'static {
    let (started, stopped) = (started.clone(), stopped.clone());
    move || Hooked { started: started.clone(), stopped: stopped.clone(), handled: 0 }
}

#[test]
fn started_runs_first_and_stopped_runs_on_stop() {
    let rt = runtime(2);
    let (started, stopped) = counters();
    let (s1, s2) = (started.clone(), stopped.clone());
    rt.block_on(move |sys| async move {
        for shard in 0..2 {
            let a = sys.spawn_on(shard, hooked(&s1, &s2)).unwrap();
            a.send(HookedMsg::Work).unwrap();
            a.send(HookedMsg::Work).unwrap();
            // Stop comes after the two queued messages: both are handled.
            a.stop();
            assert_eq!(a.ask(HookedMsg::Count).await, Err(AskError::Closed));
        }
        sys.shutdown().await;
    })
    .unwrap();
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(stopped.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_actor_stops_alone() {
    let rt = runtime(2);
    let (started, stopped) = counters();
    let (s1, s2) = (started.clone(), stopped.clone());
    rt.block_on(move |sys| async move {
        for shard in 0..2 {
            let a = sys.spawn_on(shard, hooked(&s1, &s2)).unwrap();
            let neighbour = sys.spawn_on(shard, || Counter { n: 1 }).unwrap();
            a.send(HookedMsg::Panic).unwrap();
            assert_eq!(a.ask(HookedMsg::Count).await, Err(AskError::Closed));
            // The shard and its other actors carry on.
            assert_eq!(neighbour.ask(CounterMsg::Get).await, Ok(1));
        }
        sys.shutdown().await;
    })
    .unwrap();
    assert_eq!(stopped.load(Ordering::SeqCst), 2, "stopped ran for the failed actors");
}

/// Fails in its factory.
struct Unbuildable;

impl Actor for Unbuildable {
    type Msg = ();
    fn handle(&mut self, _msg: (), _ctx: &mut Context<Self>) {}
}

#[test]
fn a_panicking_factory_is_a_stopped_actor() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let a = sys
                .spawn_on(shard, || -> Unbuildable {
                    panic!("factory fails (on purpose, in a test)")
                })
                .unwrap();
            // Its messages become dead letters, or are refused.
            let before = sys.dead_letters();
            match a.send(()) {
                Ok(()) => {
                    let probe = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
                    probe.ask(CounterMsg::Get).await.unwrap();
                    assert_eq!(sys.dead_letters(), before + 1);
                }
                Err(e) => assert!(e.is_closed()),
            }
        }
        sys.shutdown().await;
    })
    .unwrap();
}

/// Regression: a shard still polling (spin before park) when the last
/// `block_on` task finished, or when another shard asked everyone to look
/// again, was not rung (only parked shards are) and parked for good, so
/// dropping the runtime hung. Shards now also watch the mesh's nudge count.
#[test]
fn regression_polling_shard_sees_the_end_of_shutdown() {
    for _ in 0..20 {
        let rt = whirl::Runtime::builder()
            .shards(2)
            .spin_before_park(std::time::Duration::from_micros(200))
            .build()
            .unwrap();
        let n = rt
            .block_on(|sys| async move {
                let c = sys.spawn_on(1, || Counter { n: 1 }).unwrap();
                let n = c.ask(CounterMsg::Get).await.unwrap();
                sys.shutdown().await;
                n
            })
            .unwrap();
        assert_eq!(n, 1);
        drop(rt); // joins both shards
    }
}

#[test]
fn an_actor_in_a_reused_slot_stops_like_the_first() {
    // A freed slot once kept its "handler running" mark, so the next actor
    // in it never finished stopping.
    let rt = runtime(2);
    let (started, stopped) = counters();
    let (s1, s2) = (started.clone(), stopped.clone());
    rt.block_on(move |sys| async move {
        for shard in 0..2 {
            for _ in 0..3 {
                // No message first: one would have reset the mark.
                let a = sys.spawn_on(shard, hooked(&s1, &s2)).unwrap();
                a.stop();
                assert_eq!(a.ask(HookedMsg::Count).await, Err(AskError::Closed));
            }
        }
        assert_eq!(sys.stats().actors, 0, "every stop finished");
        sys.shutdown().await;
    })
    .unwrap();
    assert_eq!(stopped.load(Ordering::SeqCst), 6);
}

/// Fails through its piped job and, in `stopped`, sends to a full mailbox.
struct FailsAndSends {
    full: whirl::ActorRef<CounterMsg>,
    stopped: Arc<AtomicUsize>,
}

impl Actor for FailsAndSends {
    type Msg = ();
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.pipe(
            async {
                // Fails on a later turn than its first poll (a piped job runs
                // only after the handler that piped it has returned).
                futures_lite::future::yield_now().await;
                panic!("the piped job fails")
            },
            |()| (),
        );
    }
    fn handle(&mut self, (): (), _ctx: &mut Context<Self>) {}
    fn stopped(&mut self, _reason: &whirl::StopReason, _ctx: &mut Context<Self>) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
        // Waiting for room runs the shard's queue here, where the stop
        // queued for this very actor waits behind the full mailbox.
        let send = futures_lite::future::poll_once(self.full.send_async(CounterMsg::Add(1)));
        let _ = futures_lite::future::block_on(send);
    }
}

/// Review of the inlined send paths, finding 1: a pass run inside a
/// `stopped` hook (waiting for room) reached a stop queued for the same
/// actor and stopped it a second time: `stopped` twice, its cell freed twice.
#[test]
fn an_actor_stopping_is_not_stopped_again_by_a_pass_its_stopped_hook_runs() {
    let rt = whirl::Runtime::builder()
        .shards(1)
        .pin(false)
        .mailbox_capacity(4)
        .spin_before_park(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let stopped = Arc::new(AtomicUsize::new(0));
    let count = stopped.clone();
    rt.block_on(move |sys| async move {
        let full = sys.spawn(|| Counter { n: 0 }).unwrap();
        let count = count.clone();
        let x = sys.spawn(move || FailsAndSends { full, stopped: count.clone() }).unwrap();
        for i in 0..4 {
            full.send(CounterMsg::Add(i)).unwrap();
        }
        x.stop();
        // The piped job runs (and fails) before the dispatch loop.
        glommio::timer::sleep(std::time::Duration::from_millis(20)).await;
    })
    .unwrap();
    drop(rt);
    assert_eq!(stopped.load(Ordering::SeqCst), 1, "stopped once");
}

#[test]
fn an_actor_is_spawned_once_from_a_value_it_owns() {
    /// Owns a resource that cannot be cloned: the sending end of a channel.
    struct Owner {
        out: std::sync::mpsc::Sender<u32>,
    }
    impl Actor for Owner {
        type Msg = u32;
        fn handle(&mut self, n: u32, _ctx: &mut Context<Self>) {
            self.out.send(n).unwrap();
        }
    }
    let (out, seen) = std::sync::mpsc::channel();
    let rt = common::runtime(2);
    rt.block_on(|sys| async move {
        let owner = Owner { out };
        let actor = sys.spawn_once(whirl::Placement::Shard(1), move || owner).unwrap();
        actor.send(7).unwrap();
        actor.stop();
        sys.shutdown().await;
    })
    .unwrap();
    assert_eq!(seen.recv().unwrap(), 7);
    assert!(seen.recv().is_err(), "the actor and its sender are gone");
}
