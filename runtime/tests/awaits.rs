//! Actors that await: `Context::wait` holds the actor's mailbox while a
//! future runs and hands it the result first; `Context::add_stream` takes
//! a stream's items only while the actor's mailbox has room. Both are
//! cancelled when the actor stops or restarts.
//!
//! Order is checked with probes, not time: a message to another actor of
//! the same shard, sent after the messages under test, is answered only
//! once the shard's run queue has passed them.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use common::{eventually, Counter, CounterMsg};
use whirl::{
    Actor, ActorRef, Context, DeadLetterCause, Placement, Restart, RestartPolicy, SendError,
};

/// A future any thread may let through.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<(bool, Option<Waker>)>>);

impl Gate {
    fn open(&self) {
        let waker = {
            let mut gate = self.0.lock().unwrap();
            gate.0 = true;
            gate.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn passed(&self) -> impl Future<Output = ()> + 'static {
        let gate = self.clone();
        std::future::poll_fn(move |cx| {
            let mut gate = gate.0.lock().unwrap();
            if gate.0 {
                Poll::Ready(())
            } else {
                gate.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Counts its drops: tells that a future or stream was cancelled.
struct DropCount(Arc<AtomicU64>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending `polls` times (waking itself), then ready.
fn pending_for(polls: u32) -> impl Future<Output = ()> {
    let mut left = polls;
    std::future::poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

type Log = Arc<Mutex<Vec<String>>>;

enum Msg {
    /// Waits for the gate, then gets `Done(id)`.
    Wait(Gate, u32),
    /// Starts waits that take 3, 1 and 0 polls, in that order.
    WaitThree,
    /// Waits for a future that never ends (holding the drop counter) and
    /// panics in a task of its own.
    WaitThenFailElsewhere(Arc<AtomicU64>),
    /// Waits for a future that panics.
    WaitForAPanic,
    Done(u32),
    Seen(u32),
}

struct Waiter {
    log: Log,
}

impl Actor for Waiter {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        let line = match msg {
            Msg::Wait(gate, id) => {
                assert!(ctx.wait(gate.passed(), move |()| Msg::Done(id)));
                format!("wait {id}")
            }
            Msg::WaitThree => {
                for (id, polls) in [(1, 3), (2, 1), (3, 0)] {
                    assert!(ctx.wait(pending_for(polls), move |()| Msg::Done(id)));
                }
                "wait three".to_owned()
            }
            Msg::WaitThenFailElsewhere(drops) => {
                let guard = DropCount(drops);
                ctx.wait(
                    async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    },
                    |()| Msg::Done(0),
                );
                ctx.pipe(async { panic!("a task of the actor fails") }, |()| Msg::Seen(0));
                "wait forever".to_owned()
            }
            Msg::WaitForAPanic => {
                ctx.wait(
                    async {
                        pending_for(1).await;
                        panic!("the awaited future fails");
                    },
                    |()| Msg::Done(0),
                );
                "wait for a panic".to_owned()
            }
            Msg::Done(id) => format!("done {id}"),
            Msg::Seen(n) => format!("seen {n}"),
        };
        self.log.lock().unwrap().push(line);
    }
}

/// The factory of a [`Waiter`] writing to `log`.
fn waiter(log: &Log) -> impl Fn() -> Waiter + Send + 'static {
    let log = log.clone();
    move || Waiter { log: log.clone() }
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn seen(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| format!("seen {n}")).collect()
}

/// Waits until the shard's run queue has passed what was sent before.
async fn probe(counter: &ActorRef<CounterMsg>) {
    counter.ask(CounterMsg::Get).await.expect("the probe answers");
}

#[test]
fn the_result_of_a_wait_comes_before_what_arrived_meanwhile() {
    let log = Log::default();
    let kept = log.clone();
    common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            let gate = Gate::default();
            a.send(Msg::Wait(gate.clone(), 1)).unwrap();
            for n in 1..=5 {
                a.send(Msg::Seen(n)).unwrap();
            }
            // Open before the actor even ran: the messages are behind the
            // wait in its mailbox, and must stay behind its result.
            gate.open();
            eventually("all handled", || async { (lines(&kept).len() == 7).then_some(()) }).await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    let mut expected = vec!["wait 1".to_owned(), "done 1".to_owned()];
    expected.extend(seen(1..=5));
    assert_eq!(lines(&log), expected);
}

#[test]
fn waits_run_one_at_a_time_in_the_order_they_started() {
    let log = Log::default();
    let kept = log.clone();
    common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            a.send(Msg::WaitThree).unwrap();
            a.send(Msg::Seen(1)).unwrap();
            eventually("all handled", || async { (lines(&kept).len() == 5).then_some(()) }).await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    assert_eq!(lines(&log), ["wait three", "done 1", "done 2", "done 3", "seen 1"]);
}

#[test]
fn a_waiting_actor_s_mailbox_fills_and_its_senders_feel_it() {
    const BOUND: u32 = 4;
    let log = Log::default();
    let kept = log.clone();
    common::within(60, move || {
        let rt = common::builder(1).mailbox_capacity(BOUND as usize).build().unwrap();
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            let probe_to = sys.spawn(|| Counter { n: 0 }).unwrap();
            let gate = Gate::default();
            a.send(Msg::Wait(gate.clone(), 1)).unwrap();
            probe(&probe_to).await;
            for n in 1..=BOUND {
                a.send(Msg::Seen(n)).unwrap();
            }
            // The shard has passed them: held in the actor's inbox, still
            // counted against its bound.
            probe(&probe_to).await;
            match a.send(Msg::Seen(BOUND + 1)) {
                Err(SendError::Full(_)) => {}
                other => panic!("a waiting actor's full mailbox takes more: {:?}", other.is_ok()),
            }
            assert_eq!(lines(&kept), ["wait 1"]);
            gate.open();
            // `send_async` waits for the room the wait's end makes.
            a.send_async(Msg::Seen(BOUND + 1)).await.unwrap();
            eventually("all handled", || async {
                (lines(&kept).len() == 3 + BOUND as usize).then_some(())
            })
            .await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    let mut expected = vec!["wait 1".to_owned(), "done 1".to_owned()];
    expected.extend(seen(1..=BOUND + 1));
    assert_eq!(lines(&log), expected);
}

#[test]
fn a_stop_waits_its_turn_behind_the_wait() {
    let log = Log::default();
    let kept = log.clone();
    common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            let probe_to = sys.spawn(|| Counter { n: 0 }).unwrap();
            let gate = Gate::default();
            a.send(Msg::Wait(gate.clone(), 1)).unwrap();
            a.send(Msg::Seen(1)).unwrap();
            a.stop();
            assert!(matches!(a.send(Msg::Seen(2)), Err(SendError::Closed(_))));
            probe(&probe_to).await;
            assert!(a.is_alive(), "the stop waits behind the wait");
            gate.open();
            eventually("stopped", || async { (!a.is_alive()).then_some(()) }).await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    assert_eq!(lines(&log), ["wait 1", "done 1", "seen 1"]);
}

#[test]
fn a_stop_for_good_cancels_the_wait_and_counts_what_it_held() {
    let log = Log::default();
    let kept = log.clone();
    let drops = Arc::new(AtomicU64::new(0));
    let dropped = drops.clone();
    let stats = common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            a.send(Msg::WaitThenFailElsewhere(dropped.clone())).unwrap();
            for n in 1..=3 {
                a.send(Msg::Seen(n)).unwrap();
            }
            eventually("stopped", || async { (!a.is_alive()).then_some(()) }).await;
            eventually("the future dropped", || async {
                (dropped.load(Ordering::SeqCst) == 1).then_some(())
            })
            .await;
            let stats = sys.stats();
            sys.shutdown().await;
            stats
        })
        .unwrap()
    });
    assert_eq!(lines(&log), ["wait forever"]);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(stats.dead_letters_of(DeadLetterCause::Stopped), 3, "the held messages");
}

#[test]
fn a_restart_cancels_the_wait_and_the_new_incarnation_takes_the_mailbox() {
    let log = Log::default();
    let kept = log.clone();
    let drops = Arc::new(AtomicU64::new(0));
    let dropped = drops.clone();
    common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let policy = RestartPolicy::new(Restart::Permanent);
            let a = sys.spawn_restarting(Placement::RoundRobin, policy, waiter(&kept)).unwrap();
            a.send(Msg::WaitThenFailElsewhere(dropped.clone())).unwrap();
            for n in 1..=3 {
                a.send(Msg::Seen(n)).unwrap();
            }
            eventually("the new incarnation took the mailbox", || async {
                (lines(&kept).len() == 4).then_some(())
            })
            .await;
            // The cancelled wait's result never comes.
            let gate = Gate::default();
            gate.open();
            a.send(Msg::Wait(gate, 2)).unwrap();
            a.send(Msg::Seen(4)).unwrap();
            eventually("all handled", || async { (lines(&kept).len() == 7).then_some(()) }).await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let mut expected = vec!["wait forever".to_owned()];
    expected.extend(seen(1..=3));
    expected.extend(["wait 2".to_owned(), "done 2".to_owned(), "seen 4".to_owned()]);
    assert_eq!(lines(&log), expected);
}

#[test]
fn a_panic_in_the_awaited_future_is_a_failure_and_the_restart_lets_the_mailbox_go() {
    let log = Log::default();
    let kept = log.clone();
    let restarts = common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let policy = RestartPolicy::new(Restart::Permanent);
            let a = sys.spawn_restarting(Placement::RoundRobin, policy, waiter(&kept)).unwrap();
            a.send(Msg::WaitForAPanic).unwrap();
            a.send(Msg::Seen(1)).unwrap();
            eventually("handled after the restart", || async {
                (lines(&kept).len() == 2).then_some(())
            })
            .await;
            let restarts = sys.stats().restarts;
            sys.shutdown().await;
            restarts
        })
        .unwrap()
    });
    assert_eq!(restarts, 1);
    assert_eq!(lines(&log), ["wait for a panic", "seen 1"]);
}

