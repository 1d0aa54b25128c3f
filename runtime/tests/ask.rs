//! Asks: answers, timeouts, dropped replies, stopped actors.

mod common;

use std::time::Duration;

use common::{runtime, Counter, CounterMsg};
use whirl::{Actor, AskError, Context, Reply};

/// Keeps the replies it gets and never answers (until told to drop them).
struct Silent {
    held: Vec<Reply<u64>>,
}

enum SilentMsg {
    Hold(Reply<u64>),
    DropAll,
}

impl Actor for Silent {
    type Msg = SilentMsg;
    fn handle(&mut self, msg: SilentMsg, _ctx: &mut Context<Self>) {
        match msg {
            SilentMsg::Hold(reply) => self.held.push(reply),
            SilentMsg::DropAll => self.held.clear(),
        }
    }
}

#[test]
fn ask_answers_from_both_shards() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let c = sys.spawn_on(shard, || Counter { n: 41 }).unwrap();
            c.send(CounterMsg::Add(1)).unwrap();
            for _ in 0..100 {
                assert_eq!(c.ask(CounterMsg::Get).await, Ok(42));
            }
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn unanswered_ask_times_out_and_says_so() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let s = sys.spawn_on(shard, || Silent { held: Vec::new() }).unwrap();
            let result = s.ask(SilentMsg::Hold).timeout(Duration::from_millis(5)).await;
            assert_eq!(result, Err(AskError::Timeout));
            assert_eq!(AskError::Timeout.to_string(), "ask timed out");
            // The late answer (here: a dropped reply) goes nowhere harmful.
            s.send(SilentMsg::DropAll).unwrap();
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn dropped_reply_fails_the_ask_with_closed() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let s = sys.spawn_on(shard, || Silent { held: Vec::new() }).unwrap();
            let pending = s.ask(SilentMsg::Hold);
            s.send(SilentMsg::DropAll).unwrap();
            assert_eq!(pending.await, Err(AskError::Closed));
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn asking_a_stopped_actor_fails_with_closed() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        for shard in 0..2 {
            let c = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
            c.stop();
            assert_eq!(c.ask(CounterMsg::Get).await, Err(AskError::Closed));
        }
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn ask_from_outside_the_runtime_with_a_timeout() {
    let rt = runtime(2);
    let sys = rt.system();
    let c = sys.spawn_on(1, || Counter { n: 7 }).unwrap();
    let s = sys.spawn_on(0, || Silent { held: Vec::new() }).unwrap();
    assert_eq!(futures_lite::future::block_on(c.ask(CounterMsg::Get)), Ok(7));
    let timed_out =
        futures_lite::future::block_on(s.ask(SilentMsg::Hold).timeout(Duration::from_millis(5)));
    assert_eq!(timed_out, Err(AskError::Timeout));
    rt.shutdown();
}
