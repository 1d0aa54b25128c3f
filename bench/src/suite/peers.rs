//! The baselines: glommio's local and shared channels, tokio's mpsc on a
//! current-thread and on a multi-thread runtime. Each scenario mirrors a
//! whirl one: two tasks passing a value back and forth, or one streaming to
//! another.

use std::time::{Duration, Instant};

use glommio::channels::local_channel;
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;

use super::Scale;
use crate::report::{histogram, Samples};
use crate::suite::whirl_runtime::per_second;

/// Nanoseconds per hop: each sample times `hops_per_sample / 2` calls of
/// `round_trip` (two hops each) and records the mean; the first tenth of the
/// samples warms up.
async fn sample_hops(scale: Scale, mut round_trip: impl AsyncFnMut(u64)) -> Histogram<u64> {
    let mut hops = Samples::after_warm_up(scale.samples / 10);
    while hops.wanted() {
        let began = Instant::now();
        for v in 0..scale.hops_per_sample / 2 {
            round_trip(v).await;
        }
        hops.record(began.elapsed().as_nanos() as u64 / scale.hops_per_sample);
    }
    hops.into_histogram()
}

/// glommio `local_channel`: two tasks on one executor; nanoseconds per hop
/// (one send + one receive), each sample the mean over its hops.
pub fn glommio_local_hops(scale: Scale) -> Histogram<u64> {
    LocalExecutorBuilder::new(Placement::Fixed(0))
        .spawn(move || async move {
            let (to_b, from_a) = local_channel::new_bounded::<u64>(16);
            let (to_a, from_b) = local_channel::new_bounded::<u64>(16);
            let echo = glommio::spawn_local(async move {
                while let Some(v) = from_a.recv().await {
                    if to_a.send(v).await.is_err() {
                        break;
                    }
                }
            });
            let hops = sample_hops(scale, async |v| {
                to_b.send(v).await.expect("echo alive");
                from_b.recv().await.expect("echo alive");
            })
            .await;
            drop(to_b);
            echo.await;
            hops
        })
        .expect("executor")
        .join()
        .expect("join")
}

/// glommio `local_channel` throughput between two tasks on one executor:
/// one run, messages per second.
pub fn glommio_local_throughput(scale: Scale) -> u64 {
    LocalExecutorBuilder::new(Placement::Fixed(0))
        .spawn(move || async move {
            let (tx, rx) = local_channel::new_bounded::<u64>(1024);
            let began = Instant::now();
            let consumer = glommio::spawn_local(async move {
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                n
            });
            for v in 0..scale.messages {
                tx.send(v).await.expect("consumer alive");
            }
            drop(tx);
            assert_eq!(consumer.await, scale.messages);
            per_second(scale.messages, began.elapsed())
        })
        .expect("executor")
        .join()
        .expect("join")
}

fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime")
}

fn tokio_multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("tokio runtime")
}

/// tokio mpsc on a current-thread runtime: nanoseconds per hop.
pub fn tokio_local_hops(scale: Scale) -> Histogram<u64> {
    tokio_current_thread().block_on(async move {
        let (to_b, mut from_a) = tokio::sync::mpsc::channel::<u64>(16);
        let (to_a, mut from_b) = tokio::sync::mpsc::channel::<u64>(16);
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                let echo = tokio::task::spawn_local(async move {
                    while let Some(v) = from_a.recv().await {
                        if to_a.send(v).await.is_err() {
                            break;
                        }
                    }
                });
                let hops = sample_hops(scale, async |v| {
                    to_b.send(v).await.expect("echo alive");
                    from_b.recv().await.expect("echo alive");
                })
                .await;
                drop(to_b);
                echo.await.expect("echo");
                hops
            })
            .await
    })
}

/// One run of `scale.messages` through a bounded channel to the task
/// `spawn` starts: messages per second.
async fn tokio_stream(
    scale: Scale,
    spawn: impl Fn(tokio::sync::mpsc::Receiver<u64>) -> tokio::task::JoinHandle<u64>,
) -> u64 {
    let (tx, rx) = tokio::sync::mpsc::channel::<u64>(1024);
    let began = Instant::now();
    let consumer = spawn(rx);
    for v in 0..scale.messages {
        tx.send(v).await.expect("consumer alive");
    }
    drop(tx);
    assert_eq!(consumer.await.expect("consumer"), scale.messages);
    per_second(scale.messages, began.elapsed())
}

async fn count_all(mut rx: tokio::sync::mpsc::Receiver<u64>) -> u64 {
    let mut n = 0;
    while rx.recv().await.is_some() {
        n += 1;
    }
    n
}

/// tokio mpsc throughput between two tasks of a current-thread runtime:
/// one run, messages per second.
pub fn tokio_local_throughput(scale: Scale) -> u64 {
    let rt = tokio_current_thread();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, tokio_stream(scale, |rx| tokio::task::spawn_local(count_all(rx))))
}

/// tokio mpsc throughput from the main task to a spawned task of a
/// two-worker multi-thread runtime: one run, messages per second.
pub fn tokio_multi_throughput(scale: Scale) -> u64 {
    let rt = tokio_multi_thread();
    rt.block_on(async move {
        tokio::spawn(tokio_stream(scale, |rx| tokio::spawn(count_all(rx)))).await.expect("task")
    })
}