// ----- streams ---------------------------------------------------------------

enum StreamMsg {
    Item(u64),
    End,
    /// The wait `started` began is over.
    Done,
}

/// Takes the items of `0..count`, attached in `started`, and checks on
/// each that the stream was not polled past the room in its mailbox.
struct Taker {
    count: u64,
    produced: Arc<AtomicU64>,
    bound: u64,
    /// Items handled, and the most items produced and not yet handled.
    handled: Arc<AtomicU64>,
    most_ahead: Arc<AtomicU64>,
    /// Produced when the wait ended (for the held test).
    at_done: Arc<AtomicU64>,
    ended: Arc<AtomicU64>,
    next: u64,
    wait_first: Option<Gate>,
}

impl Actor for Taker {
    type Msg = StreamMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(gate) = self.wait_first.take() {
            ctx.wait(gate.passed(), |()| StreamMsg::Done);
        }
        let produced = self.produced.clone();
        let items = futures_lite::stream::iter(0..self.count).map(move |i| {
            produced.fetch_add(1, Ordering::SeqCst);
            i
        });
        ctx.add_stream(items, StreamMsg::Item, || StreamMsg::End);
    }

    fn handle(&mut self, msg: StreamMsg, ctx: &mut Context<Self>) {
        match msg {
            StreamMsg::Item(i) => {
                assert_eq!(i, self.next, "in order, nothing lost");
                self.next += 1;
                let handled = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
                let ahead = self.produced.load(Ordering::SeqCst) - handled;
                self.most_ahead.fetch_max(ahead, Ordering::SeqCst);
                // Room for the next one only once this one is taken.
                assert!(ahead < self.bound, "the stream ran {ahead} items ahead");
            }
            StreamMsg::End => {
                self.ended.fetch_add(1, Ordering::SeqCst);
                ctx.stop();
            }
            StreamMsg::Done => {
                self.at_done.store(self.produced.load(Ordering::SeqCst), Ordering::SeqCst)
            }
        }
    }
}

