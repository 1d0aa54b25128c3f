//! Calls from plain threads that block the calling thread: `send_blocking`
//! waits for room, `ask_blocking` for the answer or its timeout; both report
//! `Closed` after shutdown instead of hanging.

mod common;

use std::time::Duration;

use common::{within, Counter, CounterMsg};
use whirl::{Actor, AskError, Context, Reply, SendError};

#[test]
fn a_plain_thread_sends_through_a_full_queue_and_asks() {
    within(60, || {
        // A small injection queue and mailbox: the thread meets `Full`.
        let rt = common::builder(2).injector_capacity(16).mailbox_capacity(16).build().unwrap();
        let counter = rt
            .block_on(|sys| async move { sys.spawn_on(1, || Counter { n: 0 }).unwrap() })
            .unwrap();
        let sender = std::thread::spawn(move || {
            for _ in 0..10_000 {
                counter.send_blocking(CounterMsg::Add(1)).expect("never Full, not closed");
            }
            counter.ask_blocking(CounterMsg::Get, Duration::from_secs(30))
        });
        assert_eq!(sender.join().unwrap(), Ok(10_000), "nothing dropped");
        rt.shutdown();
    });
}

/// Never answers.
struct Mute;

impl Actor for Mute {
    type Msg = Reply<()>;
    fn handle(&mut self, reply: Reply<()>, _ctx: &mut Context<Self>) {
        std::mem::forget(reply);
    }
}

#[test]
fn ask_blocking_times_out_and_both_calls_report_closed_after_shutdown() {
    within(60, || {
        let rt = common::runtime(2);
        let (mute, counter) = rt
            .block_on(|sys| async move {
                (sys.spawn_on(0, || Mute).unwrap(), sys.spawn_on(1, || Counter { n: 0 }).unwrap())
            })
            .unwrap();
        let asked = std::thread::spawn(move || mute.ask_blocking(|r| r, Duration::from_millis(20)));
        assert_eq!(asked.join().unwrap(), Err(AskError::Timeout));
        rt.shutdown();
        let after = std::thread::spawn(move || {
            let sent = counter.send_blocking(CounterMsg::Add(1));
            (
                matches!(sent, Err(SendError::Closed(CounterMsg::Add(1)))),
                counter.ask_blocking(CounterMsg::Get, Duration::from_secs(30)),
            )
        });
        assert_eq!(after.join().unwrap(), (true, Err(AskError::Closed)));
    });
}

/// Calls `send_blocking` from a handler, which would stall its shard.
struct Blocker;

impl Actor for Blocker {
    type Msg = Reply<()>;
    fn handle(&mut self, reply: Reply<()>, ctx: &mut Context<Self>) {
        let _ = ctx.myself().send_blocking(reply);
    }
}

#[test]
fn blocking_calls_on_a_shard_of_the_runtime_panic_instead_of_stalling_it() {
    common::quiet_panics("ActorRef::send_blocking called on a shard");
    let rt = common::runtime(1);
    rt.block_on(|sys| async move {
        let blocker = sys.spawn_on(0, || Blocker).unwrap();
        // The panic fails the actor (holding the reply): the ask ends, the
        // shard goes on.
        assert_eq!(blocker.ask(|r| r).await, Err(AskError::Failed));
        sys.shutdown().await;
    })
    .unwrap();
}
