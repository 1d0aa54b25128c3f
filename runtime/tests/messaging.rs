//! Sending: bounded mailboxes, closed actors, dead letters, ordering.

mod common;

use std::time::Duration;

use common::{runtime, Counter, CounterMsg};
use whirl::{Actor, ActorRef, Context, Reply, Runtime, SendError, SpawnError};

/// Records every number it gets, in order; answers with the list.
struct Recorder {
    seen: Vec<u64>,
}

enum RecorderMsg {
    Num(u64),
    Take(Reply<Vec<u64>>),
}

impl Actor for Recorder {
    type Msg = RecorderMsg;
    fn handle(&mut self, msg: RecorderMsg, _ctx: &mut Context<Self>) {
        match msg {
            RecorderMsg::Num(n) => self.seen.push(n),
            RecorderMsg::Take(reply) => reply.send(std::mem::take(&mut self.seen)),
        }
    }
}

/// A runtime of `shards` shards (unpinned past the machine's cores) whose
/// rings hold the fewest slots allowed, so a test fills them quickly.
fn small_rings(shards: usize) -> Runtime {
    Runtime::builder()
        .shards(shards)
        .pin(shards <= 2)
        .spin_before_park(Duration::ZERO)
        .ring_capacity(16)
        .build()
        .unwrap()
}

#[test]
fn full_mailbox_hands_the_message_back_and_send_async_waits() {
    let rt = Runtime::builder()
        .shards(2)
        .spin_before_park(Duration::ZERO)
        .mailbox_capacity(4)
        .build()
        .unwrap();
    rt.block_on(|sys| async move {
        // Same shard as this task: the actor cannot run until we yield.
        let here = sys.current_shard().unwrap();
        let r = sys.spawn_on(here, || Recorder { seen: Vec::new() }).unwrap();
        for i in 0..4 {
            r.send(RecorderMsg::Num(i)).unwrap();
        }
        match r.send(RecorderMsg::Num(4)) {
            Err(SendError::Full(RecorderMsg::Num(4))) => {}
            other => panic!("expected Full(Num(4)), got {:?}", other.map_err(|e| e.to_string())),
        }
        // send_async waits for the actor to make room.
        for i in 4..20 {
            r.send_async(RecorderMsg::Num(i)).await.unwrap();
        }
        let seen = r.ask(RecorderMsg::Take).await.unwrap();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn full_ring_hands_the_message_back() {
    let rt = small_rings(2);
    rt.block_on(|sys| async move {
        let there = 1 - sys.current_shard().unwrap();
        let r = sys.spawn_on(there, || Recorder { seen: Vec::new() }).unwrap();
        // Fill the ring faster than the other shard can drain it; the first
        // refusal hands the message back.
        let mut refused = None;
        for i in 0..10_000u64 {
            if let Err(e) = r.send(RecorderMsg::Num(i)) {
                assert!(e.is_full());
                let RecorderMsg::Num(n) = e.into_inner() else { unreachable!() };
                refused = Some(n);
                break;
            }
        }
        let refused = refused.expect("a two-slot ring fills up");
        let seen = r.ask(RecorderMsg::Take).await.unwrap();
        assert_eq!(seen, (0..refused).collect::<Vec<_>>(), "nothing lost before the refusal");
        sys.shutdown().await;
    })
    .unwrap();
}

/// Holds its shard's thread in its first handler until the gate opens, then
/// records numbers like a [`Recorder`].
struct Gated {
    seen: Vec<u64>,
}

enum GatedMsg {
    Wait(std::sync::mpsc::Receiver<()>),
    Num(u64),
    Take(Reply<Vec<u64>>),
}

impl Actor for Gated {
    type Msg = GatedMsg;
    fn handle(&mut self, msg: GatedMsg, _ctx: &mut Context<Self>) {
        match msg {
            GatedMsg::Wait(gate) => gate.recv().expect("the test opens the gate"),
            GatedMsg::Num(n) => self.seen.push(n),
            GatedMsg::Take(reply) => reply.send(std::mem::take(&mut self.seen)),
        }
    }
}

/// Counts how many times the future inside is polled.
struct CountPolls<'a, F> {
    inner: std::pin::Pin<Box<F>>,
    polls: &'a std::cell::Cell<u32>,
}

impl<F: std::future::Future> std::future::Future for CountPolls<'_, F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn send_async_across_a_full_ring_sleeps_until_the_receiver_takes_entries() {
    let rt = small_rings(2);
    rt.block_on(|sys| async move {
        let there = 1 - sys.current_shard().unwrap();
        let r = sys.spawn_on(there, || Gated { seen: Vec::new() }).unwrap();
        let (open, gate) = std::sync::mpsc::channel();
        r.send(GatedMsg::Wait(gate)).unwrap();
        // The other shard is held (or not started): fill the ring.
        let sent = fill(r);
        // The wait starts (the ring is full), then the gate opens: the
        // receiver drains the ring, and the waiting send is woken once.
        let polls = std::cell::Cell::new(0);
        let send = CountPolls { inner: Box::pin(r.send_async(GatedMsg::Num(sent))), polls: &polls };
        let opener = async { open.send(()).unwrap() };
        let (result, ()) = futures_lite::future::zip(send, opener).await;
        result.unwrap();
        // A retry per wake-up, not a poll loop: the first poll finds the
        // ring full, the wake-up comes when the receiver freed words. (With
        // backoff by yields and timers this was dozens.)
        assert!(polls.get() <= 3, "send_async was polled {} times", polls.get());
        let seen = r.ask(GatedMsg::Take).await.unwrap();
        assert_eq!(seen, (0..=sent).collect::<Vec<_>>());
        sys.shutdown().await;
    })
    .unwrap();
}

/// Sends to `r` until its ring is full; returns how many went in.
fn fill(r: ActorRef<GatedMsg>) -> u64 {
    let mut sent = 0;
    while r.send(GatedMsg::Num(sent)).is_ok() {
        sent += 1;
        assert!(sent < 1_000, "a 16-word ring fills up");
    }
    sent
}

#[test]
fn a_task_waiting_for_room_in_two_rings_is_woken_by_either() {
    common::within(60, || {
        let rt = small_rings(3);
        rt.block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            let (b_shard, c_shard) = ((here + 1) % 3, (here + 2) % 3);
            let b = sys.spawn_on(b_shard, || Gated { seen: Vec::new() }).unwrap();
            let c = sys.spawn_on(c_shard, || Gated { seen: Vec::new() }).unwrap();
            let (open_b, gate_b) = std::sync::mpsc::channel();
            let (open_c, gate_c) = std::sync::mpsc::channel();
            b.send(GatedMsg::Wait(gate_b)).unwrap();
            c.send(GatedMsg::Wait(gate_c)).unwrap();
            let (to_b, to_c) = (fill(b), fill(c));
            // One task waits on both full rings at once. Only B's gate
            // opens; C's opens once the send to B went through, so the wait
            // for B must end on B's room alone.
            let send_b = async {
                b.send_async(GatedMsg::Num(to_b)).await.unwrap();
                open_c.send(()).unwrap();
            };
            let send_c = async { c.send_async(GatedMsg::Num(to_c)).await.unwrap() };
            let open = async { open_b.send(()).unwrap() };
            futures_lite::future::zip(futures_lite::future::zip(send_b, send_c), open).await;
            assert_eq!(b.ask(GatedMsg::Take).await.unwrap(), (0..=to_b).collect::<Vec<_>>());
            assert_eq!(c.ask(GatedMsg::Take).await.unwrap(), (0..=to_c).collect::<Vec<_>>());
            sys.shutdown().await;
        })
        .unwrap();
    });
}

