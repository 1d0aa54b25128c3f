//! A program task sending to an actor on another shard. Whatever batching
//! of publication the send paths do, nothing may wait for a publication
//! that never comes: what a task sent is out before it awaits, a task that
//! retries a full ring within one poll (with `send` or `try_send_many`)
//! makes progress, and a task that blocks its thread for the effect of a
//! message it just sent gets it.

mod common;

use std::collections::VecDeque;
use std::sync::mpsc;
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
    /// Answers on a plain channel, for a sender that blocks its thread.
    CountTo(mpsc::Sender<u64>),
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
            SinkMsg::CountTo(answer) => {
                let _ = answer.send(self.next);
            }
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

#[test]
fn a_task_retrying_try_send_many_in_one_poll_progresses() {
    within(120, || {
        let rt = runtime(16);
        let count = rt
            .block_on(|sys| async move {
                let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
                let mut items: VecDeque<SinkMsg> = (0..20_000).map(SinkMsg::Item).collect();
                while !items.is_empty() {
                    sink.try_send_many(&mut items).unwrap();
                    std::thread::yield_now();
                }
                sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap()
            })
            .unwrap();
        assert_eq!(count, 20_000);
        rt.shutdown();
    });
}

#[test]
fn a_task_blocking_for_the_effect_of_its_send_gets_it() {
    // Blocking a shard's thread is poor form (it stalls the shard), but it
    // must not deadlock on a message that was never published.
    within(120, || {
        let rt = runtime(1024);
        rt.block_on(|sys| async move {
            let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
            for round in 0..20u64 {
                sink.send(SinkMsg::Item(round)).unwrap();
                let (answer, counted) = mpsc::channel();
                sink.send(SinkMsg::CountTo(answer)).unwrap();
                let count = counted.recv_timeout(Duration::from_secs(30)).expect("published");
                assert_eq!(count, round + 1);
            }
        })
        .unwrap();
        rt.shutdown();
    });
}

/// A program's first poll once ran inside the pass that started it
/// (glommio's `spawn_local` polls a new task at once): its sends were
/// staged for the end of a pass that, with the program blocking shard 0's
/// thread, never came. A 1 ms sleep first avoided it.
#[test]
fn a_program_blocking_its_first_poll_still_reaches_another_shard() {
    within(30, || {
        let rt = runtime(1024);
        rt.block_on(|sys| async move {
            let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
            sink.send(SinkMsg::Item(0)).unwrap();
            let (answer, counted) = mpsc::channel();
            sink.send(SinkMsg::CountTo(answer)).unwrap();
            assert_eq!(counted.recv_timeout(Duration::from_secs(20)), Ok(1));
        })
        .unwrap();
        rt.shutdown();
    });
}