use futures_lite::StreamExt;

#[derive(Clone, Default)]
struct Counts {
    produced: Arc<AtomicU64>,
    handled: Arc<AtomicU64>,
    most_ahead: Arc<AtomicU64>,
    at_done: Arc<AtomicU64>,
    ended: Arc<AtomicU64>,
}

fn taker(counts: &Counts, count: u64, bound: u64, wait_first: Option<Gate>) -> Taker {
    Taker {
        count,
        produced: counts.produced.clone(),
        bound,
        handled: counts.handled.clone(),
        most_ahead: counts.most_ahead.clone(),
        at_done: counts.at_done.clone(),
        ended: counts.ended.clone(),
        next: 0,
        wait_first,
    }
}

#[test]
fn a_stream_is_polled_only_while_the_mailbox_has_room() {
    for bound in [1u64, 3, 16] {
        let counts = Counts::default();
        let seen = counts.clone();
        common::within(60, move || {
            let rt = common::builder(1).mailbox_capacity(bound as usize).build().unwrap();
            rt.block_on(move |sys| async move {
                let c = seen.clone();
                let a = sys.spawn(move || taker(&c, 1_000, bound, None)).unwrap();
                eventually("stopped", || async { (!a.is_alive()).then_some(()) }).await;
                sys.shutdown().await;
            })
            .unwrap();
        });
        assert_eq!(counts.handled.load(Ordering::SeqCst), 1_000, "bound {bound}");
        assert_eq!(counts.ended.load(Ordering::SeqCst), 1, "bound {bound}");
        assert!(
            counts.most_ahead.load(Ordering::SeqCst) < bound,
            "bound {bound}: {} ahead",
            counts.most_ahead.load(Ordering::SeqCst)
        );
    }
}

