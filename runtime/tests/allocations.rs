//! The steady state of sending, handling, asking and replying, of awaiting
//! a future per message and of taking a stream's items, allocates nothing
//! on whirl's paths: a counting global allocator proves it. (One test
//! per binary: the counter is process-wide.)
//!
//! glommio itself allocates when its reactor goes to the kernel (re-arming
//! its preemption timer, submitting the wait) and when one thread wakes
//! another's task (its cross-thread wake queue). Those happen per idle
//! cycle of an executor, not per message; the allocator tells them apart by
//! the call stack and the test reports them separately.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use common::{Counter, CounterMsg};
use whirl::{Actor, ActorRef, Context, Reply};

struct Counting;

/// Whether allocations are being classified (the measured window).
static WATCHING: AtomicBool = AtomicBool::new(false);
/// Allocations in glommio's reactor or cross-thread wake path.
static GLOMMIO: AtomicU64 = AtomicU64::new(0);
/// Allocations anywhere else: whirl's paths, the test's own.
static OTHER: AtomicU64 = AtomicU64::new(0);
/// The first few call stacks of `OTHER` allocations, for the failure message.
static OTHER_STACKS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while classifying, so the classifier's own allocations are not
    /// classified.
    static CLASSIFYING: Cell<bool> = const { Cell::new(false) };
}

fn classify() {
    if !WATCHING.load(Ordering::Relaxed) || CLASSIFYING.with(Cell::get) {
        return;
    }
    CLASSIFYING.with(|c| c.set(true));
    let stack = Backtrace::force_capture().to_string();
    let in_glommio = ["glommio::reactor::", "glommio::parking::", "glommio::sys::"]
        .iter()
        .any(|frame| stack.contains(frame));
    // The test's own thread, parked in `block_on` on a std channel (whose
    // waker list may grow when it wakes spuriously), is not a whirl path.
    let waiting_caller = stack.contains("Runtime::block_on") && stack.contains("std::sync::mpmc::");
    if waiting_caller {
        // Not counted.
    } else if in_glommio {
        GLOMMIO.fetch_add(1, Ordering::Relaxed);
    } else {
        OTHER.fetch_add(1, Ordering::Relaxed);
        let mut stacks = OTHER_STACKS.lock().unwrap();
        if stacks.len() < 3 {
            stacks.push(stack);
        }
    }
    CLASSIFYING.with(|c| c.set(false));
}

// SAFETY: defers every call to the system allocator unchanged; it only
// classifies allocations on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        classify();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        classify();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// An actor whose messages are as large as whirl carries inline (256 bytes):
/// they must travel in the run queue and the rings without a box.
struct Wide {
    n: u64,
}

#[allow(clippy::large_enum_variant)] // wide on purpose: it must travel unboxed
enum WideMsg {
    Add([u64; 31]),
    Get(Reply<u64>),
}

impl Actor for Wide {
    type Msg = WideMsg;
    fn handle(&mut self, msg: WideMsg, _ctx: &mut Context<Self>) {
        match msg {
            WideMsg::Add(words) => self.n += words[0],
            WideMsg::Get(reply) => reply.send(self.n),
        }
    }
}

/// The mailbox bound: a round's 500 sends and its ask fit.
const BOUND: u64 = 512;

/// Awaits a future for each `Go` (`Context::wait`): the result comes back
/// as `Went`, counted.
struct Awaiter {
    went: u64,
}

enum AwaiterMsg {
    Go,
    Went,
    Get(Reply<u64>),
}

impl Actor for Awaiter {
    type Msg = AwaiterMsg;
    fn handle(&mut self, msg: AwaiterMsg, ctx: &mut Context<Self>) {
        match msg {
            AwaiterMsg::Go => {
                assert!(ctx.wait(futures_lite::future::yield_now(), |()| AwaiterMsg::Went));
            }
            AwaiterMsg::Went => self.went += 1,
            AwaiterMsg::Get(reply) => reply.send(self.went),
        }
    }
}

/// A stream of ones that the test lets out `n` at a time.
#[derive(Clone, Default)]
struct Feed(Arc<Mutex<(u64, Option<Waker>)>>);

