//! A program task sending to an actor on another shard. Whatever batching
//! of publication the send paths do (a pass publishes once at its end),
//! nothing may wait for a publication that never comes: what a task sent is
//! out before it awaits, a task that retries a full ring within one poll
//! (with `send` or `try_send_many`) makes progress, and a task that blocks
//! its thread for the effect of a message it just sent gets it — from its
//! very first poll on.

mod common;

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

use common::within;
use whirl::{Actor, ActorRef, Context, Reply};

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

/// Runs `program` on shard 0 of a 2-shard runtime with rings of
/// `ring_capacity` slots, against a fresh sink on shard 1; then asks the
/// sink for its count (the ask follows the program's sends in their ring).
fn with_sink<F>(
    ring_capacity: usize,
    program: impl FnOnce(ActorRef<SinkMsg>) -> F + Send + 'static,
) -> u64
where
    F: std::future::Future<Output = ()> + 'static,
{
    within(120, move || {
        let rt = common::builder(2).ring_capacity(ring_capacity).build().expect("runtime");
        let count = rt
            .block_on(move |sys| async move {
                let sink = sys.spawn_on(1, || Sink { next: 0 }).unwrap();
                program(sink).await;
                sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap()
            })
            .unwrap();
        rt.shutdown();
        count
    })
}

#[test]
fn a_task_stream_arrives_whole_and_in_order() {
    let count = with_sink(64, |sink| async move {
        for n in 0..200_000 {
            sink.send_async(SinkMsg::Item(n)).await.unwrap();
        }
    });
    assert_eq!(count, 200_000);
}

#[test]
fn what_a_task_sent_is_out_before_it_awaits() {
    // A few messages, far below a publication batch, then a timer (not an
    // ask, which would travel behind them in the same ring): the sink must
    // have them all by the time the timer fires.
    let count = with_sink(1024, |sink| async move {
        let mut sent = 0;
        for round in 1..=50u64 {
            for _ in 0..round % 4 {
                sink.send(SinkMsg::Item(sent)).unwrap();
                sent += 1;
            }
            whirl::time::sleep(Duration::from_micros(50)).await;
            let count = sink.ask(SinkMsg::Count).timeout(Duration::from_secs(30)).await.unwrap();
            assert_eq!(count, sent, "round {round}");
        }
    });
    assert_eq!(count, (1..=50u64).map(|round| round % 4).sum::<u64>());
}

#[test]
fn a_task_retrying_a_full_ring_in_one_poll_progresses() {
    // The smallest ring, and a task that never yields to its executor while
    // it retries: the sink on the other core must still drain the ring.
    let count = with_sink(16, |sink| async move {
        for n in 0..20_000 {
            common::send_retrying(&sink, SinkMsg::Item(n));
        }
    });
    assert_eq!(count, 20_000);
}

#[test]
fn a_task_retrying_try_send_many_in_one_poll_progresses() {
    let count = with_sink(16, |sink| async move {
        let mut items: VecDeque<SinkMsg> = (0..20_000).map(SinkMsg::Item).collect();
        while !items.is_empty() {
            sink.try_send_many(&mut items).unwrap();
            std::thread::yield_now();
        }
    });
    assert_eq!(count, 20_000);
}

/// Blocking a shard's thread is poor form (it stalls the shard), but it
/// must not deadlock on a message that was never published. Round 0 runs
/// in the program's first poll: that poll once ran inside the pass that
/// started the program (glommio's `spawn_local` polls a new task at once),
/// so its sends waited for the end of a pass the blocked thread never
/// reached, and this test hung.
#[test]
fn a_task_blocking_for_the_effect_of_its_send_gets_it() {
    let count = with_sink(1024, |sink| async move {
        for round in 0..20u64 {
            sink.send(SinkMsg::Item(round)).unwrap();
            let (answer, counted) = mpsc::channel();
            sink.send(SinkMsg::CountTo(answer)).unwrap();
            let count = counted.recv_timeout(Duration::from_secs(30)).expect("published");
            assert_eq!(count, round + 1);
        }
    });
    assert_eq!(count, 20);
}
