//! A task that keeps yielding on a shard (a program, a piped future) must
//! not hold back what other shards send to that shard's actors. (glommio notices a wake from
//! another thread only when its task queue runs dry or its 100 ms preempt
//! timer fires; a yielding task keeps the queue busy.)

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_lite::future::yield_now;
use whirl::{Actor, ActorRef, Context};

/// Raises its flag on any message.
struct Flag(Arc<AtomicBool>);

impl Actor for Flag {
    type Msg = ();
    fn handle(&mut self, (): (), _ctx: &mut Context<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Forwards each message to the flag (from a handler: published by its
/// shard's pass, across the ring).
struct Relay(ActorRef<()>);

impl Actor for Relay {
    type Msg = ();
    fn handle(&mut self, (): (), ctx: &mut Context<Self>) {
        ctx.send(&self.0, ()).expect("room");
    }
}

/// A flag on shard `here` and a relay to it on the other shard: a message
/// to the relay raises the flag after crossing the ring back.
fn flag_behind_relay(sys: &whirl::System, here: usize) -> (Arc<AtomicBool>, ActorRef<()>) {
    let raised = Arc::new(AtomicBool::new(false));
    let flag = sys
        .spawn_on(here, {
            let raised = raised.clone();
            move || Flag(raised.clone())
        })
        .expect("spawn");
    let relay = sys.spawn_on(1 - here, move || Relay(flag)).expect("spawn");
    (raised, relay)
}

#[test]
fn a_yielding_program_does_not_hold_back_messages_from_other_shards() {
    let rt = common::runtime(2);
    let yields = rt
        .block_on(|sys| async move {
            let here = sys.current_shard().expect("on a shard");
            let (raised, relay) = flag_behind_relay(&sys, here);
            // Let this shard's loop park: nothing to do here for a while.
            for _ in 0..100 {
                yield_now().await;
            }
            relay.send(()).expect("room");
            let mut yields = 0u64;
            // 20 000 yields take a few milliseconds: far less than glommio's
            // preempt timer, which alone would let the wake-up in.
            while !raised.load(Ordering::SeqCst) && yields < 20_000 {
                yield_now().await;
                yields += 1;
            }
            yields
        })
        .expect("block_on");
    assert!(yields < 20_000, "the message from the other shard waited behind a yielding task");
    rt.shutdown();
}

/// Pipes a future that yields until the flag is raised (at most 20 000
/// times), then answers how many yields it took.
struct Waiter {
    raised: Arc<AtomicBool>,
    answer: Option<whirl::Reply<u64>>,
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
                let raised = self.raised.clone();
                ctx.pipe(
                    async move {
                        let mut yields = 0u64;
                        while !raised.load(Ordering::SeqCst) && yields < 20_000 {
                            yield_now().await;
                            yields += 1;
                        }
                        yields
                    },
                    WaiterMsg::Waited,
                );
            }
            WaiterMsg::Waited(yields) => self.answer.take().expect("asked").send(yields),
        }
    }
}

#[test]
fn a_yielding_piped_future_does_not_hold_back_messages_from_other_shards() {
    let rt = common::runtime(2);
    let yields = rt
        .block_on(|sys| async move {
            let here = sys.current_shard().expect("on a shard");
            let (raised, relay) = flag_behind_relay(&sys, here);
            let waiter = sys
                .spawn_on(here, move || Waiter { raised: raised.clone(), answer: None })
                .expect("spawn");
            let waited = waiter.ask(WaiterMsg::Wait);
            // The piped future spins on this shard while the program waits.
            relay.send(()).expect("room");
            waited.await.expect("answered")
        })
        .expect("block_on");
    assert!(yields < 20_000, "the message from the other shard waited behind a yielding task");
    rt.shutdown();
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
    const MESSAGES: u64 = 200;
    let rt = common::builder(2).ring_capacity(16).build().unwrap();
    let (yields, total) = rt
        .block_on(|sys| async move {
            let here = sys.current_shard().expect("on a shard");
            let raised = Arc::new(AtomicBool::new(false));
            let waiter = sys
                .spawn_on(here, {
                    let raised = raised.clone();
                    move || Waiter { raised: raised.clone(), answer: None }
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
    assert!(yields < 20_000, "a sender waited for room behind a yielding task");
    rt.shutdown();
}
