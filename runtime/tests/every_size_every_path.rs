//! Every message size through every path, mixed in one run, with small and
//! odd capacities so that every queue pads, wraps and grows many times.
//!
//! Sizes: 0, 1, 7, 8, 16, 24, 32, 40, 48, 56, 64, 100, 200, 255 and 256
//! bytes (inline), 257, 1000 and 4096 bytes and a 16-byte-aligned type
//! (boxed). Paths: same-shard `send` (which may refuse) and `send_async`,
//! cross-shard `send_async`, `ctx.send` from a relay on the same shard and
//! across shards (its outbox holds messages back when the receiver is full),
//! `send_blocking` from plain threads through the injector, `send_many`,
//! `handle_batch`, asks and their replies, restarts that keep and that drop
//! the mailbox, and supervised children.
//!
//! Each receiver checks every message's bytes and that sequence numbers only
//! go up (one sender each, so that is per-sender order; with 8 bytes or
//! more, the whole number; fewer bytes hold its low bits, checked where no
//! message may be skipped). At the end, per path: handled + refused ==
//! sent where nothing may be lost, and over the paths with restarts:
//! handled + dead letters == sent. Cases come from proptest: capacities,
//! budgets and counts; a failure prints its case.

mod common;

/// How the tests' own panics begin: not printed.
const QUIET: &str = "quiet test panic";

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use whirl::{
    Actor, ActorRef, Batch, ChildSpec, Context, MailboxOnRestart, Placement, Reply, Restart,
    RestartPolicy, Runtime, SendError, SpawnOptions, Strategy as SupervisionStrategy, Supervisor,
    System,
};

// ----- messages ---------------------------------------------------------

/// A message of `N` bytes made from a sequence number: its low bytes (as
/// many as fit in 8), then bytes derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bytes<const N: usize>([u8; N]);

/// A message more aligned than a word: whirl boxes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(align(16))]
struct Aligned([u8; 16]);

/// What the checks need of a message.
trait Message: Send + Clone + PartialEq + std::fmt::Debug + 'static {
    /// Bits of the sequence number it holds (64 for 8 bytes or more).
    const SEQ_BITS: u32;
    fn new(seq: u64) -> Self;
    /// The sequence number's low `SEQ_BITS` bits.
    fn seq(&self) -> u64;
}

fn fill(bytes: &mut [u8], seq: u64) {
    let low = seq.to_le_bytes();
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = low.get(i).copied().unwrap_or((seq as u8).wrapping_mul(31).wrapping_add(i as u8));
    }
}