/// tokio mpsc round trip between two tasks of a two-worker multi-thread
/// runtime: nanoseconds per round trip.
pub fn tokio_multi_round_trip(scale: Scale) -> Histogram<u64> {
    let rt = tokio_multi_thread();
    rt.block_on(async move {
        let (to_b, mut from_a) = tokio::sync::mpsc::channel::<u64>(16);
        let (to_a, mut from_b) = tokio::sync::mpsc::channel::<u64>(16);
        let echo = tokio::spawn(async move {
            while let Some(v) = from_a.recv().await {
                if to_a.send(v).await.is_err() {
                    break;
                }
            }
        });
        let pinger = tokio::spawn(async move {
            let mut samples = Samples::after_warm_up(scale.samples);
            let mut i = 0;
            while samples.wanted() {
                let began = Instant::now();
                to_b.send(i).await.expect("echo alive");
                from_b.recv().await.expect("echo alive");
                samples.record(began.elapsed().as_nanos() as u64);
                i += 1;
            }
            samples.into_histogram()
        });
        let samples = pinger.await.expect("pinger");
        echo.await.expect("echo");
        samples
    })
}

/// A bare glommio task on an executor that parks at once, woken from
/// another pinned thread through its `Waker` every `gap`: one-way
/// nanoseconds from the wake call to the task running. The floor under any
/// runtime that wakes a parked glommio executor from another core.
pub fn glommio_foreign_wake(samples: u64, gap: Duration) -> Histogram<u64> {
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};

    /// The parked task's waker, and the time stamp it is woken with.
    type Slot = Arc<Mutex<(Option<Waker>, Option<Instant>)>>;
    let slot: Slot = Arc::new(Mutex::new((None, None)));
    let parked = slot.clone();
    let executor = LocalExecutorBuilder::new(Placement::Fixed(1))
        .spin_before_park(Duration::ZERO)
        .spawn(move || async move {
            let mut latencies = histogram(60_000_000_000);
            for _ in 0..samples {
                let sent = futures_lite::future::poll_fn(|cx| {
                    let mut slot = parked.lock().expect("slot");
                    match slot.1.take() {
                        Some(sent) => Poll::Ready(sent),
                        None => {
                            slot.0 = Some(cx.waker().clone());
                            Poll::Pending
                        }
                    }
                })
                .await;
                latencies.record((sent.elapsed().as_nanos() as u64).max(1)).expect("in range");
            }
            latencies
        })
        .expect("executor");
    // The waking side on its own pinned thread (pinning this one would
    // narrow the CPUs later scenarios may use).
    std::thread::spawn(move || {
        crate::affinity::pin_current_thread(0).expect("pin waker thread");
        for _ in 0..samples {
            std::thread::sleep(gap);
            // Wait until the task has parked again, then wake it.
            let waker = loop {
                let mut slot = slot.lock().expect("slot");
                if let Some(waker) = slot.0.take() {
                    slot.1 = Some(Instant::now());
                    break waker;
                }
                drop(slot);
                std::thread::yield_now();
            };
            waker.wake();
        }
    })
    .join()
    .expect("waker thread");
    executor.join().expect("join")
}

/// The `pipeline/batches` scenario on tokio (2 workers): the program sends
/// `messages` numbers down a bounded mpsc (whirl's default mailbox size) to
/// a worker task, which transforms each and sends it on to a logger task
/// that formats a line per number and writes to /dev/null. `batch` 0: each
/// task takes one message per `recv` and the logger writes per message;
/// otherwise both take up to `batch` per `recv_many` and the logger writes
/// once per call. Messages per second at the logger.
pub fn tokio_pipeline(messages: u64, batch: usize) -> u64 {
    use std::io::Write;
    use tokio::sync::mpsc::{channel, Receiver};

    /// Up to `batch` messages (one when `batch` is 0) into `into`; false
    /// once the channel is closed and empty.
    async fn take(rx: &mut Receiver<u64>, into: &mut Vec<u64>, batch: usize) -> bool {
        if batch == 0 {
            rx.recv().await.map(|n| into.push(n)).is_some()
        } else {
            rx.recv_many(into, batch).await > 0
        }
    }

    let capacity = whirl::DEFAULT_MAILBOX_CAPACITY;
    tokio_multi_thread().block_on(async move {
        let (to_worker, mut worker_rx) = channel::<u64>(capacity);
        let (to_logger, mut logger_rx) = channel::<u64>(capacity);
        let began = Instant::now();
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(batch.max(1));
            while take(&mut worker_rx, &mut taken, batch).await {
                for n in taken.drain(..) {
                    let n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
                    to_logger.send(n).await.expect("the logger runs");
                }
            }
        });
        let logger = tokio::spawn(async move {
            let mut out = std::fs::File::create("/dev/null").expect("/dev/null");
            let mut buffer = Vec::with_capacity(64 * 1024);
            let mut taken = Vec::with_capacity(batch.max(1));
            let mut lines = 0;
            while lines < messages && take(&mut logger_rx, &mut taken, batch).await {
                for n in taken.drain(..) {
                    writeln!(buffer, "value {n:016x}").expect("to memory");
                    lines += 1;
                }
                out.write_all(&buffer).expect("/dev/null takes it");
                buffer.clear();
            }
        });
        for n in 0..messages {
            to_worker.send(n).await.expect("the worker runs");
        }
        drop(to_worker);
        logger.await.expect("the logger finished");
        per_second(messages, began.elapsed())
    })
}
