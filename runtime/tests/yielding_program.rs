//! A task that keeps yielding on a shard (a program, a piped future) must
//! not hold back what other shards send to that shard's actors. (glommio notices a wake from
//! another thread only when its task queue runs dry or its 100 ms preempt
//! timer fires; a yielding task keeps the queue busy.)
//!
//! Yields are counted from the moment the relay on the other shard has
//! handled its message (so a busy machine that delays the other shard's
//! thread does not count against the shard under test), up to
//! [`YIELD_BOUND`]: about 20 ms of yields in either build, a fifth of
//! glommio's preempt timer.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_lite::future::yield_now;
use whirl::{Actor, ActorRef, Context};

/// The most yields a task may make after the message was sent before the
/// test calls it held back (a yield costs ~1 µs in debug builds, ~0.1 µs
/// optimised).
const YIELD_BOUND: u64 = if cfg!(debug_assertions) { 20_000 } else { 200_000 };

/// Raises its flag on any message.
struct Flag(Arc<AtomicBool>);

impl Actor for Flag {
    type Msg = ();
    fn handle(&mut self, (): (), _ctx: &mut Context<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Forwards each message to the flag (from a handler: published by its
/// shard's pass, across the ring), and says it did.
struct Relay(ActorRef<()>, Arc<AtomicBool>);

impl Actor for Relay {
    type Msg = ();
    fn handle(&mut self, (): (), ctx: &mut Context<Self>) {
        ctx.send(&self.0, ()).expect("room");
        self.1.store(true, Ordering::SeqCst);
    }
}

/// Yields until `raised`, counting the yields made once `relayed` (at most
/// `bound`).
async fn yield_until(raised: &AtomicBool, relayed: &AtomicBool, bound: u64) -> u64 {
    let mut yields = 0u64;
    while !raised.load(Ordering::SeqCst) && yields < bound {
        yield_now().await;
        yields += u64::from(relayed.load(Ordering::SeqCst));
    }
    yields
}

/// A flag on shard `here` and a relay to it on the other shard: a message
/// to the relay raises the flag after crossing the ring back. Returns the
/// flag, whether the relay has passed the message on, and the relay.
fn flag_behind_relay(
    sys: &whirl::System,
    here: usize,
) -> (Arc<AtomicBool>, Arc<AtomicBool>, ActorRef<()>) {
    let raised = Arc::new(AtomicBool::new(false));
    let relayed = Arc::new(AtomicBool::new(false));
    let flag = sys
        .spawn_on(here, {
            let raised = raised.clone();
            move || Flag(raised.clone())
        })
        .expect("spawn");
    let said = relayed.clone();
    let relay = sys.spawn_on(1 - here, move || Relay(flag, said.clone())).expect("spawn");
    (raised, relayed, relay)
}

#[test]
fn a_yielding_program_does_not_hold_back_messages_from_other_shards() {
    // A relay that never passes its message on would make the loop
    // below wait for ever: a hang fails the test instead.
    common::within(120, || {
        let rt = common::runtime(2);
        let yields = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().expect("on a shard");
                let (raised, relayed, relay) = flag_behind_relay(&sys, here);
                // Let this shard's loop park: nothing to do here for a while.
                for _ in 0..100 {
                    yield_now().await;
                }
                relay.send(()).expect("room");
                yield_until(&raised, &relayed, YIELD_BOUND).await
            })
            .expect("block_on");
        assert!(
            yields < YIELD_BOUND,
            "the message from the other shard waited behind a yielding task"
        );
        rt.shutdown();
    });
}

/// Pipes a future that yields until the flag is raised (see
/// [`yield_until`]), then answers how many yields it took.
struct Waiter {
    raised: Arc<AtomicBool>,
    /// The most yields (see [`yield_until`]).
    bound: u64,
    /// When yields start to count (see [`yield_until`]).
    relayed: Arc<AtomicBool>,
    answer: Option<whirl::Reply<u64>>,
}

impl Waiter {
    fn new(raised: &Arc<AtomicBool>, relayed: &Arc<AtomicBool>, bound: u64) -> Self {
        Self { raised: raised.clone(), bound, relayed: relayed.clone(), answer: None }
    }
}

enum WaiterMsg {
    Wait(whirl::Reply<u64>),
    Waited(u64),
}

impl Actor for Waiter {
    type Msg = WaiterMsg;
    fn handle(&mut self, msg: WaiterMsg, ctx: &mut Context<Self>) {
        match msg {
            WaiterMsg::Wait(answer) => {
                self.answer = Some(answer);
                let (raised, relayed, bound) =
                    (self.raised.clone(), self.relayed.clone(), self.bound);
                ctx.pipe(
                    async move { yield_until(&raised, &relayed, bound).await },
                    WaiterMsg::Waited,
                );
            }
            WaiterMsg::Waited(yields) => self.answer.take().expect("asked").send(yields),
        }
    }
}

#[test]
fn a_yielding_piped_future_does_not_hold_back_messages_from_other_shards() {
    // A relay that never passes its message on would make the loop
    // below wait for ever: a hang fails the test instead.
    common::within(120, || {
        let rt = common::runtime(2);
        let yields = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().expect("on a shard");
                let (raised, relayed, relay) = flag_behind_relay(&sys, here);
                let waiter = sys
                    .spawn_on(here, move || Waiter::new(&raised, &relayed, YIELD_BOUND))
                    .expect("spawn");
                let waited = waiter.ask(WaiterMsg::Wait);
                // The piped future spins on this shard while the program waits.
                relay.send(()).expect("room");
                waited.await.expect("answered")
            })
            .expect("block_on");
        assert!(
            yields < YIELD_BOUND,
            "the message from the other shard waited behind a yielding task"
        );
        rt.shutdown();
    });
}