/// Every send to an actor known to be stopped reports `Closed` with the
/// message, wherever it is sent from: nothing is counted as a dead letter.
#[test]
fn a_stopped_actor_reports_closed_to_every_sender() {
    let rt = runtime(2);
    rt.block_on(|sys| async move {
        let here = sys.current_shard().unwrap();
        let local = sys.spawn_on(here, || Counter { n: 0 }).unwrap();
        let remote = sys.spawn_on(1 - here, || Counter { n: 0 }).unwrap();
        for c in [local, remote] {
            c.send(CounterMsg::Add(1)).unwrap();
            c.send(CounterMsg::Stop).unwrap();
            // The ask fails once the actor is gone: the Reply is dropped
            // unanswered, or the question itself is refused.
            assert_eq!(c.ask(CounterMsg::Get).await, Err(whirl::AskError::Closed));
            assert!(!c.is_alive());
        }
        let before = sys.dead_letters();
        let closed = |sent: Result<(), SendError<CounterMsg>>| {
            matches!(sent, Err(SendError::Closed(CounterMsg::Add(7))))
        };
        for c in [local, remote] {
            // This shard: the actor's own, and the other one.
            assert!(closed(c.send(CounterMsg::Add(7))), "send from shard {here}");
            assert!(closed(c.send_async(CounterMsg::Add(7)).await), "send_async");
            // A plain thread.
            let from_thread = std::thread::spawn(move || {
                (closed(c.send(CounterMsg::Add(7))), closed(c.send_blocking(CounterMsg::Add(7))))
            });
            assert_eq!(from_thread.join().unwrap(), (true, true), "from a plain thread");
        }
        // A round trip to the other shard orders after anything it counted.
        let probe = sys.spawn_on(1 - here, || Counter { n: 0 }).unwrap();
        probe.ask(CounterMsg::Get).await.unwrap();
        assert_eq!(sys.dead_letters(), before, "refused, not dead letters");
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn spawning_on_a_missing_shard_is_an_error() {
    let rt = runtime(2);
    let err = rt.system().spawn_on(7, || Counter { n: 0 }).unwrap_err();
    assert_eq!(err, SpawnError::NoSuchShard { shard: 7, shards: 2 });
    assert!(err.to_string().contains("0..2"), "{err}");
}

fn ordered(from_shard: usize, to_shard: usize) {
    let rt = runtime(2);
    rt.block_on(move |sys| async move {
        // A sender actor on `from_shard` streams to a recorder on `to_shard`.
        struct Sender;
        enum SenderMsg {
            Go(ActorRef<RecorderMsg>, u64, Reply<()>),
        }
        impl Actor for Sender {
            type Msg = SenderMsg;
            fn handle(&mut self, msg: SenderMsg, ctx: &mut Context<Self>) {
                let SenderMsg::Go(to, count, done) = msg;
                assert_eq!(ctx.shard_id(), to.shard().min(ctx.shard_id()).max(ctx.shard_id()));
                for i in 0..count {
                    // Full is possible on a small ring; this test's ring is
                    // large enough for the burst.
                    to.send(RecorderMsg::Num(i)).unwrap();
                }
                done.send(());
            }
        }
        let recorder = sys.spawn_on(to_shard, || Recorder { seen: Vec::new() }).unwrap();
        let sender = sys.spawn_on(from_shard, || Sender).unwrap();
        sender.ask(|done| SenderMsg::Go(recorder, 900, done)).await.unwrap();
        let seen = recorder.ask(RecorderMsg::Take).await.unwrap();
        assert_eq!(seen, (0..900).collect::<Vec<_>>());
        sys.shutdown().await;
    })
    .unwrap();
}

#[test]
fn same_shard_messages_arrive_in_send_order() {
    ordered(0, 0);
    ordered(1, 1);
}

#[test]
fn cross_shard_messages_arrive_in_send_order() {
    ordered(0, 1);
    ordered(1, 0);
}

#[test]
fn sends_from_a_thread_outside_the_runtime() {
    let rt = runtime(2);
    let sys = rt.system();
    let r = sys.spawn_on(1, || Recorder { seen: Vec::new() }).unwrap();
    let sender = std::thread::spawn(move || {
        for i in 0..1000 {
            common::send_retrying(&r, RecorderMsg::Num(i));
        }
        // An ask from outside the runtime, on any executor.
        futures_lite::future::block_on(r.ask(RecorderMsg::Take)).unwrap()
    });
    let seen = sender.join().unwrap();
    assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    rt.shutdown();
}

#[test]
fn the_dead_letter_hook_hears_of_every_dead_letter_once() {
    use std::sync::{Arc, Mutex};
    let heard: Arc<Mutex<Vec<whirl::DeadLetters>>> = Arc::default();
    let log = heard.clone();
    let rt = Runtime::builder()
        .shards(2)
        .spin_before_park(Duration::ZERO)
        .on_dead_letters(move |letters| log.lock().unwrap().push(letters))
        .build()
        .unwrap();
    let total = rt
        .block_on(|sys| async move {
            for shard in 0..2 {
                let c = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
                c.send(CounterMsg::Stop).unwrap();
                for k in 0..3 {
                    // Queued behind the stop: dead letters on the actor's shard.
                    let _ = c.send(CounterMsg::Add(k));
                }
                assert_eq!(c.ask(CounterMsg::Get).await, Err(whirl::AskError::Closed));
            }
            let report = sys.shutdown().await;
            report.dead_letters
        })
        .unwrap();
    let heard = heard.lock().unwrap();
    assert!(total > 0);
    assert_eq!(heard.iter().map(|l| l.count).sum::<u64>(), total, "{heard:?}");
    assert!(heard.iter().all(|l| l.cause == whirl::DeadLetterCause::Stopped), "{heard:?}");
    assert!(heard.iter().any(|l| l.shard == 0) && heard.iter().any(|l| l.shard == 1));
}
