//! A program task streaming to an actor on another shard: its sends stage
//! their entries and each poll of the task publishes them together. Nothing
//! may wait for a publication that never comes: what a task sent is out
//! before it awaits, and a task that retries a full ring within one poll
//! makes progress.

mod common;

use std::time::Duration;

use common::within;
use whirl::{Actor, Context, Reply, Runtime, SendError};

/// Checks that its numbers come in order, and counts them.
struct Sink {
    next: u64,
}

enum SinkMsg {
    Item(u64),
    Count(Reply<u64>),
}

impl Actor for Sink {
    type Msg = SinkMsg;
    fn handle(&mut self, msg: SinkMsg, _ctx: &mut Context<Self>) {
        match msg {
            SinkMsg::Item(n) => {
                assert_eq!(n, self.next, "out of order");
                self.next += 1;
            }
            SinkMsg::Count(reply) => reply.send(self.next),
        }
    }
}

fn runtime(ring_capacity: usize) -> Runtime {
    Runtime::builder()
        .shards(2)
        .ring_capacity(ring_capacity)
        .spin_before_park(Duration::ZERO)
        .build()
        .expect("runtime")
}

#[test]
fn a_task_stream_arrives_whole_and_in_order() {
    within(120, || {
        let rt = runtime(64);
        let count = rt
            .block_on(|sys| async move {
                let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
                for n in 0..200_000 {
                    sink.send_async(SinkMsg::Item(n)).await.unwrap();
                }
                sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap()
            })
            .unwrap();
        assert_eq!(count, 200_000);
        rt.shutdown();
    });
}

#[test]
fn what_a_task_sent_is_out_before_it_awaits() {
    // A few messages, far below the publication batch, then a timer: the
    // poll ends there, and must publish them (else the ask, staged behind
    // them in the same ring, would never be published either, and time out).
    within(120, || {
        let rt = runtime(1024);
        rt.block_on(|sys| async move {
            let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
            let mut sent = 0;
            for round in 1..=50u64 {
                for _ in 0..round % 4 {
                    sink.send(SinkMsg::Item(sent)).unwrap();
                    sent += 1;
                }
                // Not an ask: a timer, so only the end of the poll publishes.
                whirl::time::sleep(Duration::from_micros(50)).await;
                let count =
                    sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap();
                assert_eq!(count, sent, "round {round}");
            }
        })
        .unwrap();
        rt.shutdown();
    });
}

#[test]
fn a_task_retrying_a_full_ring_in_one_poll_progresses() {
    // The smallest ring, and a task that never yields while it retries:
    // a full ring publishes what the task staged, so the receiver drains.
    within(120, || {
        let rt = runtime(16);
        let count = rt
            .block_on(|sys| async move {
                let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
                for n in 0..20_000 {
                    let mut msg = SinkMsg::Item(n);
                    loop {
                        match sink.send(msg) {
                            Ok(()) => break,
                            Err(SendError::Full(back)) => {
                                msg = back;
                                std::thread::yield_now();
                            }
                            Err(SendError::Closed(_)) => panic!("the sink stopped"),
                        }
                    }
                }
                sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap()
            })
            .unwrap();
        assert_eq!(count, 20_000);
        rt.shutdown();
    });
}