fn read_seq(bytes: &[u8]) -> u64 {
    let mut low = [0; 8];
    let n = bytes.len().min(8);
    low[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(low)
}

impl<const N: usize> Message for Bytes<N> {
    const SEQ_BITS: u32 = if N >= 8 { 64 } else { 8 * N as u32 };
    fn new(seq: u64) -> Self {
        let mut bytes = [0; N];
        fill(&mut bytes, seq);
        Self(bytes)
    }
    fn seq(&self) -> u64 {
        read_seq(&self.0)
    }
}

impl Message for Aligned {
    const SEQ_BITS: u32 = 64;
    fn new(seq: u64) -> Self {
        let mut bytes = [0; 16];
        fill(&mut bytes, seq);
        Self(bytes)
    }
    fn seq(&self) -> u64 {
        read_seq(&self.0)
    }
}

/// Calls `$m!(Type)` for every message type.
macro_rules! every_size {
    ($m:ident) => {
        $m!(Bytes<0>);
        $m!(Bytes<1>);
        $m!(Bytes<7>);
        $m!(Bytes<8>);
        $m!(Bytes<16>);
        $m!(Bytes<24>);
        $m!(Bytes<32>);
        $m!(Bytes<40>);
        $m!(Bytes<48>);
        $m!(Bytes<56>);
        $m!(Bytes<64>);
        $m!(Bytes<100>);
        $m!(Bytes<200>);
        $m!(Bytes<255>);
        $m!(Bytes<256>);
        $m!(Bytes<257>);
        $m!(Bytes<1000>);
        $m!(Bytes<4096>);
        $m!(Aligned);
    };
}

// ----- what receivers saw -------------------------------------------------

/// One receiver's counts, kept outside it so that they outlive restarts.
#[derive(Debug, Default)]
struct Tally {
    handled: AtomicU64,
    /// A message whose bytes were not the ones sent.
    damaged: AtomicU64,
    /// A message whose number did not follow the last one's as it must.
    out_of_order: AtomicU64,
    /// Messages seen, including those that failed (the restart paths).
    seen: AtomicU64,
    /// The last number seen, plus one (0: none yet).
    next: AtomicU64,
}

impl Tally {
    /// Checks `msg`. `gaps`: messages may be skipped (dropped on restart).
    fn check<T: Message>(&self, msg: &T, gaps: bool) {
        let seq = msg.seq();
        let mask = if T::SEQ_BITS == 64 { u64::MAX } else { (1u64 << T::SEQ_BITS) - 1 };
        if *msg != T::new(seq) && T::SEQ_BITS > 0 {
            self.damaged.fetch_add(1, Ordering::Relaxed);
        }
        let next = self.next.load(Ordering::Relaxed);
        let in_order = match (gaps, T::SEQ_BITS) {
            (_, 0) => true,
            (true, 64) => seq >= next,
            (true, _) => true,
            (false, _) => seq == next & mask,
        };
        if !in_order {
            self.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        self.next.store(if T::SEQ_BITS == 64 { seq + 1 } else { next + 1 }, Ordering::Relaxed);
        self.seen.fetch_add(1, Ordering::Relaxed);
    }
}

// ----- receivers ------------------------------------------------------------

/// Checks what it gets; with `fail_every`, fails on every such message
/// (which is then a dead letter).
struct Receiver<T> {
    tally: Arc<Tally>,
    gaps: bool,
    fail_every: u64,
    _t: std::marker::PhantomData<T>,
}

impl<T: Message> Receiver<T> {
    fn new(tally: &Arc<Tally>) -> Self {
        Self { tally: tally.clone(), gaps: false, fail_every: 0, _t: std::marker::PhantomData }
    }

    /// For a sender whose messages may be refused (`Full`): numbers skip.
    fn with_gaps(tally: &Arc<Tally>) -> Self {
        Self { gaps: true, ..Self::new(tally) }
    }

    fn failing(tally: &Arc<Tally>, every: u64, gaps: bool) -> Self {
        Self { gaps, fail_every: every, ..Self::new(tally) }
    }

    fn take(&mut self, msg: T) {
        self.tally.check(&msg, self.gaps);
        let seen = self.tally.seen.load(Ordering::Relaxed);
        if self.fail_every > 0 && seen % self.fail_every == 0 {
            panic!("{QUIET}");
        }
        self.tally.handled.fetch_add(1, Ordering::Relaxed);
    }
}

impl<T: Message> Actor for Receiver<T> {
    type Msg = T;
    fn handle(&mut self, msg: T, _: &mut Context<Self>) {
        self.take(msg);
    }
}

/// Takes its messages a batch at a time, one by one.
struct BatchReceiver<T>(Receiver<T>);

impl<T: Message> Actor for BatchReceiver<T> {
    type Msg = T;
    fn handle(&mut self, msg: T, _: &mut Context<Self>) {
        self.0.take(msg);
    }
    fn handle_batch(&mut self, first: T, rest: &mut Batch<'_, T>, _: &mut Context<Self>) {
        self.0.take(first);
        for msg in rest {
            self.0.take(msg);
        }
    }
}

/// Passes numbers on as messages with `ctx.send`.
struct Relay<T> {
    to: ActorRef<T>,
}

impl<T: Message> Actor for Relay<T> {
    type Msg = u64;
    fn handle(&mut self, seq: u64, ctx: &mut Context<Self>) {
        ctx.send(&self.to, T::new(seq)).expect("the receiver runs");
    }
}

/// Answers each message with itself.
struct Echo<T>(std::marker::PhantomData<T>);

impl<T: Message> Actor for Echo<T> {
    type Msg = (T, Reply<T>);
    fn handle(&mut self, (msg, reply): (T, Reply<T>), _: &mut Context<Self>) {
        reply.send(msg);
    }
}

// ----- senders --------------------------------------------------------------

/// The paths, each a lane per message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `ActorRef::send` on the receiver's shard; `Full` is a refusal.
    SameShardSend,
    SameShardSendAsync,
    CrossShardSendAsync,
    /// `ctx.send` from a relay on the receiver's shard.
    RelaySameShard,
    /// `ctx.send` from a relay on the other shard.
    RelayCrossShard,
    /// `send_blocking` from a plain thread.
    PlainThread,
    SendManySameShard,
    SendManyCrossShard,
    HandleBatch,
    Ask,
    RestartKeep,
    RestartDrop,
    Supervised,
}

const PATHS: [Path; 13] = [
    Path::SameShardSend,
    Path::SameShardSendAsync,
    Path::CrossShardSendAsync,
    Path::RelaySameShard,
    Path::RelayCrossShard,
    Path::PlainThread,
    Path::SendManySameShard,
    Path::SendManyCrossShard,
    Path::HandleBatch,
    Path::Ask,
    Path::RestartKeep,
    Path::RestartDrop,
    Path::Supervised,
];

impl Path {
    /// Whether messages may become dead letters on it.
    fn may_fail(self) -> bool {
        matches!(self, Path::RestartKeep | Path::RestartDrop | Path::Supervised)
    }
}

/// One lane's counts, kept by the test.
#[derive(Debug)]
struct Lane {
    path: Path,
    size: &'static str,
    tally: Arc<Tally>,
    sent: u64,
    refused: u64,
}

type Sending<'a> = Pin<Box<dyn Future<Output = bool> + 'a>>;

/// Sends one lane's messages, a few at a time, so lanes interleave.
trait LaneSender {
    /// Sends up to `k` more; false once all are sent.
    fn send_some(&mut self, k: u64) -> Sending<'_>;
    fn lane(&self) -> Lane;
}

/// A lane of the program's (shard 0's) task.
struct ProgramLane<T> {
    path: Path,
    to: To<T>,
    tally: Arc<Tally>,
    next: u64,
    total: u64,
    refused: u64,
}

/// Where a program lane sends.
enum To<T> {
    Receiver(ActorRef<T>),
    Relay(ActorRef<u64>),
    Echo(ActorRef<(T, Reply<T>)>),
}

impl<T: Message> LaneSender for ProgramLane<T> {
    fn send_some(&mut self, k: u64) -> Sending<'_> {
        Box::pin(async move {
            let Self { path, to, tally, next, total, refused } = self;
            let (path, seqs) = (*path, *next..(*next + k).min(*total));
            *next = seqs.end;
            match to {
                To::Receiver(to) if path == Path::SameShardSend => {
                    for seq in seqs {
                        match to.send(T::new(seq)) {
                            Ok(()) => {}
                            Err(SendError::Full(back)) => {
                                assert_eq!(back, T::new(seq), "Full hands the message back");
                                *refused += 1;
                            }
                            Err(e) => panic!("{path:?}: {e:?}"),
                        }
                    }
                }
                To::Receiver(to)
                    if matches!(path, Path::SendManySameShard | Path::SendManyCrossShard) =>
                {
                    let mut batch: VecDeque<T> = seqs.map(T::new).collect();
                    to.send_many(&mut batch).await.expect("send_many");
                    assert!(batch.is_empty());
                }
                To::Receiver(to) => {
                    for seq in seqs {
                        to.send_async(T::new(seq)).await.expect("send_async");
                    }
                }
                To::Relay(relay) => {
                    for seq in seqs {
                        relay.send_async(seq).await.expect("relay");
                    }
                }
                To::Echo(echo) => {
                    for seq in seqs {
                        let back = echo.ask(|r| (T::new(seq), r)).await.expect("an answer");
                        tally.check(&back, false);
                        tally.handled.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            *next < *total
        })
    }

    fn lane(&self) -> Lane {
        Lane {
            path: self.path,
            size: std::any::type_name::<T>(),
            tally: self.tally.clone(),
            sent: self.total,
            refused: self.refused,
        }
    }
}

/// Everything one case runs with.
#[derive(Debug, Clone)]
struct Case {
    mailbox: usize,
    ring: usize,
    injector: usize,
    budget: usize,
    /// Messages per lane.
    messages: u64,
    /// Messages each lane sends before the next lane's turn.
    chunk: u64,
    /// A failing receiver fails on every this-many-th message.
    fail_every: u64,
}

/// Spawns one lane's actors for message type `T` on `path`; plain-thread
/// lanes start their thread and push its handle to `threads`.
async fn lane_for<T: Message>(
    sys: &System,
    path: Path,
    case: &Case,
    threads: &Mutex<Vec<std::thread::JoinHandle<Lane>>>,
) -> Option<Box<dyn LaneSender>> {
    let tally = Arc::new(Tally::default());
    let restarting = |mailbox| {
        RestartPolicy::new(Restart::Permanent)
            .intensity(u32::MAX, Duration::from_secs(3600))
            .mailbox(mailbox)
    };
    let t = tally.clone();
    let fail_every = case.fail_every;
    let to = match path {
        Path::SameShardSend => sys.spawn_on(0, move || Receiver::<T>::with_gaps(&t)).unwrap(),
        Path::SameShardSendAsync | Path::SendManySameShard | Path::RelaySameShard => {
            sys.spawn_on(0, move || Receiver::<T>::new(&t)).unwrap()
        }
        Path::CrossShardSendAsync
        | Path::SendManyCrossShard
        | Path::RelayCrossShard
        | Path::PlainThread => sys.spawn_on(1, move || Receiver::<T>::new(&t)).unwrap(),
        Path::HandleBatch => {
            sys.spawn_on(1, move || BatchReceiver(Receiver::<T>::new(&t))).unwrap()
        }
        Path::Ask => {
            let echo = sys.spawn_on(1, || Echo::<T>(std::marker::PhantomData)).unwrap();
            return Some(program_lane(path, To::Echo(echo), tally, case));
        }
        Path::RestartKeep | Path::RestartDrop => {
            let (mailbox, gaps) = if path == Path::RestartKeep {
                (MailboxOnRestart::Keep, false)
            } else {
                (MailboxOnRestart::Drop, true)
            };
            let options = SpawnOptions::new(Placement::Shard(1)).restart(restarting(mailbox));
            sys.spawn_with_options(options, move || Receiver::<T>::failing(&t, fail_every, gaps))
                .unwrap()
        }
        Path::Supervised => {
            let spec = Supervisor::new(SupervisionStrategy::OneForOne)
                .intensity(u32::MAX, Duration::from_secs(3600))
                .child(
                    ChildSpec::new("receiver", move || {
                        Receiver::<T>::failing(&t, fail_every, false)
                    })
                    .on_shard(1),
                );
            let supervisor = sys.spawn_supervisor(Placement::Shard(0), spec).unwrap();
            supervisor.child::<T>("receiver").await.unwrap()
        }
    };
    let to = match path {
        Path::RelaySameShard => To::Relay(sys.spawn_on(0, move || Relay { to }).unwrap()),
        Path::RelayCrossShard => To::Relay(sys.spawn_on(0, move || Relay { to }).unwrap()),
        Path::PlainThread => {
            let (total, chunk) = (case.messages, case.chunk);
            let thread = std::thread::spawn(move || {
                for seq in 0..total {
                    to.send_blocking(T::new(seq)).expect("send_blocking");
                    if seq % chunk == 0 {
                        std::thread::yield_now();
                    }
                }
                Lane { path, size: std::any::type_name::<T>(), tally, sent: total, refused: 0 }
            });
            threads.lock().unwrap().push(thread);
            return None;
        }
        _ => To::Receiver(to),
    };
    Some(program_lane(path, to, tally, case))
}

fn program_lane<T: Message>(
    path: Path,
    to: To<T>,
    tally: Arc<Tally>,
    case: &Case,
) -> Box<dyn LaneSender> {
    Box::new(ProgramLane { path, to, tally, next: 0, total: case.messages, refused: 0 })
}

/// Runs one case: every lane, interleaved; then checks every count.
fn run_case(case: Case) {
    let causes = Arc::new(Mutex::new(BTreeMap::new()));
    let heard = causes.clone();
    let rt = Runtime::builder()
        .on_dead_letters(move |d| {
            *heard.lock().unwrap().entry(format!("{:?}", d.cause)).or_insert(0) += d.count
        })
        .shards(2)
        .pin(false)
        .spin_before_park(Duration::ZERO)
        .mailbox_capacity(case.mailbox)
        .ring_capacity(case.ring)
        .injector_capacity(case.injector)
        .turn_budget(case.budget)
        .shutdown_timeout(Duration::from_secs(120))
        .build()
        .expect("a runtime");
    let threads = Arc::new(Mutex::new(Vec::new()));
    let program_threads = threads.clone();
    let program_case = case.clone();
    let mut lanes = rt
        .block_on(move |sys| async move {
            let case = program_case;
            let mut senders = Vec::new();
            for path in PATHS {
                macro_rules! add {
                    ($t:ty) => {
                        if let Some(lane) =
                            lane_for::<$t>(&sys, path, &case, &program_threads).await
                        {
                            senders.push(lane);
                        }
                    };
                }
                every_size!(add);
            }
            // Round-robin over the lanes, `chunk` messages each, so entries
            // of every size share the run queues and rings.
            let mut active: Vec<usize> = (0..senders.len()).collect();
            while !active.is_empty() {
                let mut still = Vec::new();
                for i in active {
                    if senders[i].send_some(case.chunk).await {
                        still.push(i);
                    }
                }
                active = still;
            }
            senders.iter().map(|s| s.lane()).collect::<Vec<_>>()
        })
        .expect("the program runs");
    let handles: Vec<_> = threads.lock().unwrap().drain(..).collect();
    lanes.extend(handles.into_iter().map(|t| t.join().expect("a sending thread")));
    let report = rt.shutdown();
    assert!(!report.timed_out, "{case:?}: shutdown timed out: {report:?}");

    let mut failing_sent = 0;
    let mut failing_handled = 0;
    for lane in &lanes {
        let Lane { path, size, tally, sent, refused } = lane;
        let handled = tally.handled.load(Ordering::Relaxed);
        let what = format!("{case:?}: {path:?} with {size}");
        assert_eq!(tally.damaged.load(Ordering::Relaxed), 0, "{what}: damaged messages");
        assert_eq!(tally.out_of_order.load(Ordering::Relaxed), 0, "{what}: out of order");
        if path.may_fail() {
            failing_sent += sent;
            failing_handled += handled;
            assert!(handled + refused <= *sent, "{what}: {handled} handled of {sent}");
        } else {
            assert_eq!(handled + refused, *sent, "{what}: handled + refused");
        }
    }
    let causes = causes.lock().unwrap().clone();
    let failures = ["DroppedOnRestart".to_string(), "FailedHandling".to_string()];
    assert!(causes.keys().all(|c| failures.contains(c)), "{case:?}: dead letters {causes:?}");
    assert_eq!(
        failing_handled + report.dead_letters,
        failing_sent,
        "{case:?}: handled + dead letters == sent on the restart paths ({report:?}, {causes:?})"
    );
    let lanes_run = lanes.len();
    assert_eq!(lanes_run, PATHS.len() * 19, "every path with every size");
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(1usize), Just(2), Just(3), Just(5), Just(7), Just(64)],
        prop_oneof![Just(16usize), Just(32), Just(64)],
        prop_oneof![Just(1usize), Just(3), Just(7), Just(64)],
        prop_oneof![Just(1usize), Just(3), Just(64)],
        60u64..240,
        1u64..9,
        prop_oneof![Just(7u64), Just(13), Just(97)],
    )
        .prop_map(|(mailbox, ring, injector, budget, messages, chunk, fail_every)| Case {
            mailbox,
            ring,
            injector,
            budget,
            messages,
            chunk,
            fail_every,
        })
}

proptest! {
    // Each case builds a runtime and sends ~40 k messages of 19 sizes over
    // 13 paths; a few cases cover the capacities, proptest shrinks a
    // failure to its smallest.
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_size_every_path_nothing_lost(case in case()) {
        common::quiet_panics(QUIET);
        run_case(case);
    }
}

/// The smallest capacities at once, with many messages: every queue and
/// ring wraps hundreds of times.
#[test]
fn smallest_capacities_many_messages() {
    common::quiet_panics(QUIET);
    run_case(Case {
        mailbox: 1,
        ring: 16,
        injector: 1,
        budget: 1,
        messages: 600,
        chunk: 5,
        fail_every: 13,
    });
}