#[test]
fn a_stream_stops_at_the_bound_while_its_actor_waits() {
    const BOUND: u64 = 5;
    let counts = Counts::default();
    let seen = counts.clone();
    common::within(60, move || {
        let rt = common::builder(1).mailbox_capacity(BOUND as usize).build().unwrap();
        rt.block_on(move |sys| async move {
            let gate = Gate::default();
            let (c, g) = (seen.clone(), gate.clone());
            let a = sys.spawn(move || taker(&c, 100, BOUND + 1, Some(g.clone()))).unwrap();
            eventually("the mailbox filled", || async {
                (seen.produced.load(Ordering::SeqCst) >= BOUND).then_some(())
            })
            .await;
            gate.open();
            eventually("stopped", || async { (!a.is_alive()).then_some(()) }).await;
            sys.shutdown().await;
        })
        .unwrap();
    });
    // Had the stream been polled once more while the mailbox was full, it
    // would have produced that item before yielding.
    assert_eq!(counts.at_done.load(Ordering::SeqCst), BOUND, "the stream stopped at the bound");
    assert_eq!(counts.handled.load(Ordering::SeqCst), 100);
}

#[test]
fn a_stream_is_dropped_when_its_actor_stops_or_its_handle_cancels_it() {
    struct Holder {
        drops: Arc<AtomicU64>,
        cancel_at_start: bool,
    }
    impl Actor for Holder {
        type Msg = ();
        fn started(&mut self, ctx: &mut Context<Self>) {
            let guard = DropCount(self.drops.clone());
            let never = futures_lite::stream::pending::<()>().map(move |()| {
                let _ = &guard;
            });
            let handle = ctx.add_stream(never, |()| (), || ());
            if self.cancel_at_start {
                handle.cancel();
            }
        }
        fn handle(&mut self, (): (), _ctx: &mut Context<Self>) {}
    }
    for cancel_at_start in [true, false] {
        let drops = Arc::new(AtomicU64::new(0));
        let dropped = drops.clone();
        common::within(60, move || {
            let rt = common::runtime(1);
            rt.block_on(move |sys| async move {
                let d = dropped.clone();
                let a = sys.spawn(move || Holder { drops: d.clone(), cancel_at_start }).unwrap();
                if !cancel_at_start {
                    a.stop();
                }
                eventually("the stream dropped", || async {
                    (dropped.load(Ordering::SeqCst) == 1).then_some(())
                })
                .await;
                sys.shutdown().await;
            })
            .unwrap();
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

// ----- found by review ---------------------------------------------------------

#[test]
fn the_shutdown_drain_ends_waits_and_hands_the_held_messages_over() {
    let log = Log::default();
    let kept = log.clone();
    let stats = common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let a = sys.spawn(waiter(&kept)).unwrap();
            // Never opened: only the drain ends this wait.
            let gate = Gate::default();
            let probe_to = sys.spawn(|| Counter { n: 0 }).unwrap();
            a.send(Msg::Wait(gate.clone(), 1)).unwrap();
            for n in 1..=3 {
                a.send(Msg::Seen(n)).unwrap();
            }
            probe(&probe_to).await;
            assert_eq!(lines(&kept), ["wait 1"]);
            sys.shutdown().await;
            sys.stats()
        })
        .unwrap()
    });
    assert_eq!(lines(&log), ["wait 1", "seen 1", "seen 2", "seen 3"]);
    assert_eq!(stats.dead_letters, 0, "{stats:?}");
}

