//! glommio's `shared_channel` between two pinned `LocalExecutor`s, the
//! cross-core channel glommio itself offers.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use glommio::channels::shared_channel;
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;

use super::Cores;
use crate::report::histogram;

/// Name printed in the table.
pub const NAME: &str = "glommio shared_channel";

fn executor(cpu: usize, spin: Duration) -> LocalExecutorBuilder {
    LocalExecutorBuilder::new(Placement::Fixed(cpu)).spin_before_park(spin)
}

/// One-way throughput of one run with `send().await` / `recv().await`, in
/// messages per second.
pub fn throughput(cores: Cores, capacity: usize, messages: u64, spin: Duration) -> u64 {
    let (tx, rx) = shared_channel::new_bounded::<u64>(capacity);
    let start = Arc::new(Barrier::new(2));
    let consumer_start = start.clone();
    let consumer = executor(cores.consumer, spin)
        .spawn(move || async move {
            let rx = rx.connect().await;
            consumer_start.wait();
            for expected in 0..messages {
                let v = rx.recv().await.expect("sender alive");
                assert_eq!(v, expected, "glommio reordered or lost an item");
            }
            Instant::now()
        })
        .expect("consumer executor");
    let producer = executor(cores.producer, spin)
        .spawn(move || async move {
            let tx = tx.connect().await;
            start.wait();
            let began = Instant::now();
            for i in 0..messages {
                tx.send(i).await.expect("receiver alive");
            }
            began
        })
        .expect("producer executor");
    let began = producer.join().expect("producer");
    let ended = consumer.join().expect("consumer");
    let seconds = ended.duration_since(began).as_secs_f64();
    (messages as f64 / seconds) as u64
}

/// Round trips through two shared channels; one sample per round trip, in
/// nanoseconds.
pub fn round_trip(cores: Cores, warmup: u64, samples: u64, spin: Duration) -> Histogram<u64> {
    let (ping_tx, ping_rx) = shared_channel::new_bounded::<u64>(16);
    let (pong_tx, pong_rx) = shared_channel::new_bounded::<u64>(16);
    let total = warmup + samples;
    let echo = executor(cores.consumer, spin)
        .spawn(move || async move {
            let ping_rx = ping_rx.connect().await;
            let pong_tx = pong_tx.connect().await;
            for _ in 0..total {
                let v = ping_rx.recv().await.expect("initiator alive");
                pong_tx.send(v).await.expect("initiator alive");
            }
        })
        .expect("echo executor");
    let initiator = executor(cores.producer, spin)
        .spawn(move || async move {
            let ping_tx = ping_tx.connect().await;
            let pong_rx = pong_rx.connect().await;
            let mut latencies = histogram(60_000_000_000);
            for i in 0..total {
                let began = Instant::now();
                ping_tx.send(i).await.expect("echo alive");
                let v = pong_rx.recv().await.expect("echo alive");
                let elapsed = began.elapsed().as_nanos() as u64;
                assert_eq!(v, i);
                if i >= warmup {
                    latencies.record(elapsed.max(1)).expect("in range");
                }
            }
            latencies
        })
        .expect("initiator executor");
    echo.join().expect("echo");
    initiator.join().expect("initiator")
}
