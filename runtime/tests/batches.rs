//! Sending many messages at once: `try_send_many` moves what fits and
//! leaves the rest with the caller, in order; `send_many` waits for room.

mod common;
#[path = "support/counting.rs"]
mod counting;

use std::collections::VecDeque;
use std::time::Duration;

use whirl::{Actor, ActorRef, Context, Reply, SendError};

/// Checks that numbers come in order, and counts them.
struct InOrder {
    next: u64,
}

enum InOrderMsg {
    Num(u64),
    Seen(Reply<u64>),
}

impl Actor for InOrder {
    type Msg = InOrderMsg;
    fn handle(&mut self, msg: InOrderMsg, _ctx: &mut Context<Self>) {
        match msg {
            InOrderMsg::Num(n) => {
                assert_eq!(n, self.next, "in order, none twice, none lost");
                self.next += 1;
            }
            InOrderMsg::Seen(reply) => reply.send(self.next),
        }
    }
}

const COUNT: u64 = 20_000;

fn numbers(range: std::ops::Range<u64>) -> VecDeque<InOrderMsg> {
    range.map(InOrderMsg::Num).collect()
}

/// `try_send_many` once (some fit, the rest stay, in order), then
/// `send_many` for the rest; the actor sees every number once, in order.
async fn batch_to(to: ActorRef<InOrderMsg>) {
    let mut msgs = numbers(0..COUNT);
    let sent = to.try_send_many(&mut msgs).unwrap() as u64;
    assert!(sent < COUNT, "a bounded mailbox or ring takes only part of it");
    assert_eq!(msgs.len() as u64, COUNT - sent);
    assert!(matches!(msgs.front(), Some(InOrderMsg::Num(n)) if *n == sent), "the rest, in order");
    to.send_many(&mut msgs).await.unwrap();
    assert!(msgs.is_empty());
    let seen = to.ask(InOrderMsg::Seen).timeout(Duration::from_secs(30)).await.unwrap();
    assert_eq!(seen, COUNT);
}

#[test]
fn a_batch_goes_in_order_to_an_actor_on_the_same_shard_and_on_another() {
    common::within(120, || {
        let rt = common::builder(2).mailbox_capacity(64).ring_capacity(64).build().unwrap();
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            for shard in [here, 1 - here] {
                batch_to(sys.spawn_on(shard, || InOrder { next: 0 }).unwrap()).await;
            }
            sys.shutdown().await;
        })
        .unwrap();
    });
}

#[test]
fn a_plain_thread_sends_a_batch_and_keeps_what_did_not_fit() {
    common::within(120, || {
        let rt = common::builder(2).injector_capacity(16).build().unwrap();
        let to = rt.block_on(|sys| async move { sys.spawn_on(1, || InOrder { next: 0 }).unwrap() });
        let to = to.unwrap();
        let sender = std::thread::spawn(move || {
            let mut msgs = numbers(0..COUNT);
            while !msgs.is_empty() {
                let left = msgs.len();
                let sent = to.try_send_many(&mut msgs).unwrap();
                assert_eq!(msgs.len(), left - sent);
                if sent == 0 {
                    std::thread::yield_now();
                }
            }
            to.ask_blocking(InOrderMsg::Seen, Duration::from_secs(30))
        });
        assert_eq!(sender.join().unwrap(), Ok(COUNT));
        rt.shutdown();
    });
}

#[test]
fn a_batch_to_a_stopped_actor_is_refused_whole() {
    let rt = common::runtime(2);
    rt.block_on(|sys| async move {
        let here = sys.current_shard().unwrap();
        for shard in [here, 1 - here] {
            let to = sys.spawn_on(shard, || InOrder { next: 0 }).unwrap();
            to.stop();
            common::eventually("the actor stopped", || async { (!to.is_alive()).then_some(()) })
                .await;
            let mut msgs = numbers(0..10);
            assert!(matches!(to.try_send_many(&mut msgs), Err(SendError::Closed(()))));
            assert!(matches!(to.send_many(&mut msgs).await, Err(SendError::Closed(()))));
            assert_eq!(msgs.len(), 10, "every message handed back");
        }
        sys.shutdown().await;
    })
    .unwrap();
}

/// `rounds` batches of 256 numbers to each of `targets`, continuing from
/// `next`, through the reused `msgs`.
async fn send_rounds(
    targets: [ActorRef<InOrderMsg>; 2],
    next: &mut [u64; 2],
    msgs: &mut VecDeque<InOrderMsg>,
    rounds: u32,
) {
    for _ in 0..rounds {
        for (i, to) in targets.into_iter().enumerate() {
            msgs.extend((next[i]..next[i] + 256).map(InOrderMsg::Num));
            next[i] += 256;
            to.send_many(msgs).await.unwrap();
        }
    }
}

#[test]
fn batches_allocate_nothing_on_a_shard_in_steady_state() {
    common::within(120, || {
        let rt = common::builder(2).build().unwrap();
        let allocations = rt
            .block_on(|sys| async move {
                let here = sys.current_shard().unwrap();
                let local = sys.spawn_on(here, || InOrder { next: 0 }).unwrap();
                let remote = sys.spawn_on(1 - here, || InOrder { next: 0 }).unwrap();
                // One reused queue of 256, refilled from the next numbers.
                let mut msgs = VecDeque::with_capacity(256);
                let mut next = [0u64; 2];
                let targets = [local, remote];
                send_rounds(targets, &mut next, &mut msgs, 20).await; // warm up
                counting::start();
                send_rounds(targets, &mut next, &mut msgs, 200).await;
                let allocations = counting::stop();
                for to in [local, remote] {
                    let seen = to.ask(InOrderMsg::Seen).await.unwrap();
                    assert_eq!(seen, 220 * 256);
                }
                sys.shutdown().await;
                allocations
            })
            .unwrap();
        assert_eq!(allocations, 0, "allocations on the sending shard's thread");
    });
}
