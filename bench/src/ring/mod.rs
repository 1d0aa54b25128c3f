//! The ring benchmark: one producer thread and one consumer thread pinned to
//! different cores, moving `u64`s through each peer's SPSC queue.

pub mod glommio_channel;
mod peers;

use std::sync::{Arc, Barrier};
use std::time::Instant;

use hdrhistogram::Histogram;

pub use self::peers::{CrossbeamArrayQueue, Rtrb, Whirl};
use crate::affinity::pin_current_thread;
use crate::report::histogram;

/// A single-producer single-consumer queue of `u64` to measure.
pub trait SpscQueue {
    /// Name printed in the table.
    const NAME: &'static str;
    /// Whether the queue has a batch API of its own (else batch rows are
    /// not reported for it).
    const HAS_BATCH: bool;
    /// The sending end.
    type Tx: Send + 'static;
    /// The receiving end.
    type Rx: Send + 'static;

    /// A queue holding `capacity` items.
    fn channel(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Pushes one item; false when full.
    fn push(tx: &mut Self::Tx, value: u64) -> bool;
    /// Pops one item, if any.
    fn pop(rx: &mut Self::Rx) -> Option<u64>;
    /// Pushes a prefix of `items` with the queue's batch API; returns its
    /// length.
    fn push_batch(tx: &mut Self::Tx, items: &[u64]) -> usize;
    /// Pops up to `out.len()` items with the queue's batch API; returns how
    /// many.
    fn pop_batch(rx: &mut Self::Rx, out: &mut [u64]) -> usize;
}

/// Where the two threads run.
#[derive(Debug, Clone, Copy)]
pub struct Cores {
    /// The producer's (and round-trip initiator's) CPU.
    pub producer: usize,
    /// The consumer's (and echo's) CPU.
    pub consumer: usize,
}

/// One-way throughput of one run of `messages` items, in batches of `batch`
/// (1 = the per-item API), in messages per second. Callers interleave the
/// runs of different peers so that the machine's noise hits them alike.
pub fn throughput<Q: SpscQueue>(cores: Cores, capacity: usize, batch: usize, messages: u64) -> u64 {
    let (mut tx, mut rx) = Q::channel(capacity);
    let start = Arc::new(Barrier::new(2));
    let consumer_start = start.clone();
    let consumer = std::thread::spawn(move || {
        pin_current_thread(cores.consumer).expect("pin consumer");
        let mut buffer = vec![0u64; batch];
        let mut expected = 0;
        consumer_start.wait();
        while expected < messages {
            if batch == 1 {
                if let Some(v) = Q::pop(&mut rx) {
                    assert_eq!(v, expected, "{} reordered or lost an item", Q::NAME);
                    expected += 1;
                }
            } else {
                let n = Q::pop_batch(&mut rx, &mut buffer);
                for &v in &buffer[..n] {
                    assert_eq!(v, expected, "{} reordered or lost an item", Q::NAME);
                    expected += 1;
                }
            }
        }
        Instant::now()
    });
    pin_current_thread(cores.producer).expect("pin producer");
    start.wait();
    let began = Instant::now();
    let mut next = 0;
    let mut chunk = vec![0u64; batch];
    while next < messages {
        if batch == 1 {
            if Q::push(&mut tx, next) {
                next += 1;
            }
        } else {
            let len = (messages - next).min(batch as u64) as usize;
            for (i, slot) in chunk[..len].iter_mut().enumerate() {
                *slot = next + i as u64;
            }
            next += Q::push_batch(&mut tx, &chunk[..len]) as u64;
        }
    }
    let ended = consumer.join().expect("consumer thread");
    drop(tx);
    let seconds = ended.duration_since(began).as_secs_f64();
    (messages as f64 / seconds) as u64
}

/// Round-trip latency: the initiator pushes a value into one queue, the echo
/// thread pops it and pushes it into a second queue, the initiator pops it.
/// Each of `samples` round trips (after `warmup` unrecorded ones) is one
/// sample, in nanoseconds.
pub fn round_trip<Q: SpscQueue>(cores: Cores, warmup: u64, samples: u64) -> Histogram<u64> {
    let (mut ping_tx, mut ping_rx) = Q::channel(16);
    let (mut pong_tx, mut pong_rx) = Q::channel(16);
    let total = warmup + samples;
    let echo = std::thread::spawn(move || {
        pin_current_thread(cores.consumer).expect("pin echo");
        let mut seen = 0;
        while seen < total {
            if let Some(v) = Q::pop(&mut ping_rx) {
                while !Q::push(&mut pong_tx, v) {}
                seen += 1;
            }
        }
    });
    pin_current_thread(cores.producer).expect("pin initiator");
    let mut latencies = histogram(60_000_000_000);
    for i in 0..total {
        let began = Instant::now();
        while !Q::push(&mut ping_tx, i) {}
        let v = loop {
            if let Some(v) = Q::pop(&mut pong_rx) {
                break v;
            }
        };
        let elapsed = began.elapsed().as_nanos() as u64;
        assert_eq!(v, i, "{} returned the wrong value", Q::NAME);
        if i >= warmup {
            latencies.record(elapsed.max(1)).expect("in range");
        }
    }
    echo.join().expect("echo thread");
    latencies
}