/// Counts what it gets; answers with the count.
struct Count(u64);

enum CountMsg {
    One,
    Total(whirl::Reply<u64>),
}

impl Actor for Count {
    type Msg = CountMsg;
    fn handle(&mut self, msg: CountMsg, _ctx: &mut Context<Self>) {
        match msg {
            CountMsg::One => self.0 += 1,
            CountMsg::Total(reply) => reply.send(self.0),
        }
    }
}

/// Room in a full ring to the other shard wakes a parked loop too, not only
/// new messages: a sender waiting for room on a shard where a piped future
/// keeps yielding gets it without waiting for glommio's preempt timer.
#[test]
fn room_in_a_full_ring_reaches_a_sender_beside_a_yielding_task() {
    // A relay that never passes its message on would make the loop
    // below wait for ever: a hang fails the test instead.
    common::within(120, || {
        const MESSAGES: u64 = 200;
        let rt = common::builder(2).ring_capacity(16).build().unwrap();
        let (yields, total) = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().expect("on a shard");
                let raised = Arc::new(AtomicBool::new(false));
                let waiter = sys
                    .spawn_on(here, {
                        let raised = raised.clone();
                        // Every yield counts: the sends start at once.
                        let relayed = Arc::new(AtomicBool::new(true));
                        move || Waiter::new(&raised, &relayed, 10 * YIELD_BOUND)
                    })
                    .expect("spawn");
                let count = sys.spawn_on(1 - here, || Count(0)).expect("spawn");
                let waited = waiter.ask(WaiterMsg::Wait);
                // The piped future yields on this shard while this program sends
                // more than the ring holds, waiting for room again and again.
                for _ in 0..MESSAGES {
                    count.send_async(CountMsg::One).await.expect("runs");
                }
                raised.store(true, Ordering::SeqCst);
                let yields = waited.await.expect("answered");
                (yields, count.ask(CountMsg::Total).await.expect("answered"))
            })
            .expect("block_on");
        assert_eq!(total, MESSAGES);
        // Every yield counts here, while 200 sends wait on the other shard's
        // thread 13 times over: ten times the bound (~200 ms) leaves room for
        // that thread's delays on a loaded machine, and is still well under the
        // 13 preempt-timer waits (~0.6 s on average) a missed wake would cost.
        assert!(yields < 10 * YIELD_BOUND, "a sender waited for room behind a yielding task");
        rt.shutdown();
    });
}
