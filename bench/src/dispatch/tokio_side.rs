//! tokio's side: each actor is a task owning a bounded `mpsc` receiver
//! (capacity 1024, whirl's default mailbox bound), asks use a `oneshot`,
//! all on one current-thread runtime.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::{Rng, Size};
use crate::alloc::live_bytes;
use crate::dispatch::whirl_side::per;

const MAILBOX: usize = 1024;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime")
}

/// Thread ring: hops per second.
pub fn thread_ring(size: Size) -> f64 {
    runtime().block_on(async move {
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let channels: Vec<_> =
            (0..size.ring_actors).map(|_| mpsc::channel::<u64>(MAILBOX)).collect();
        let senders: Vec<_> = channels.iter().map(|(tx, _)| tx.clone()).collect();
        for (i, (_, mut rx)) in channels.into_iter().enumerate() {
            let next = senders[(i + 1) % senders.len()].clone();
            let done = done_tx.clone();
            tokio::spawn(async move {
                while let Some(left) = rx.recv().await {
                    if left == 0 {
                        let _ = done.send(()).await;
                    } else if next.send(left - 1).await.is_err() {
                        break;
                    }
                }
            });
        }
        let start = Instant::now();
        senders[0].send(size.ring_hops).await.expect("start");
        done_rx.recv().await.expect("finished");
        size.ring_hops as f64 / start.elapsed().as_secs_f64()
    })
}

enum BigMsg {
    Ping(u32),
    Pong,
}

/// Savina *big*: messages per second.
pub fn big(size: Size) -> f64 {
    runtime().block_on(async move {
        let (done_tx, mut done_rx) = mpsc::channel::<()>(size.big_actors);
        let channels: Vec<_> =
            (0..size.big_actors).map(|_| mpsc::channel::<BigMsg>(MAILBOX)).collect();
        let peers: Arc<Vec<_>> = Arc::new(channels.iter().map(|(tx, _)| tx.clone()).collect());
        let (go_tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut tasks = Vec::new();
        for (me, (_, mut rx)) in channels.into_iter().enumerate() {
            let peers = peers.clone();
            let done = done_tx.clone();
            let mut go = go_tx.subscribe();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng::new(me as u64);
                let mut left = size.big_pings;
                let _ = go.recv().await;
                let to = rng.below(peers.len());
                peers[to].send(BigMsg::Ping(me as u32)).await.expect("ping");
                while let Some(msg) = rx.recv().await {
                    match msg {
                        BigMsg::Ping(from) => {
                            peers[from as usize].send(BigMsg::Pong).await.expect("pong")
                        }
                        BigMsg::Pong => {
                            left -= 1;
                            if left == 0 {
                                done.send(()).await.expect("done");
                            } else {
                                let to = rng.below(peers.len());
                                peers[to].send(BigMsg::Ping(me as u32)).await.expect("ping");
                            }
                        }
                    }
                }
            }));
        }
        tokio::task::yield_now().await;
        let start = Instant::now();
        go_tx.send(()).expect("go");
        for _ in 0..size.big_actors {
            done_rx.recv().await.expect("finished");
        }
        let rate =
            (2 * size.big_pings * size.big_actors as u64) as f64 / start.elapsed().as_secs_f64();
        tasks.iter().for_each(|t| t.abort());
        rate
    })
}

enum CountMsg {
    Inc,
    Get(oneshot::Sender<u64>),
}

/// Savina count: messages per second into one task, then one ask.
pub fn count(size: Size) -> f64 {
    runtime().block_on(async move {
        let (tx, mut rx) = mpsc::channel::<CountMsg>(MAILBOX);
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(msg) = rx.recv().await {
                match msg {
                    CountMsg::Inc => n += 1,
                    CountMsg::Get(reply) => {
                        let _ = reply.send(n);
                    }
                }
            }
        });
        let start = Instant::now();
        for _ in 0..size.count_messages {
            tx.send(CountMsg::Inc).await.expect("send");
        }
        let (reply, answer) = oneshot::channel();
        tx.send(CountMsg::Get(reply)).await.expect("send");
        assert_eq!(answer.await.expect("answer"), size.count_messages);
        size.count_messages as f64 / start.elapsed().as_secs_f64()
    })
}

/// The program asks a task (mpsc + oneshot): nanoseconds per round trip.
pub fn program_ask(size: Size) -> Vec<u64> {
    runtime().block_on(async move {
        let (tx, mut rx) = mpsc::channel::<oneshot::Sender<()>>(MAILBOX);
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                let _ = reply.send(());
            }
        });
        let mut samples = Vec::with_capacity(size.ask_samples as usize);
        for _ in 0..size.ask_samples {
            let start = Instant::now();
            for _ in 0..size.asks_per_sample {
                let (reply, answer) = oneshot::channel();
                tx.send(reply).await.expect("send");
                answer.await.expect("answer");
            }
            samples.push(per(start.elapsed(), size.asks_per_sample));
        }
        samples
    })
}

/// An "actor" here: a task and its mailbox.
fn spawn_idle() -> mpsc::Sender<()> {
    let (tx, mut rx) = mpsc::channel::<()>(MAILBOX);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tx
}

/// Tasks with a mailbox spawned (and first polled) per second.
pub fn spawn_rate(size: Size) -> f64 {
    runtime().block_on(async move {
        let mut actors = Vec::with_capacity(size.spawns);
        let start = Instant::now();
        for _ in 0..size.spawns {
            actors.push(spawn_idle());
        }
        tokio::task::yield_now().await;
        size.spawns as f64 / start.elapsed().as_secs_f64()
    })
}

/// Bytes allocated per idle task with a mailbox.
pub fn bytes_per_actor(size: Size) -> f64 {
    runtime().block_on(async move {
        let mut actors = Vec::with_capacity(size.spawns);
        let before = live_bytes();
        for _ in 0..size.spawns {
            actors.push(spawn_idle());
        }
        tokio::task::yield_now().await;
        (live_bytes() - before) as f64 / size.spawns as f64
    })
}