impl Feed {
    fn give(&self, n: u64) {
        let waker = {
            let mut feed = self.0.lock().unwrap();
            feed.0 += n;
            feed.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn stream(&self) -> impl futures_lite::Stream<Item = u64> + 'static {
        let feed = self.clone();
        futures_lite::stream::poll_fn(move |cx| {
            let mut feed = feed.0.lock().unwrap();
            if feed.0 > 0 {
                feed.0 -= 1;
                Poll::Ready(Some(1))
            } else {
                feed.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Sums the items of a [`Feed`] attached as a stream (`Context::add_stream`).
struct Summer {
    feed: Feed,
    sum: u64,
}

enum SummerMsg {
    Item(u64),
    Get(Reply<u64>),
}

impl Actor for Summer {
    type Msg = SummerMsg;
    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.add_stream(self.feed.stream(), SummerMsg::Item, || SummerMsg::Item(0));
    }
    fn handle(&mut self, msg: SummerMsg, _ctx: &mut Context<Self>) {
        match msg {
            SummerMsg::Item(n) => self.sum += n,
            SummerMsg::Get(reply) => reply.send(self.sum),
        }
    }
}

/// Allocations on whirl's paths, in glommio's, and wake-ups of a parked
/// shard, over 200 rounds of `round` (after 20 rounds of warm-up); with
/// what the last round returned.
async fn watch_rounds<T, F: std::future::Future<Output = T>>(
    sys: &whirl::System,
    mut round: impl FnMut() -> F,
) -> (T, (u64, u64, u64)) {
    for _ in 0..20 {
        round().await;
    }
    GLOMMIO.store(0, Ordering::Relaxed);
    OTHER.store(0, Ordering::Relaxed);
    let wakes = sys.stats().wakes;
    WATCHING.store(true, Ordering::Relaxed);
    let mut last = round().await;
    for _ in 1..200 {
        last = round().await;
    }
    WATCHING.store(false, Ordering::Relaxed);
    let counted =
        (OTHER.load(Ordering::Relaxed), GLOMMIO.load(Ordering::Relaxed), sys.stats().wakes - wakes);
    (last, counted)
}

/// [`watch_rounds`] of `sends` sends and one ask to `to` a round. A
/// round's sends must fit the ring between two shards.
async fn measure<M: Send + 'static>(
    sys: &whirl::System,
    to: ActorRef<M>,
    sends: u64,
    add: fn() -> M,
    get: fn(Reply<u64>) -> M,
) -> (u64, u64, u64) {
    let (total, counted) = watch_rounds(sys, || async {
        for _ in 0..sends {
            assert!(to.send(add()).is_ok(), "the mailbox and the ring have room");
        }
        to.ask(get).await.unwrap()
    })
    .await;
    assert_eq!(total, 220 * sends);
    counted
}

/// [`watch_rounds`] of a stream: each round lets out `items` items and
/// asks until the actor has them all.
async fn measure_stream(
    sys: &whirl::System,
    feed: &Feed,
    to: ActorRef<SummerMsg>,
    items: u64,
) -> (u64, u64, u64) {
    let mut expected = 0;
    let round = || {
        expected += items;
        feed.give(items);
        let want = expected;
        async move {
            // An ask of an actor of this shard may be answered without a
            // yield (its pass runs in this task): yield, so that the
            // stream's task runs.
            while to.ask(SummerMsg::Get).await.unwrap() != want {
                futures_lite::future::yield_now().await;
            }
        }
    };
    watch_rounds(sys, round).await.1
}

#[test]
fn steady_state_messaging_allocates_nothing() {
    assert_eq!(std::mem::size_of::<WideMsg>(), 256, "the widest inline message");
    let rt = common::builder(2).mailbox_capacity(BOUND as usize).build().unwrap();
    let report = rt
        .block_on(|sys| async move {
            let here = sys.current_shard().unwrap();
            let mut report = Vec::new();
            for (place, shard) in [("same shard", here), ("cross shard", 1 - here)] {
                let c = sys.spawn_on(shard, || Counter { n: 0 }).unwrap();
                let counted = measure(&sys, c, 500, || CounterMsg::Add(1), CounterMsg::Get).await;
                report.push((format!("{place}, 8-byte messages"), counted));
                let w = sys.spawn_on(shard, || Wide { n: 0 }).unwrap();
                let wide = measure(&sys, w, 100, || WideMsg::Add([1; 31]), WideMsg::Get).await;
                report.push((format!("{place}, 256-byte messages"), wide));
            }
            let a = sys.spawn_on(here, || Awaiter { went: 0 }).unwrap();
            let waits = measure(&sys, a, 100, || AwaiterMsg::Go, AwaiterMsg::Get).await;
            report.push(("a wait per message (Context::wait)".to_owned(), waits));
            let feed = Feed::default();
            let f = feed.clone();
            // More items a round than its mailbox holds.
            let s = sys.spawn_on(here, move || Summer { feed: f.clone(), sum: 0 }).unwrap();
            let streamed = measure_stream(&sys, &feed, s, 2 * BOUND).await;
            report.push(("a stream's items (Context::add_stream)".to_owned(), streamed));
            sys.shutdown().await;
            report
        })
        .unwrap();
    for (name, (whirl, glommio, wakes)) in &report {
        println!(
            "{name}: 200 rounds of sends and an ask: {whirl} allocations on whirl's paths, \
             {glommio} in glommio's reactor and wake queue, {wakes} wake-ups of a parked shard"
        );
    }
    let stacks = OTHER_STACKS.lock().unwrap().join("\n----\n");
    for (name, (whirl, _, _)) in &report {
        assert_eq!(*whirl, 0, "{name}: whirl's paths allocated:\n{stacks}");
    }
}