/// Restarts on its first failure; its second incarnation waits in
/// `started` for a gate that is never opened.
struct Restarted {
    log: Log,
    counter: ActorRef<CounterMsg>,
}

enum RestartedMsg {
    Go,
    Boom,
    Late,
    Seen,
}

impl Actor for Restarted {
    type Msg = RestartedMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        if ctx.incarnation() > 0 {
            ctx.wait(Gate::default().passed(), |()| RestartedMsg::Seen);
        }
    }
    fn handle(&mut self, msg: RestartedMsg, ctx: &mut Context<Self>) {
        match msg {
            RestartedMsg::Go => {
                // The first result fails the actor while the second wait's
                // ask runs a pass of this shard inside its poll.
                ctx.wait(std::future::ready(()), |()| RestartedMsg::Boom);
                let counter = self.counter;
                ctx.wait(async move { counter.ask(CounterMsg::Get).await }, |_| RestartedMsg::Late);
            }
            RestartedMsg::Boom => panic!("the first result fails"),
            RestartedMsg::Late => self.log.lock().unwrap().push("late".to_owned()),
            RestartedMsg::Seen => self.log.lock().unwrap().push("seen".to_owned()),
        }
    }
}

#[test]
fn a_wait_that_finishes_after_its_incarnation_restarted_reaches_no_one() {
    let log = Log::default();
    let kept = log.clone();
    let seen = log.clone();
    let (restarts, dropped, before_shutdown) = common::within(60, move || {
        let rt = common::runtime(1);
        rt.block_on(move |sys| async move {
            let counter = sys.spawn(|| Counter { n: 0 }).unwrap();
            let policy = RestartPolicy::new(Restart::Permanent);
            let a = sys
                .spawn_restarting(Placement::RoundRobin, policy, move || Restarted {
                    log: kept.clone(),
                    counter,
                })
                .unwrap();
            a.send(RestartedMsg::Go).unwrap();
            eventually("restarted", || async { (sys.stats().restarts == 1).then_some(()) }).await;
            // The new incarnation waits: this waits behind its wait.
            a.send(RestartedMsg::Seen).unwrap();
            probe(&counter).await;
            probe(&counter).await;
            let stats = sys.stats();
            let before_shutdown = lines(&seen);
            sys.shutdown().await;
            (
                stats.restarts,
                stats.dead_letters_of(DeadLetterCause::DroppedOnRestart),
                before_shutdown,
            )
        })
        .unwrap()
    });
    assert_eq!(restarts, 1);
    assert_eq!(before_shutdown, Vec::<String>::new(), "the new incarnation is still held");
    // The drain ends its wait and hands it what it held.
    assert_eq!(lines(&log), ["seen"], "the old incarnation's result reached no one");
    assert!(dropped <= 1);
}
